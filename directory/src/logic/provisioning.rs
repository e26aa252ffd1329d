//! Bucket provisioning decisions (docs/provisioning.md §2–§4): what the
//! provisioning job does next, the journal's steps, and the pool. Pure:
//! `jobs::provision` makes the management-canister calls in between.

use crate::model::State;
use crate::model::provisioning::{ProvisionEntry, ProvisionStep};
use crate::model::storable::RouteKey;
use candid::Principal;
use depot_api::bucket::BucketInit;
use depot_api::directory::{BucketState, ProvisionInfo, ProvisioningStats, RegisterBucketReq};
use depot_api::limits::{MAX_PROVISION_ATTEMPTS, PROVISION_STALE_SECS};

const NANOS_PER_SEC: u64 = 1_000_000_000;
const TRILLION: f64 = 1e12;

/// What the directory knows of itself that the state does not hold.
#[derive(Clone, Copy, Debug)]
pub struct Means {
    /// Its cycles balance now.
    pub balance: u128,
    /// Whether its build embeds a bucket wasm.
    pub has_wasm: bool,
}

/// The provisioning job's next step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Create a bucket with these cycles (journal entry `seq` written).
    Create {
        seq: u64,
        cycles: u128,
    },
    /// Install the bucket wasm in `bucket` (`reinstall`: a retry, so the
    /// canister may hold a module already; it never holds files).
    Install {
        seq: u64,
        bucket: Principal,
        reinstall: bool,
    },
    /// Register `bucket` (set its keys, read its stat).
    Register {
        seq: u64,
        bucket: Principal,
    },
    Nothing,
}

/// Why no bucket can be created now.
pub fn paused_reason(state: &State, means: Means) -> Option<String> {
    let fleet = &state.settings().fleet;
    if !means.has_wasm {
        return Some("this directory build embeds no bucket wasm (build it with scripts/build-wasm.sh)".into());
    }
    if !state.is_initialised() {
        return Some("initialising: no signing key for new buckets yet".into());
    }
    let needed = fleet.directory_reserve_cycles.saturating_add(fleet.creation_cycles);
    if means.balance < needed {
        return Some(format!(
            "the directory holds {:.3} T cycles, under its reserve of {:.3} T plus {:.3} T to create a bucket",
            means.balance as f64 / TRILLION,
            fleet.directory_reserve_cycles as f64 / TRILLION,
            fleet.creation_cycles as f64 / TRILLION,
        ));
    }
    None
}

/// Pooled buckets ready to take files.
pub fn pool_ready(state: &State) -> u32 {
    // The routing index's class 1: Writable pooled buckets.
    state.routing.range(RouteKey::first_of(1)..RouteKey::first_of(2)).count() as u32
}

/// The pool holds fewer ready buckets than its target.
pub fn pool_short(state: &State) -> bool {
    pool_ready(state) < state.settings().fleet.pool_target
}

/// Decides the next step and, for a creation, writes its journal entry
/// first. `demand`: an upload found no bucket with room since the last
/// run. Journal entries that can go on come first; a new bucket is made
/// when the pool (with the buckets being made) is short of its target, or
/// on demand. Records why creating is paused.
pub fn next_step(state: &mut State, means: Means, demand: bool, now_ns: u64) -> Next {
    let paused = paused_reason(state, means);
    if state.runtime().provision_paused != paused {
        state.update_runtime(|rt| rt.provision_paused = paused.clone());
    }
    for (seq, e) in state.provisions.iter().map(|e| e.into_pair()) {
        if e.attempts >= MAX_PROVISION_ATTEMPTS {
            continue;
        }
        match e.step {
            ProvisionStep::Creating => {}
            ProvisionStep::Created(bucket) => return Next::Install { seq, bucket, reinstall: e.attempts > 0 },
            ProvisionStep::Installed(bucket) => return Next::Register { seq, bucket },
        }
    }
    if paused.is_some() {
        return Next::Nothing;
    }
    let target = state.settings().fleet.pool_target.max(demand as u32);
    // Stuck entries make no bucket: they do not count as coming.
    let making = state.provisions.values().filter(|e| !is_stuck(e, now_ns)).count() as u32;
    let coming = pool_ready(state) + making;
    if coming >= target {
        return Next::Nothing;
    }
    let seq = state.update_runtime(|rt| {
        rt.next_provision_seq += 1;
        rt.next_provision_seq
    });
    let entry = ProvisionEntry {
        step: ProvisionStep::Creating,
        started_at_ns: now_ns,
        step_at_ns: now_ns,
        attempts: 0,
        last_error: None,
    };
    state.provisions.insert(seq, entry);
    Next::Create { seq, cycles: state.settings().fleet.creation_cycles }
}

fn update(state: &mut State, seq: u64, f: impl FnOnce(&mut ProvisionEntry)) {
    if let Some(mut e) = state.provisions.get(&seq) {
        f(&mut e);
        state.provisions.insert(seq, e);
    }
}

/// `create_canister` answered with `bucket`.
pub fn created(state: &mut State, seq: u64, bucket: Principal, now_ns: u64) {
    update(state, seq, |e| {
        e.step = ProvisionStep::Created(bucket);
        e.step_at_ns = now_ns;
        e.attempts = 0;
        e.last_error = None;
    });
}

/// `create_canister` was rejected: no canister exists and the cycles came
/// back, so the entry goes.
pub fn create_failed(state: &mut State, seq: u64, error: &str) {
    state.provisions.remove(&seq);
    state.update_runtime(|rt| rt.provision_paused = Some(format!("the last bucket creation failed: {error}")));
}

pub fn installed(state: &mut State, seq: u64, now_ns: u64) {
    update(state, seq, |e| {
        if let ProvisionStep::Created(id) = e.step {
            e.step = ProvisionStep::Installed(id);
            e.step_at_ns = now_ns;
            e.attempts = 0;
            e.last_error = None;
        }
    });
}

/// An install or registration failed: tried again on the next run, up to
/// `MAX_PROVISION_ATTEMPTS`, then left for the operator.
pub fn step_failed(state: &mut State, seq: u64, error: String, now_ns: u64) {
    update(state, seq, |e| {
        e.attempts += 1;
        e.step_at_ns = now_ns;
        e.last_error = Some(error);
    });
}

/// The bucket is registered (in the pool): its journal entry goes, and the
/// module it was given (`module_hash`) is noted until its status is read.
pub fn registered(state: &mut State, seq: u64, bucket: Principal, module_hash: Option<[u8; 32]>) {
    if state.provisions.remove(&seq).is_some() {
        state.update_runtime(|rt| rt.buckets_created += 1);
    }
    if let Some(mut b) = state.buckets.get(&bucket) {
        b.module_hash = module_hash.map(|h| h.to_vec());
        state.put_bucket(bucket, b);
    }
}

/// The install argument of a new bucket.
pub fn bucket_init(state: &State, directory: Principal) -> BucketInit {
    BucketInit {
        directory,
        keys: state.public_keys(),
        capacity_bytes: Some(state.settings().fleet.bucket_capacity_bytes),
    }
}

/// The registration of a created bucket, with the configured limits.
pub fn register_req(state: &State, bucket: Principal) -> RegisterBucketReq {
    let (soft, hard) = state.settings().fleet.created_limits();
    RegisterBucketReq { id: bucket, soft_limit_bytes: soft, hard_limit_bytes: hard }
}

/// Controllers of a created bucket: the directory and the configured ones.
pub fn controllers(state: &State, directory: Principal) -> Vec<Principal> {
    let mut c = vec![directory];
    c.extend(state.settings().fleet.bucket_controllers.iter().filter(|p| **p != directory));
    c
}

/// Whether the journal entry is stuck: `Creating` past
/// `PROVISION_STALE_SECS` (its reply was lost to an upgrade that did not
/// stop the directory), or out of attempts.
pub fn is_stuck(e: &ProvisionEntry, now_ns: u64) -> bool {
    let stale = now_ns.saturating_sub(e.step_at_ns) > PROVISION_STALE_SECS * NANOS_PER_SEC;
    (e.step == ProvisionStep::Creating && stale) || e.attempts >= MAX_PROVISION_ATTEMPTS
}

pub fn stats(state: &State, balance: u128) -> ProvisioningStats {
    let fleet = &state.settings().fleet;
    let rt = state.runtime();
    ProvisioningStats {
        pool_target: fleet.pool_target,
        pool_ready: pool_ready(state),
        in_progress: state
            .provisions
            .iter()
            .map(|e| {
                let (seq, e) = e.into_pair();
                ProvisionInfo {
                    seq,
                    step: e.step.name().into(),
                    bucket: e.step.bucket(),
                    started_at_ns: e.started_at_ns,
                    attempts: e.attempts,
                    last_error: e.last_error,
                }
            })
            .collect(),
        paused_reason: rt.provision_paused.clone(),
        directory_cycles: balance.into(),
        reserve_cycles: fleet.directory_reserve_cycles.into(),
        buckets_created: rt.buckets_created,
        top_up_cycles_sent: rt.top_up_cycles_sent.into(),
    }
}

/// The largest file some bucket could take when empty: a new bucket's soft
/// limit, or a registered bucket's that is larger.
pub fn largest_placeable(state: &State) -> u64 {
    let created = state.settings().fleet.created_limits().0;
    state
        .buckets
        .values()
        .filter(|b| b.state != BucketState::ReadOnly)
        .map(|b| b.soft_limit_bytes)
        .fold(created, u64::max)
}

/// `start_upload`'s answer when no bucket has room and one is being made.
pub const NO_ROOM_CREATING: &str =
    "no bucket has room for this file yet: a new bucket is being created; retry in a minute";

/// `start_upload`'s answer when no bucket has room.
pub fn no_room_reason(state: &State) -> String {
    match &state.runtime().provision_paused {
        Some(why) => format!("no bucket has room for this file, and none can be created now: {why}"),
        None => NO_ROOM_CREATING.into(),
    }
}
