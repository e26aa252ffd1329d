//! Native tests of the directory's logic over real stable structures
//! (`DefaultMemoryImpl` is an in-memory vector off-chain).

mod accounting;
mod auth;
mod billing;
mod candid_interface;
mod errors_leave_state_unchanged;
mod invariants;
mod jobs;
mod key_rotation;
mod limits;
mod listing;
mod lost_commit;
mod owner_numbers;
mod provisioning;
mod record_figures;
mod rollout;
mod routing;
mod shares;
mod signing;
mod token_limits;
mod upload_flow;

use crate::logic::admin::finish_register_bucket;
use crate::logic::commit::{begin_commit, finish_commit};
use crate::logic::keys::install_first_key;
use crate::logic::upload::start_upload_impl;
use crate::model::State;
use crate::model::settings::Settings;
use crate::model::users::NANOS_PER_SEC;
use candid::Principal;
use depot_api::bucket::{BucketStat, CommitFileOk};
use depot_api::directory::*;
use depot_api::limits::{MAX_START_UPLOAD_PER_MINUTE, MAX_UPLOADS_IN_PROGRESS};
use depot_api::{BucketId, DirectoryError, FileId};
use ic_stable_structures::DefaultMemoryImpl;
use serde_bytes::ByteBuf;

pub const MIB: u64 = 1024 * 1024;
/// The default chunk size, for tests that count chunks.
pub const CHUNK: u64 = depot_api::limits::CHUNK_SIZE as u64;
pub const GIB: u64 = 1024 * MIB;
/// A fixed start time (2026-11-28) so expiries are realistic numbers.
pub const T0: u64 = 1_795_000_000 * NANOS_PER_SEC;

pub fn alice() -> Principal {
    Principal::from_slice(&[0xa1; 29])
}
pub fn bob() -> Principal {
    Principal::from_slice(&[0xb0, 0x0b])
}
pub fn anon() -> Principal {
    Principal::anonymous()
}
pub fn bucket(n: u8) -> BucketId {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0x10, n, 1, 1, 1])
}

/// All stable-memory bytes at one point.
#[derive(PartialEq, Eq)]
pub struct Snapshot(Vec<u8>);

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Snapshot({} bytes)", self.0.len())
    }
}

/// Above this many files the fixture checks the books only when dropped:
/// a check reads every file, so checking after each step of a test that
/// creates a thousand files would be quadratic.
pub const STEP_CHECK_MAX_FILES: u64 = 200;

/// The test fixture. The books are checked
/// ([`invariants::check_books`]) after each of its operations (up to
/// [`STEP_CHECK_MAX_FILES`]) and always when it is dropped at the end of a
/// test, so every test also checks that the usage counters match the files
/// and sessions.
pub struct Fx {
    pub s: State,
    mem: DefaultMemoryImpl,
    pub now: u64,
    /// Off only in tests that break the books on purpose.
    pub check_books: bool,
}

impl Drop for Fx {
    fn drop(&mut self) {
        if self.check_books && !std::thread::panicking() {
            invariants::check_books(&self.s);
        }
    }
}

impl Fx {
    /// Initialised directory (seed + first key) with one 100 GiB bucket.
    pub fn new() -> Self {
        let mut fx = Self::bare(DirectoryInit::default());
        fx.initialise();
        fx.add_bucket(bucket(1), 100 * GIB, 110 * GIB);
        fx
    }

    /// Settings applied, nothing else: no seed, no key, no bucket.
    pub fn bare(init: DirectoryInit) -> Self {
        let mem = DefaultMemoryImpl::default();
        let mut s = State::load_for_tests(mem.clone());
        s.set_settings(Settings::default().with_overrides(&init).expect("valid test settings"));
        // Tests of other concerns run free; `tests::billing` sets prices.
        s.set_pricing(free_pricing());
        s.update_runtime(|rt| rt.reserved_files_counted = true);
        Self { s, mem, now: T0, check_books: true }
    }

    /// Asserts the books balance after a step (see [`STEP_CHECK_MAX_FILES`]).
    pub fn books(&self) {
        if self.check_books && self.s.files.len() <= STEP_CHECK_MAX_FILES {
            invariants::check_books(&self.s);
        }
    }

    pub fn with(init: DirectoryInit) -> Self {
        let mut fx = Self::bare(init);
        fx.initialise();
        fx.add_bucket(bucket(1), 100 * GIB, 110 * GIB);
        fx
    }

    pub fn initialise(&mut self) {
        self.s.update_runtime(|rt| rt.rng_seed = Some([0x5e; 32]));
        install_first_key(&mut self.s, [0x4b; 32], self.now);
    }

    pub fn add_bucket(&mut self, id: BucketId, soft: u64, hard: u64) {
        let req = RegisterBucketReq { id, soft_limit_bytes: soft, hard_limit_bytes: hard };
        let version = self.s.runtime().keys_version;
        finish_register_bucket(&mut self.s, &req, &stat(hard, 0, false), version, false, self.now).unwrap();
        self.books();
    }

    /// The keys `bucket` holds once it accepted the current ring.
    pub fn held_keys(&self, bucket: BucketId) -> depot_api::keys::HeldKeys {
        depot_api::keys::HeldKeys::from_ring(self.s.key_ring_for(bucket)).expect("well-formed ring")
    }

    /// Every bucket behind on keys accepts the current set (the key-push job
    /// with buckets that answer Ok); returns the kid this activated, if any.
    pub fn accept_keys_everywhere(&mut self) -> Option<u32> {
        use crate::jobs::key_push::{finish_key_push, lease_key_pushes};
        let pushes = lease_key_pushes(&mut self.s, self.now, usize::MAX);
        let mut activated = None;
        for push in &pushes {
            activated = finish_key_push(&mut self.s, push, Ok(Ok(())), self.now).or(activated);
        }
        activated
    }

    /// Rotates and lets every bucket accept, so the new key signs.
    pub fn rotate_and_activate(&mut self, seed: [u8; 32]) -> u32 {
        let kid = crate::logic::keys::rotate_key_impl(&mut self.s, seed, self.now).expect("rotate");
        self.accept_keys_everywhere();
        assert_eq!(self.s.active_key().map(|(k, _)| k), Some(kid), "activated");
        kid
    }

    pub fn memory(&self) -> DefaultMemoryImpl {
        self.mem.clone()
    }

    pub fn advance_secs(&mut self, secs: u64) {
        self.now += secs * NANOS_PER_SEC;
    }

    /// A copy of all of stable memory: equal snapshots mean nothing changed.
    pub fn digest(&self) -> Snapshot {
        Snapshot(self.mem.borrow().clone())
    }

    pub fn start(&mut self, user: Principal, size: u64) -> StartUploadResult {
        let res = start_upload_impl(&mut self.s, user, req(size), self.now);
        self.books();
        res
    }

    pub fn start_ok(&mut self, user: Principal, size: u64) -> StartUploadRes {
        self.start(user, size).expect("start_upload")
    }

    /// Commits with a bucket that answers Ok.
    pub fn commit_ok(&mut self, user: Principal, upload_id: &ByteBuf) -> FileMeta {
        let plan = begin_commit(&mut self.s, user, &commit_req(upload_id), self.now).expect("begin_commit");
        let ok = CommitFileOk { size_bytes: 0, sha256: Some(ByteBuf::from(vec![0xcc; 32])), etag: "\"e\"".into() };
        let meta = finish_commit(&mut self.s, &plan.upload_id, Ok(Ok(ok)), self.now).result.expect("finish_commit");
        self.books();
        meta
    }

    /// A Ready file of `size` owned by `user`.
    pub fn ready_file(&mut self, user: Principal, size: u64) -> FileId {
        let res = self.start_ok(user, size);
        self.commit_ok(user, &res.upload_id);
        // Keep the rate limit out of the way of tests that need many files.
        self.advance_secs(13);
        res.file_id
    }

    pub fn usage(&self, user: Principal) -> Usage {
        crate::logic::admin::get_usage_impl(&self.s, user, None, false).unwrap()
    }

    pub fn bucket_info(&self, id: BucketId) -> BucketInfo {
        self.s.buckets.get(&id).unwrap().info(id)
    }
}

/// Nothing charged (the tests of other concerns run under it).
pub fn free_pricing() -> depot_api::billing::Pricing {
    depot_api::billing::Pricing {
        storage_cycles_per_gib_month: 0,
        ingress_cycles_per_gib: 0,
        call_fee_cycles: 0,
        min_deposit_cycles: 0,
        free_bytes: 0,
        ..Default::default()
    }
}

pub fn stat(capacity: u64, used: u64, read_only: bool) -> BucketStat {
    BucketStat {
        used_bytes: used,
        committed_bytes: used,
        allocated_bytes: used,
        capacity_bytes: capacity,
        free_bytes: capacity - used,
        stable_memory_bytes: 0,
        files_count: 0,
        chunks_count: 0,
        certified_responses: 0,
        read_only,
        version: "test".into(),
    }
}

pub fn req(size: u64) -> StartUploadReq {
    StartUploadReq { name: "report.pdf".into(), mime: None, size_bytes: size, sha256: None, retention_days: None }
}

pub fn commit_req(upload_id: &ByteBuf) -> CommitUploadReq {
    CommitUploadReq { upload_id: upload_id.clone(), uploaded_chunk_count: None, final_sha256: None }
}

/// Asserts `f` fails with `expected` and leaves stable memory untouched.
pub fn assert_err_unchanged<T: std::fmt::Debug>(
    fx: &mut Fx,
    expected: DirectoryError,
    f: impl FnOnce(&mut Fx) -> Result<T, DirectoryError>,
) {
    let before = fx.digest();
    let got = f(fx);
    assert_eq!(got.map(|_| ()).unwrap_err(), expected);
    assert_eq!(fx.digest(), before, "state changed on error {expected:?}");
    fx.books();
}
