//! Pushes each bucket its key ring (every public key with that bucket's
//! MAC key, `set_key_ring`) when it has an older version (after a
//! rotation, a revocation or a dropped key), records which version each
//! bucket accepted, and activates a pending key once every bucket has it
//! (`logic::keys`).
//!
//! Pushes to one bucket arrive in the order they were sent (the IC keeps
//! the order of requests between two canisters), and `set_key_ring` replaces
//! the whole set, so a bucket ends with the newest set it was sent.

use crate::logic::CallFailure;
use crate::logic::keys::activate_if_accepted;
use crate::model::State;
use crate::model::users::NANOS_PER_SEC;
use candid::Principal;
use depot_api::bucket::UnitResult;
use depot_api::keys::BucketKey;

/// Buckets pushed per run.
pub const KEY_PUSH_BATCH: usize = 20;
/// Lease while a push is in flight, and the wait after a failed push.
pub const KEY_PUSH_RETRY_SECS: u64 = 2 * 60;

pub struct KeyPush {
    pub bucket: Principal,
    pub version: u64,
    /// The bucket's own ring (its MAC keys are its alone).
    pub keys: Vec<BucketKey>,
}

/// Buckets behind on keys and not leased, each leased now.
pub fn lease_key_pushes(state: &mut State, now_ns: u64, max: usize) -> Vec<KeyPush> {
    let version = state.runtime().keys_version;
    let due: Vec<Principal> = state
        .buckets
        .iter()
        .filter(|e| {
            let b = e.value();
            b.keys_pushed_version < version && b.keys_push_not_before_ns <= now_ns
        })
        .map(|e| *e.key())
        .take(max)
        .collect();
    if due.is_empty() {
        return vec![];
    }
    due.into_iter()
        .map(|bucket| {
            let mut b = state.buckets.get(&bucket).expect("listed above");
            b.keys_push_not_before_ns = now_ns.saturating_add(KEY_PUSH_RETRY_SECS * NANOS_PER_SEC);
            state.put_bucket(bucket, b);
            KeyPush { bucket, version, keys: state.key_ring_for(bucket) }
        })
        .collect()
}

/// Applies the bucket's answer to `set_key_ring`: a refusal (its own error or
/// a failed call) is retried after `KEY_PUSH_RETRY_SECS`. After an
/// acceptance the pending key, if any, is activated when this was the last
/// bucket without it; returns that kid.
pub fn finish_key_push(
    state: &mut State,
    push: &KeyPush,
    answer: Result<UnitResult, CallFailure>,
    now_ns: u64,
) -> Option<u32> {
    let mut b = state.buckets.get(&push.bucket)?;
    let accepted = matches!(answer, Ok(Ok(())));
    if accepted {
        b.keys_pushed_version = b.keys_pushed_version.max(push.version);
        b.keys_push_not_before_ns = 0;
    } else {
        b.keys_push_not_before_ns = now_ns.saturating_add(KEY_PUSH_RETRY_SECS * NANOS_PER_SEC);
    }
    state.put_bucket(push.bucket, b);
    if accepted { activate_if_accepted(state, now_ns) } else { None }
}
