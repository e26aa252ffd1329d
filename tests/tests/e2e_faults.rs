//! Fault injection ("Hardening"): through devnet's library API and against
//! the release wasm, a bucket traps or is rejected in `commit_file` and
//! `delete_file`, the directory is upgraded between the two halves of each
//! of its awaits (with and without stopping it first), a bucket freezes
//! and thaws, a bucket answers slowly (past token and session expiry), and
//! the clock jumps far forward. After each, once maintenance has run, the
//! directory's and the buckets' books agree (`depot_tests::books`), no
//! upload session outlives its expiry, and every committed file is still
//! Ready and downloads byte-exact.
//!
//! On upgrades: the IC upgrades a running canister with open calls; the
//! responses then reach code that cannot make sense of them (the interface
//! spec tells such canisters to be stopped first, and a stop waits for
//! every open call). devnet rejects the open calls at the upgrade and runs
//! no callback for their responses, which is what the directory sees either
//! way: its second half never runs.

use candid::{Encode, Principal};
use depot_api::DirectoryError;
use depot_api::bucket::BucketInit;
use depot_api::directory::{AdminStats, BucketInfo, DirectoryInit, FileStatus, RegisterBucketReq};
use depot_api::methods::directory as dm;
use depot_api::{FileId, limits};
use depot_devnet::{CanisterStatus, Devnet, DevnetConfig, Fault, InstallMode, Route};
use depot_tests::books::{Books, assert_downloads, read_books};
use depot_tests::deploy::{
    BUCKET_HARD_LIMIT, BUCKET_SOFT_LIMIT, CANISTER_CYCLES, DeployOpts, Deployment, call, deploy, query,
};
use depot_tests::drive::*;
use std::collections::BTreeMap;
use std::time::Duration;

/// 64 KiB chunks: multi-chunk files stay small.
const CHUNK: usize = limits::MIN_CHUNK_SIZE as usize;
/// Longer than the time after which the reaper takes a commit as lost
/// (one hour), so a lost commit can be retried before the session expires.
const SESSION_TTL_SECS: u64 = 3 * 60 * 60;
const TOKEN_TTL_SECS: u64 = limits::DEFAULT_UPLOAD_TOKEN_TTL_SECS;
/// The directory's `reaper::COMMIT_STALE_SECS`.
const COMMIT_STALE_SECS: u64 = 60 * 60;
/// 2026-01-01: the clock stands still unless a test moves it.
const START_NS: u64 = 1_767_225_600_000_000_000;

fn user(n: u8) -> Principal {
    Principal::self_authenticating([b'u', n])
}

struct World {
    dev: Devnet,
    d: Deployment,
    users: Vec<Principal>,
    /// Every committed file and its bytes: all must stay Ready and intact.
    files: BTreeMap<FileId, Vec<u8>>,
    next_seed: u8,
}

impl World {
    fn new() -> World {
        let mut dev =
            Devnet::new(DevnetConfig { debug_print: false, start_time_ns: Some(START_NS), ..Default::default() });
        let init = DirectoryInit {
            chunk_size: Some(CHUNK as u32),
            upload_session_ttl_secs: Some(SESSION_TTL_SECS),
            ..Default::default()
        };
        let opts = DeployOpts { buckets: 2, domain_template: "{bucket}.localhost:1".into(), directory_init: init };
        let d = deploy(&mut dev, opts).unwrap();
        let mut w = World { dev, d, users: vec![user(1), user(2)], files: BTreeMap::new(), next_seed: 0 };
        // Files of every shape on both buckets: one byte, one chunk, a few.
        for (u, size) in [(0, 1), (1, CHUNK), (0, 2 * CHUNK + 7), (1, 3 * CHUNK - 1)] {
            w.upload(u, size);
        }
        w.check("after seeding");
        w
    }

    fn content(&mut self, size: usize) -> Vec<u8> {
        self.next_seed += 1;
        content(self.next_seed, size)
    }

    fn upload(&mut self, u: usize, size: usize) -> FileId {
        let c = self.content(size);
        let id = upload(&mut self.dev, &self.d, self.users[u], &c).unwrap();
        self.files.insert(id.clone(), c);
        id
    }

    /// A started upload with every chunk sent, not committed.
    fn staged(&mut self, u: usize, size: usize) -> (depot_api::directory::StartUploadRes, Vec<u8>) {
        let c = self.content(size);
        let s = start_upload(&mut self.dev, &self.d, self.users[u], &c, true).unwrap();
        put_all(&mut self.dev, &self.d, self.users[u], &s, &c).unwrap();
        (s, c)
    }

    fn commit(&mut self, u: usize, s: &depot_api::directory::StartUploadRes, c: Vec<u8>) {
        let meta = commit(&mut self.dev, &self.d, self.users[u], &s.upload_id).unwrap().unwrap();
        assert_eq!(meta.status, FileStatus::Ready);
        self.files.insert(meta.file_id, c);
    }

    fn books(&mut self) -> Books {
        read_books(&mut self.dev, &self.d, &self.users).unwrap()
    }

    /// The books balance, no session outlived its expiry, and the
    /// committed files are exactly the Ready ones and download byte-exact.
    #[track_caller]
    fn check(&mut self, when: &str) {
        let books = self.books();
        books.assert_balanced(when);
        assert_eq!(books.expired_pending(SESSION_TTL_SECS), vec![], "expired uploads left {when}");
        let ready: Vec<&FileId> = books.ready_files().map(|f| &f.file_id).collect();
        let committed: Vec<&FileId> = self.files.keys().collect();
        let mut ready_sorted = ready.clone();
        ready_sorted.sort();
        assert_eq!(ready_sorted, committed, "Ready files {when}");
        assert_downloads(&mut self.dev, &self.d, &self.files);
    }

    /// Past every lease, back-off and upload token: queued deletions and
    /// key pushes are retried, second sweeps done.
    fn settle(&mut self) {
        jump(&mut self.dev, Duration::from_secs(TOKEN_TTL_SECS + 60), 8);
    }

    fn stats(&mut self) -> AdminStats {
        admin_query(&mut self.dev, &self.d, dm::ADMIN_GET_STATS, ()).unwrap().unwrap()
    }

    fn a_file_of(&self, u: usize) -> (FileId, usize) {
        let (id, c) = self.files.iter().find(|(id, _)| id.owner == self.users[u]).expect("a file");
        (id.clone(), c.len())
    }
}

fn trap(canister: Principal, method: &str) -> Fault {
    Fault::TrapMethod { canister, method: method.into(), times: 1 }
}

fn reject(canister: Principal, method: &str) -> Fault {
    Fault::RejectCall { canister, method: method.into(), times: 1 }
}

#[test]
fn bucket_traps_or_rejects_in_commit_file_and_delete_file() {
    let mut w = World::new();
    for (kind, fault) in [("trap", trap as fn(Principal, &str) -> Fault), ("reject", reject)] {
        // commit_file fails once: the upload goes back to Pending, every
        // chunk still stored, and the retried commit succeeds.
        let (s, c) = w.staged(0, 2 * CHUNK + 1);
        w.dev.inject_fault(fault(s.bucket, "commit_file"));
        let e = directory_err(commit(&mut w.dev, &w.d, w.users[0], &s.upload_id)).unwrap();
        assert!(matches!(e, DirectoryError::InternalError { .. }), "{kind}: {e:?}");
        let books = w.books();
        books.assert_balanced(&format!("after a commit_file {kind}"));
        assert_eq!(books.users[&w.users[0]].pending.len(), 1, "still pending");
        w.commit(0, &s, c);
        w.check(&format!("after the commit retried ({kind})"));

        // delete_file fails once: the user's deletion stands (the bytes
        // stop counting at once), the bucket catches up from the queue.
        let (id, size) = w.a_file_of(1);
        let bucket = id_bucket(&mut w, &id);
        w.dev.inject_fault(fault(bucket, "delete_file"));
        assert_eq!(delete(&mut w.dev, &w.d, w.users[1], &id).unwrap(), size as u64);
        w.files.remove(&id);
        let bad = w.books().disagreements();
        assert!(
            bad.iter().any(|b| b.contains("committed_bytes")),
            "the bucket still holds the file until the retry: {bad:?}"
        );
        assert_eq!(w.stats().pending_bucket_deletes, 1);
        w.settle();
        w.check(&format!("after the deletion was retried ({kind})"));

        // An abort whose bucket deletion fails once: partial chunks go on retry.
        let c = w.content(3 * CHUNK);
        let s = start_upload(&mut w.dev, &w.d, w.users[0], &c, false).unwrap();
        put_chunks(&mut w.dev, &w.d, w.users[0], &s, &c, [0, 2]).unwrap();
        w.dev.inject_fault(fault(s.bucket, "delete_file"));
        let r = call(&mut w.dev, w.users[0], w.d.directory, dm::ABORT_UPLOAD, (s.upload_id.clone(),)).unwrap();
        assert_eq!(r, Ok(()));
        w.settle();
        w.check(&format!("after the aborted upload was swept ({kind})"));
        // Refill both users' files for the next round.
        w.upload(1, CHUNK + 3);
    }
    assert_eq!(w.stats().pending_bucket_deletes, 0);
}

fn id_bucket(w: &mut World, id: &FileId) -> Principal {
    let meta = query(&mut w.dev, id.owner, w.d.directory, dm::GET_FILE_META, (id.clone(),)).unwrap().unwrap();
    meta.bucket
}

/// How the operator upgrades the directory while one of its calls is out.
#[derive(Clone, Copy, Debug)]
enum Upgrade {
    /// Straight away: the call's second half never runs.
    Running,
    /// stop_canister first: the stop waits for the held answer (the second
    /// half runs), then the upgrade, then start_canister.
    Stopped,
}

/// Submits `call` to the directory with `route`'s messages held, runs it
/// up to its held bucket call, upgrades the directory the `how` way, then
/// releases the route. Returns the call's answer (a reject when upgraded
/// while running).
fn upgrade_mid_call<R>(
    w: &mut World,
    route: Route,
    how: Upgrade,
    submit_call: impl FnOnce(&mut World) -> Submitted<R>,
) -> Result<R, depot_devnet::Reject> {
    w.dev.hold_messages(route);
    let sub = submit_call(w);
    w.dev.tick();
    assert_eq!(w.dev.held_messages(route), 1, "{}: its bucket call answered and held", sub.method);
    assert!(sub.outcome(&w.dev).is_none(), "{} waits for the bucket", sub.method);
    match how {
        Upgrade::Running => {
            upgrade_directory(&mut w.dev, &w.d).unwrap();
            let r = sub.answered(&w.dev);
            assert!(
                r.as_ref().is_err_and(|r| r.message.contains("upgraded")),
                "{}: {:?}",
                sub.method,
                r.as_ref().err()
            );
            assert_eq!(w.dev.release_messages(route), 1);
            w.dev.tick();
            r
        }
        Upgrade::Stopped => {
            let stop = submit_management(&mut w.dev, w.d.admin, "stop_canister", w.d.directory).unwrap();
            w.dev.tick();
            assert_eq!(w.dev.canister_status(w.d.directory), Some(CanisterStatus::Stopping));
            assert!(stop.outcome(&w.dev).is_none(), "the stop waits for the open call");
            assert_eq!(w.dev.release_messages(route), 1);
            w.dev.tick();
            assert_eq!(w.dev.canister_status(w.d.directory), Some(CanisterStatus::Stopped));
            stop.answered(&w.dev).unwrap();
            upgrade_directory(&mut w.dev, &w.d).unwrap();
            let start = submit_management(&mut w.dev, w.d.admin, "start_canister", w.d.directory).unwrap();
            w.dev.tick();
            start.answered(&w.dev).unwrap();
            sub.answered(&w.dev)
        }
    }
}

#[test]
fn directory_upgraded_while_a_commit_waits_for_its_bucket() {
    for how in [Upgrade::Stopped, Upgrade::Running] {
        let mut w = World::new();
        let (s, c) = w.staged(0, 2 * CHUNK + 5);
        let route = Route::new(s.bucket, w.d.directory);
        let (u0, dir) = (w.users[0], w.d.directory);
        let r = upgrade_mid_call(&mut w, route, how, |w| {
            submit(&mut w.dev, u0, dir, dm::COMMIT_UPLOAD, (commit_req(&s.upload_id),)).unwrap()
        });
        match how {
            Upgrade::Stopped => {
                let meta = r.unwrap().unwrap();
                w.files.insert(meta.file_id, c);
            }
            Upgrade::Running => {
                // The bucket committed; the directory never heard. Until
                // the commit counts as lost (an hour) the upload is blocked
                // and the bucket holds a committed file the directory still
                // counts as reserved; then the retry finds it committed.
                let e = directory_err(commit(&mut w.dev, &w.d, w.users[0], &s.upload_id)).unwrap();
                assert!(
                    matches!(&e, DirectoryError::InvalidRequest { reason } if reason.contains("in progress")),
                    "{e:?}"
                );
                let bad = w.books().disagreements();
                assert!(bad.iter().any(|b| b.contains("committed in bucket")), "{bad:?}");
                w.dev.advance_time(Duration::from_secs(COMMIT_STALE_SECS + 1));
                maintain(&mut w.dev, 2);
                w.commit(0, &s, c);
            }
        }
        w.settle();
        w.check(&format!("after an upgrade mid-commit ({how:?})"));
    }
}

#[test]
fn a_commit_lost_to_an_upgrade_is_reaped_at_expiry_if_never_retried() {
    let mut w = World::new();
    let (s, _) = w.staged(1, CHUNK + 5);
    let route = Route::new(s.bucket, w.d.directory);
    let (u1, dir) = (w.users[1], w.d.directory);
    upgrade_mid_call(&mut w, route, Upgrade::Running, |w| {
        submit(&mut w.dev, u1, dir, dm::COMMIT_UPLOAD, (commit_req(&s.upload_id),)).unwrap()
    })
    .unwrap_err();
    jump(&mut w.dev, Duration::from_secs(SESSION_TTL_SECS), 3);
    w.settle();
    w.check("after the lost commit's session expired");
    assert_eq!(w.stats().pending_bucket_deletes, 0);
}

#[test]
fn directory_upgraded_while_a_delete_or_an_abort_waits_for_its_bucket() {
    for how in [Upgrade::Stopped, Upgrade::Running] {
        let mut w = World::new();
        // delete_file of a Ready file.
        let (id, size) = w.a_file_of(0);
        let route = Route::new(id_bucket(&mut w, &id), w.d.directory);
        let (u0, dir) = (w.users[0], w.d.directory);
        let idc = id.clone();
        let r = upgrade_mid_call(&mut w, route, how, |w| submit(&mut w.dev, u0, dir, dm::DELETE_FILE, (idc,)).unwrap());
        if let Upgrade::Stopped = how {
            assert_eq!(r.unwrap().unwrap().freed_bytes, size as u64);
        }
        // Either way the deletion stands (it was recorded before the await).
        w.files.remove(&id);
        let again = call(&mut w.dev, u0, dir, dm::DELETE_FILE, (id.clone(),)).unwrap();
        assert_eq!(again, Err(DirectoryError::NotFound));
        w.settle();
        w.check(&format!("after an upgrade mid-delete ({how:?})"));

        // abort_upload of a partial upload.
        let c = w.content(2 * CHUNK);
        let s = start_upload(&mut w.dev, &w.d, u0, &c, false).unwrap();
        put_chunks(&mut w.dev, &w.d, u0, &s, &c, [1]).unwrap();
        let route = Route::new(s.bucket, dir);
        let up = s.upload_id.clone();
        let r = upgrade_mid_call(&mut w, route, how, |w| submit(&mut w.dev, u0, dir, dm::ABORT_UPLOAD, (up,)).unwrap());
        if let Upgrade::Stopped = how {
            assert_eq!(r.unwrap(), Ok(()));
        }
        w.settle();
        w.check(&format!("after an upgrade mid-abort ({how:?})"));
    }
}

#[test]
fn directory_upgraded_while_registering_a_bucket() {
    for how in [Upgrade::Stopped, Upgrade::Running] {
        let mut w = World::new();
        let wasm = depot_tests::wasm::canister_wasm("bucket").unwrap();
        let bucket = w.dev.create_canister(w.d.admin, CANISTER_CYCLES, None).unwrap();
        let init = BucketInit { directory: w.d.directory, keys: vec![], capacity_bytes: None };
        w.dev.install_code(w.d.admin, bucket, &wasm, &Encode!(&init).unwrap(), InstallMode::Install).unwrap();
        let req =
            RegisterBucketReq { id: bucket, soft_limit_bytes: BUCKET_SOFT_LIMIT, hard_limit_bytes: BUCKET_HARD_LIMIT };
        let (admin, dir) = (w.d.admin, w.d.directory);
        let rq = req.clone();
        let r = upgrade_mid_call(&mut w, Route::new(bucket, dir), how, |w| {
            submit(&mut w.dev, admin, dir, dm::ADMIN_REGISTER_BUCKET, (rq,)).unwrap()
        });
        let listed = |w: &mut World| -> Vec<BucketInfo> {
            admin_query(&mut w.dev, &w.d, dm::LIST_BUCKETS, ()).unwrap().unwrap()
        };
        match how {
            Upgrade::Stopped => assert_eq!(r.unwrap(), Ok(())),
            Upgrade::Running => {
                assert!(!listed(&mut w).iter().any(|b| b.id == bucket), "not registered");
                let again = call(&mut w.dev, admin, dir, dm::ADMIN_REGISTER_BUCKET, (req,)).unwrap();
                assert_eq!(again, Ok(()), "the registration can be repeated");
            }
        }
        let info = listed(&mut w).into_iter().find(|b| b.id == bucket).expect("registered");
        assert_eq!(info.keys_version, w.stats().keys_version, "the new bucket has the key set");
        w.d.buckets.push(bucket);
        // The emptiest bucket takes the next file.
        let id = w.upload(0, CHUNK + 1);
        assert_eq!(id_bucket(&mut w, &id), bucket);
        w.settle();
        w.check(&format!("after an upgrade mid-registration ({how:?})"));
    }
}

#[test]
fn directory_upgraded_while_pushing_a_rotated_key() {
    for how in [Upgrade::Stopped, Upgrade::Running] {
        let mut w = World::new();
        let before = w.stats();
        let (admin, dir) = (w.d.admin, w.d.directory);
        let route = Route::new(w.d.buckets[0], dir);
        let r = upgrade_mid_call(&mut w, route, how, |w| {
            submit(&mut w.dev, admin, dir, dm::ADMIN_ROTATE_SIGNING_KEY, ()).unwrap()
        });
        if let Upgrade::Stopped = how {
            assert_eq!(r.unwrap(), Ok(()));
        }
        // Maintenance pushes the set again and activates the new key.
        w.settle();
        let after = w.stats();
        assert_eq!(after.pending_signing_key_id, None, "{after:?}");
        assert_ne!(after.active_signing_key_id, before.active_signing_key_id, "the new key signs");
        for b in admin_query(&mut w.dev, &w.d, dm::LIST_BUCKETS, ()).unwrap().unwrap() {
            assert_eq!(b.keys_version, after.keys_version, "bucket {} has the new set", b.id);
        }
        // Tokens signed with the new key work in every bucket.
        w.upload(0, 2 * CHUNK);
        w.upload(1, 1);
        w.check(&format!("after an upgrade mid-key-push ({how:?})"));
    }
}

#[test]
fn a_frozen_bucket_thaws_and_catches_up() {
    let mut w = World::new();
    let frozen = w.d.buckets[0];
    let (s, c) = {
        // An upload staged on the bucket about to freeze.
        let mut staged = w.staged(0, CHUNK + 9);
        while staged.0.bucket != frozen {
            staged = w.staged(1, CHUNK + 9);
        }
        staged
    };
    let owner = w.users.iter().position(|u| *u == s.file_id.owner).unwrap();
    let ids: Vec<FileId> = w.files.keys().cloned().collect();
    let on_frozen: Vec<FileId> = ids.into_iter().filter(|id| id_bucket(&mut w, id) == frozen).collect();
    assert!(!on_frozen.is_empty());

    w.dev.inject_fault(Fault::ExhaustCycles(frozen));
    assert!(w.dev.is_frozen(frozen));
    // Commits fail and leave the upload Pending.
    let e = directory_err(commit(&mut w.dev, &w.d, w.users[owner], &s.upload_id)).unwrap();
    assert!(matches!(e, DirectoryError::InternalError { .. }), "{e:?}");
    // A deletion is recorded and queued.
    let gone = on_frozen[0].clone();
    delete(&mut w.dev, &w.d, gone.owner, &gone).unwrap();
    w.files.remove(&gone);
    // A rotated key cannot reach the frozen bucket: it stays pending.
    let r = call(&mut w.dev, w.d.admin, w.d.directory, dm::ADMIN_ROTATE_SIGNING_KEY, ()).unwrap();
    assert_eq!(r, Ok(()));
    // An hour frozen: maintenance keeps failing, nothing else breaks;
    // committed files still download (queries run on a frozen canister).
    w.dev.advance_time(Duration::from_secs(3600));
    maintain(&mut w.dev, 3);
    assert!(w.stats().pending_signing_key_id.is_some(), "waits for the frozen bucket");
    assert_downloads(&mut w.dev, &w.d, &w.files);

    w.dev.clear_faults();
    assert!(!w.dev.is_frozen(frozen));
    w.settle();
    assert_eq!(w.stats().pending_signing_key_id, None, "activated once every bucket has it");
    w.commit(owner, &s, c);
    w.upload(0, 2 * CHUNK);
    w.upload(1, 2 * CHUNK);
    w.check("after the bucket thawed");
    assert_eq!(w.stats().pending_bucket_deletes, 0);
}

#[test]
fn a_slow_bucket_answers_after_every_expiry() {
    let mut w = World::new();
    // 1. Slow, but within the session: the commit completes late.
    let (s, c) = w.staged(0, 2 * CHUNK);
    let route = Route::new(s.bucket, w.d.directory);
    w.dev.hold_messages(route);
    let sub = submit(&mut w.dev, w.users[0], w.d.directory, dm::COMMIT_UPLOAD, (commit_req(&s.upload_id),)).unwrap();
    w.dev.tick();
    assert_eq!(w.dev.held_messages(route), 1);
    // Past every token's expiry; maintenance runs meanwhile (its calls to
    // this bucket wait too).
    jump(&mut w.dev, Duration::from_secs(TOKEN_TTL_SECS + 60), 3);
    assert!(sub.outcome(&w.dev).is_none());
    w.dev.release_messages(route);
    w.dev.tick();
    let meta = sub.answered(&w.dev).unwrap().unwrap();
    w.files.insert(meta.file_id, c);
    w.settle();
    w.check("after a slow commit");

    // 2. Slower than the session: the reaper ends it (the commit counts as
    // lost after an hour) and deletes the file; the late answer changes
    // nothing.
    let (s, _) = w.staged(1, CHUNK + 1);
    let route = Route::new(s.bucket, w.d.directory);
    w.dev.hold_messages(route);
    let sub = submit(&mut w.dev, w.users[1], w.d.directory, dm::COMMIT_UPLOAD, (commit_req(&s.upload_id),)).unwrap();
    w.dev.tick();
    jump(&mut w.dev, Duration::from_secs(SESSION_TTL_SECS + 60), 3);
    assert!(sub.outcome(&w.dev).is_none());
    assert!(w.dev.held_messages(route) >= 2, "the reaper's deletion answered and held too");
    w.dev.release_messages(route);
    w.dev.tick();
    let e = sub.answered(&w.dev).unwrap().unwrap_err();
    assert!(matches!(e, DirectoryError::InternalError { .. }), "{e:?}");
    w.settle();
    w.check("after a commit slower than its session");
    assert_eq!(w.stats().pending_bucket_deletes, 0);
}

#[test]
fn the_clock_jumps_far_forward() {
    let mut w = World::new();
    // In flight at the jump: a partial upload, an upload with every chunk
    // but no commit, an upload with nothing sent, a fresh deletion (its
    // second sweep queued) and a rotated key.
    let c = w.content(3 * CHUNK);
    let s = start_upload(&mut w.dev, &w.d, w.users[0], &c, true).unwrap();
    put_chunks(&mut w.dev, &w.d, w.users[0], &s, &c, [0]).unwrap();
    w.staged(1, 2 * CHUNK);
    let tiny = w.content(10);
    start_upload(&mut w.dev, &w.d, w.users[1], &tiny, false).unwrap();
    let (id, _) = w.a_file_of(0);
    delete(&mut w.dev, &w.d, w.users[0], &id).unwrap();
    w.files.remove(&id);
    let r = call(&mut w.dev, w.d.admin, w.d.directory, dm::ADMIN_ROTATE_SIGNING_KEY, ()).unwrap();
    assert_eq!(r, Ok(()));

    for jump_by in [Duration::from_secs(30 * 24 * 3600), Duration::from_secs(400 * 24 * 3600)] {
        jump(&mut w.dev, jump_by, 3);
        w.check(&format!("after a jump of {jump_by:?}"));
        let stats = w.stats();
        assert_eq!((stats.active_uploads, stats.reserved_bytes, stats.pending_bucket_deletes), (0, 0, 0));
        assert!(stats.active_signing_key_id.is_some() && stats.pending_signing_key_id.is_none(), "{stats:?}");
        // Uploads and deletions work at the new time.
        w.upload(0, 2 * CHUNK + 3);
        let (id, _) = w.a_file_of(1);
        delete(&mut w.dev, &w.d, w.users[1], &id).unwrap();
        w.files.remove(&id);
        w.upload(1, 5);
        w.settle();
        w.check(&format!("after uploads at the new time ({jump_by:?})"));
    }
}
