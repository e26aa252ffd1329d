//! Random operation sequences keep the accounting consistent: every byte
//! reserved or used by a user is reserved or used in exactly one bucket, and
//! the indexes match the maps they index.

use super::*;
use crate::jobs::reaper::reap_expired_uploads;
use crate::jobs::reconcile::{finish_delete, lease_due};
use crate::logic::admin::apply_bucket_state;
use crate::logic::commit::{begin_commit, finish_commit};
use crate::logic::files::delete_file_impl;
use crate::logic::upload::{abort_upload_impl, get_upload_token_impl};
use crate::model::uploads::SessionState;
use depot_api::BucketError;
use depot_api::bucket::{CommitFileOk, DeleteFileOk};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    Start { user: u8, size: u64 },
    Commit { pick: usize, answer: u8 },
    Abort { pick: usize },
    Delete { pick: usize },
    Advance { secs: u64 },
    Reap,
    SetState { bucket: u8, state: u8 },
    Reconcile,
    Token { pick: usize, user: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, 1u64..400).prop_map(|(user, size)| Op::Start { user, size }),
        3 => (any::<usize>(), 0u8..5).prop_map(|(pick, answer)| Op::Commit { pick, answer }),
        1 => any::<usize>().prop_map(|pick| Op::Abort { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Delete { pick }),
        1 => prop_oneof![Just(30u64), Just(3_600), Just(86_400)].prop_map(|secs| Op::Advance { secs }),
        1 => Just(Op::Reap),
        1 => (1u8..3, 0u8..3).prop_map(|(bucket, state)| Op::SetState { bucket, state }),
        1 => Just(Op::Reconcile),
        2 => (any::<usize>(), 0u8..3).prop_map(|(pick, user)| Op::Token { pick, user }),
    ]
}

fn users() -> [Principal; 3] {
    [alice(), bob(), Principal::from_slice(&[0xc0; 5])]
}

fn apply(fx: &mut Fx, op: &Op) {
    let sessions: Vec<_> = fx.s.uploads.values().collect();
    let ready: Vec<_> =
        fx.s.files.values().filter(|f| f.meta.status == FileStatus::Ready).map(|f| f.meta.file_id).collect();
    match op {
        Op::Start { user, size } => {
            let _ = fx.start(users()[*user as usize], *size);
        }
        Op::Commit { pick, answer } if !sessions.is_empty() => {
            let s = &sessions[pick % sessions.len()];
            let id = ByteBuf::from(s.upload_id.to_vec());
            if let Ok(plan) = begin_commit(&mut fx.s, s.owner, &commit_req(&id), fx.now) {
                let answer = match answer {
                    0 | 1 => Ok(Ok(CommitFileOk { size_bytes: s.size_bytes, sha256: None, etag: "e".into() })),
                    2 => Ok(Err(BucketError::UploadIncomplete { missing: vec![0] })),
                    3 => Ok(Err(BucketError::HashMismatch { expected: vec![], actual: vec![] })),
                    _ => Err(crate::logic::CallFailure::Rejected {
                        code: ic_cdk::api::call::RejectionCode::SysTransient,
                        message: "x".into(),
                    }),
                };
                let _ = finish_commit(&mut fx.s, &plan.upload_id, answer, fx.now);
            }
        }
        Op::Abort { pick } if !sessions.is_empty() => {
            let s = &sessions[pick % sessions.len()];
            let _ = abort_upload_impl(&mut fx.s, s.owner, &s.upload_id, fx.now);
        }
        Op::Delete { pick } if !ready.is_empty() => {
            let f = &ready[pick % ready.len()];
            delete_file_impl(&mut fx.s, f.owner, f, fx.now).unwrap();
        }
        Op::Advance { secs } => fx.advance_secs(*secs),
        Op::Reap => {
            reap_expired_uploads(&mut fx.s, fx.now, 3);
        }
        Op::SetState { bucket: b, state } => {
            let state = [BucketState::Writable, BucketState::Draining, BucketState::ReadOnly][*state as usize];
            apply_bucket_state(&mut fx.s, bucket(*b), state).unwrap();
        }
        Op::Reconcile => {
            for (key, _) in lease_due(&mut fx.s, fx.now, 5) {
                finish_delete(&mut fx.s, key, Ok(Ok(DeleteFileOk { freed_bytes: 0 })), fx.now);
            }
        }
        Op::Token { pick, user } if !sessions.is_empty() => {
            // Owner or stranger; a refusal must change nothing.
            let s = &sessions[pick % sessions.len()];
            let req =
                GetUploadTokenReq { upload_id: ByteBuf::from(s.upload_id.to_vec()), first_chunk: 0, last_chunk: 0 };
            let before = fx.digest();
            let res = get_upload_token_impl(&mut fx.s, users()[*user as usize], &req, fx.now);
            if res.is_err() {
                assert_eq!(fx.digest(), before, "{res:?}");
            }
        }
        _ => {}
    }
}

#[derive(Default, Debug, PartialEq)]
struct Totals {
    reserved: u64,
    used: u64,
    files: u64,
    uploads: u64,
}

/// The books balance: every user's and every bucket's usage counters equal
/// what the upload sessions (reserved bytes, uploads in progress) and the
/// Ready files (used bytes, file counts) add up to, a bucket's used bytes
/// also counting what it held when registered; sessions and Pending files
/// belong to each other, and the indexes match the maps they index. Run
/// after the operations of every test (see `Fx`).
pub fn check_books(state: &State) {
    let mut by_user: BTreeMap<Principal, Totals> = BTreeMap::new();
    let mut by_bucket: BTreeMap<Principal, Totals> = BTreeMap::new();
    for s in state.uploads.values() {
        for t in [by_user.entry(s.owner).or_default(), by_bucket.entry(s.bucket).or_default()] {
            t.reserved += s.size_bytes;
            t.uploads += 1;
        }
        let (_, f) = state.file_by_key(&s.file_key).expect("session without file");
        assert_eq!(f.meta.status, FileStatus::Pending);
        assert_eq!(f.upload_id, Some(s.upload_id), "the Pending file points to its session");
    }
    for f in state.files.values() {
        match f.meta.status {
            FileStatus::Ready => {
                for t in [by_user.entry(f.meta.file_id.owner).or_default(), by_bucket.entry(f.meta.bucket).or_default()]
                {
                    t.used += f.meta.size_bytes;
                    t.files += 1;
                }
            }
            FileStatus::Pending => {
                assert!(state.upload(&f.upload_id.unwrap()).is_some(), "pending file without session")
            }
            FileStatus::Deleted => {}
        }
    }
    for (user, u) in state.users.iter().map(|e| e.into_pair()) {
        let t = Totals {
            reserved: u.reserved_bytes,
            used: u.used_bytes,
            files: u.files_count,
            uploads: u64::from(u.uploads_in_progress),
        };
        assert_eq!(t, by_user.remove(&user).unwrap_or_default(), "user {user}");
    }
    assert!(by_user.is_empty(), "usage of users without a record: {by_user:?}");
    for (id, b) in state.buckets.iter().map(|e| e.into_pair()) {
        let expected = by_bucket.remove(&id).unwrap_or_default();
        assert_eq!(
            (b.reserved_bytes, b.used_bytes, b.files_count, b.reserved_files),
            (expected.reserved, b.registered_used_bytes + expected.used, expected.files, expected.uploads),
            "bucket {id}"
        );
        // The routing index lists exactly the Writable buckets, at their fill.
        let listed: Vec<_> = state.routing.keys().filter(|k| k.bucket() == id).collect();
        assert_eq!(listed, b.route_key(id).into_iter().collect::<Vec<_>>(), "routing entry of bucket {id}");
        // A pooled bucket is empty: it leaves the pool with its first upload.
        assert!(!b.in_pool || (b.files_count, b.reserved_files) == (0, 0), "pooled bucket {id} is empty");
    }
    assert!(by_bucket.is_empty(), "usage of unregistered buckets: {by_bucket:?}");
    assert_eq!(state.routing.len(), state.buckets.values().filter(|b| b.state == BucketState::Writable).count() as u64);
    assert_eq!(state.upload_expiry.len(), state.uploads.len());
    for k in state.upload_expiry.keys() {
        assert_eq!(state.uploads.get(&k.id).map(|s| s.expires_at_ns), Some(k.at_ns), "expiry index");
    }
    // Keys: at most one signs and at most one waits; kids come from the counter.
    let keys: Vec<_> = state.signing_keys.iter().map(|e| e.into_pair()).collect();
    assert!(keys.iter().filter(|(_, k)| k.is_active()).count() <= 1, "one signing key");
    assert!(keys.iter().filter(|(_, k)| k.is_pending()).count() <= 1, "one pending key");
    assert!(keys.iter().all(|(kid, _)| *kid >= 1 && *kid <= state.runtime().last_kid), "kids from the counter");
    check_file_index(state);
    check_credit(state);
}

/// The file index points to every file and only to files, and the owner
/// numbers it names owners by are the same pairs both ways, from 0.
pub fn check_file_index(state: &State) {
    assert_eq!(state.file_index.len(), state.files.len());
    for (key, place) in state.file_index.iter().map(|e| e.into_pair()) {
        let list_key = state.place_key(place, depot_api::FileKey(key));
        assert!(state.files.contains_key(&list_key), "file index points to a file");
    }
    // Owner numbers: the two maps hold the same pairs, numbered from 0.
    let numbered: Vec<(u64, Principal)> = state.numbered_owners().collect();
    let mut by_owner: Vec<(u64, Principal)> = state.owner_numbers().map(|(p, n)| (n, p)).collect();
    by_owner.sort();
    assert_eq!(numbered, by_owner, "owner numbers both ways");
    assert!(numbered.iter().enumerate().all(|(i, (n, _))| *n == i as u64), "numbers from 0 without gaps");
}

/// Credit accounts: holds equal the reservations of sessions, billed bytes
/// equal the billable bytes of Ready files, and every account's books
/// balance: deposited = balance + charged − owed.
pub fn check_credit(state: &State) {
    use crate::logic::billing::billable_bytes;
    use crate::model::billing::Reservation;
    let mut expected: BTreeMap<Principal, (u128, u64, u64)> = BTreeMap::new();
    for s in state.uploads.values() {
        if let Reservation::Credit { user, billable, hold, .. } = s.reservation {
            let e = expected.entry(user).or_default();
            e.0 += hold;
            e.1 += billable;
        }
    }
    for f in state.files.values().filter(|f| f.meta.status == FileStatus::Ready) {
        expected.entry(f.meta.file_id.owner).or_default().2 += billable_bytes(f.meta.size_bytes, f.meta.chunk_size);
    }
    for (user, a) in state.accounts.iter().map(|e| e.into_pair()) {
        let (held, held_bytes, stored) = expected.remove(&user).unwrap_or_default();
        assert_eq!((a.held, a.held_bytes, a.stored_bytes), (held, held_bytes, stored), "credit account of {user}");
        assert_eq!(a.deposited + a.owed, a.balance + a.charged, "books of {user}: {a:?}");
    }
    let unaccounted: Vec<_> = expected.into_iter().filter(|(_, e)| *e != (0, 0, 0)).collect();
    assert!(unaccounted.is_empty(), "holds or bytes without an account: {unaccounted:?}");
}

/// The books, plus what holds in these sequences: every commit is applied
/// in one step, and no bucket passes its soft limit.
fn check(fx: &Fx) {
    check_books(&fx.s);
    for s in fx.s.uploads.values() {
        assert!(matches!(s.state, SessionState::Pending), "no commit is left half-done");
    }
    for (id, b) in fx.s.buckets.iter().map(|e| e.into_pair()) {
        assert!(b.used_bytes + b.reserved_bytes <= b.soft_limit_bytes, "soft limit never passed: bucket {id}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn accounting_stays_consistent(ops in proptest::collection::vec(op(), 1..60)) {
        let mut fx = Fx::bare(DirectoryInit { start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE), max_uploads_in_progress: Some(4), upload_tokens_per_minute: Some(3), max_tokens_per_upload: Some(4), default_quota_bytes: Some(1_000), ..Default::default() });
        fx.initialise();
        fx.add_bucket(bucket(1), 900, 1000);
        fx.add_bucket(bucket(2), 600, 1000);
        for op in &ops {
            apply(&mut fx, op);
            check(&fx);
        }
    }
}
