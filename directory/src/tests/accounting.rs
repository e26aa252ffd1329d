//! The four accounting operations refuse drift (a counter that would go
//! below zero or overflow, a missing bucket record) with a typed error and
//! change nothing; the callers turn it into an internal error and keep
//! state consistent; the books check catches drift.

use super::*;
use crate::jobs::reaper::{REAP_BATCH, reap_expired_uploads};
use crate::logic::accounting::{self, AccountingError, Change, Counter, Operation};
use crate::logic::admin::apply_bucket_state;
use crate::logic::commit::{begin_commit, finish_commit};
use crate::logic::files::delete_file_impl;
use crate::logic::upload::abort_upload_impl;
use crate::model::uploads::SessionState;
use depot_api::BucketError;
use depot_api::bucket::CommitFileOk;
use depot_api::error::InternalFault;

/// Sets a user's counters by hand: drift, as a lost update would leave it.
fn drift_user(fx: &mut Fx, user: Principal, f: impl FnOnce(&mut crate::model::users::UserRecord)) {
    fx.check_books = false;
    let mut r = fx.s.user(user);
    f(&mut r);
    fx.s.put_user(user, r);
}

fn internal(e: AccountingError) -> DirectoryError {
    let e: DirectoryError = e.into();
    assert_eq!(e.fault(), Some(InternalFault::AccountingDrift));
    e
}

#[test]
fn each_operation_moves_user_and_bucket_together() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 100);
    let session = fx.s.upload(&res.upload_id).unwrap();
    let u = fx.usage(alice());
    assert_eq!((u.reserved_bytes, u.uploads_in_progress, u.used_bytes, u.files_count), (100, 1, 0, 0));
    accounting::settle(&mut fx.s, alice(), bucket(1), 100, &session.reservation, fx.now).unwrap();
    let u = fx.usage(alice());
    assert_eq!((u.reserved_bytes, u.uploads_in_progress, u.used_bytes, u.files_count), (0, 0, 100, 1));
    let b = fx.bucket_info(bucket(1));
    assert_eq!((b.reserved_bytes, b.used_bytes, b.files_count), (0, 100, 1));
    accounting::free(&mut fx.s, alice(), bucket(1), 100, res.chunk_size, fx.now).unwrap();
    accounting::reserve(&mut fx.s, alice(), bucket(1), 100, None, fx.now).unwrap();
    accounting::release(&mut fx.s, alice(), bucket(1), 100, &session.reservation, fx.now).unwrap();
    let u = fx.usage(alice());
    assert_eq!((u.reserved_bytes, u.uploads_in_progress, u.used_bytes, u.files_count), (0, 0, 0, 0));
    let b = fx.bucket_info(bucket(1));
    assert_eq!((b.reserved_bytes, b.used_bytes, b.files_count), (0, 0, 0));
    // The session was settled by hand above: its records no longer add up.
    fx.check_books = false;
}

#[test]
fn abort_with_drift_is_an_internal_error_and_changes_nothing() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 100);
    drift_user(&mut fx, alice(), |u| u.reserved_bytes = 40);
    let e = AccountingError::Drift {
        op: Operation::Release,
        user: alice(),
        bucket: bucket(1),
        counter: Counter::UserReservedBytes,
        value: 40,
        change: Change::Sub(100),
    };
    assert!(e.to_string().contains("user.reserved_bytes is 40, cannot apply − 100"), "{e}");
    assert_err_unchanged(&mut fx, internal(e.clone()), |fx| {
        abort_upload_impl(&mut fx.s, alice(), &res.upload_id, fx.now)
    });
    // Deleting the Pending file releases the same way.
    assert_err_unchanged(&mut fx, internal(e), |fx| {
        delete_file_impl(&mut fx.s, alice(), &res.file_id, fx.now).map(|_| ())
    });
}

#[test]
fn start_upload_with_an_overflowing_bucket_counter_changes_nothing() {
    let mut fx = Fx::new();
    fx.add_bucket(bucket(2), u64::MAX, u64::MAX);
    apply_bucket_state(&mut fx.s, bucket(1), BucketState::ReadOnly).unwrap();
    fx.check_books = false;
    let mut b = fx.s.buckets.get(&bucket(2)).unwrap();
    b.reserved_bytes = u64::MAX - 5;
    fx.s.put_bucket(bucket(2), b);
    let e = AccountingError::Drift {
        op: Operation::Reserve,
        user: alice(),
        bucket: bucket(2),
        counter: Counter::BucketReservedBytes,
        value: u64::MAX - 5,
        change: Change::Add(10),
    };
    assert_err_unchanged(&mut fx, internal(e), |fx| fx.start(alice(), 10));
}

#[test]
fn delete_of_a_ready_file_with_drift_changes_nothing() {
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 100);
    fx.check_books = false;
    let mut b = fx.s.buckets.get(&bucket(1)).unwrap();
    b.files_count = 0;
    fx.s.put_bucket(bucket(1), b);
    let e = AccountingError::Drift {
        op: Operation::Free,
        user: alice(),
        bucket: bucket(1),
        counter: Counter::BucketFilesCount,
        value: 0,
        change: Change::Sub(1),
    };
    assert_err_unchanged(&mut fx, internal(e), |fx| delete_file_impl(&mut fx.s, alice(), &file, fx.now).map(|_| ()));
}

#[test]
fn a_commit_answer_meeting_drift_returns_the_session_to_pending() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 100);
    drift_user(&mut fx, alice(), |u| u.uploads_in_progress = 0);
    for answer in [
        Ok(Ok(CommitFileOk { size_bytes: 100, sha256: None, etag: "e".into() })),
        Ok(Err(BucketError::HashMismatch { expected: vec![], actual: vec![] })),
    ] {
        let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
        let before = (fx.s.user(alice()), fx.s.buckets.get(&bucket(1)));
        let out = finish_commit(&mut fx.s, &plan.upload_id, answer, fx.now);
        assert_eq!(out.result.unwrap_err().fault(), Some(InternalFault::AccountingDrift));
        assert!(out.queued_delete.is_none());
        assert_eq!((fx.s.user(alice()), fx.s.buckets.get(&bucket(1))), before, "nothing counted");
        let session = fx.s.upload(&res.upload_id).expect("the session stays");
        assert_eq!(session.state, SessionState::Pending);
        let file = crate::logic::files::get_file_meta_impl(&fx.s, alice(), &res.file_id).unwrap();
        assert_eq!(file.status, FileStatus::Pending);
    }
}

#[test]
fn the_reaper_leaves_a_drifted_session_for_its_next_run() {
    let mut fx = Fx::new();
    let a = fx.start_ok(alice(), 100);
    let b = fx.start_ok(bob(), 100);
    drift_user(&mut fx, alice(), |u| u.reserved_bytes = 0);
    fx.now = a.expires_at_ns.max(b.expires_at_ns);
    assert_eq!(reap_expired_uploads(&mut fx.s, fx.now, REAP_BATCH).len(), 1, "bob's only");
    assert!(fx.s.upload(&a.upload_id).is_some());
    assert!(fx.s.upload(&b.upload_id).is_none());
}

#[test]
fn a_missing_bucket_record_is_drift_too() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 100);
    fx.check_books = false;
    fx.s.buckets.remove(&bucket(1));
    let e = AccountingError::UnknownBucket { op: Operation::Release, user: alice(), bucket: bucket(1) };
    assert_err_unchanged(&mut fx, internal(e), |fx| abort_upload_impl(&mut fx.s, alice(), &res.upload_id, fx.now));
}

#[test]
#[should_panic(expected = "failed: user")]
fn the_books_check_catches_drift() {
    let mut fx = Fx::new();
    fx.start_ok(alice(), 100);
    drift_user(&mut fx, alice(), |u| u.reserved_bytes += 1);
    super::invariants::check_books(&fx.s);
}
