//! The bucket-deletion queue: picks due items with a lease, applies the
//! bucket's answer, backs off on failure.

use crate::logic::CallFailure;
use crate::logic::files::purge_tombstone;
use crate::model::State;
use crate::model::deletions::{DeleteReason, PendingDelete};
use crate::model::storable::TimedKey;
use crate::model::users::NANOS_PER_SEC;
use depot_api::BucketError;
use depot_api::bucket::DeleteFileResult;

/// Deletions attempted per run.
pub const RECONCILE_BATCH: usize = 50;
/// An item being attempted is moved this far into the future, so a
/// concurrent run does not pick it again while the call is in flight.
pub const LEASE_SECS: u64 = 5 * 60;
/// Back-off after the n-th failure: BASE · 2^n, at most MAX.
pub const RETRY_BASE_SECS: u64 = 60;
pub const RETRY_MAX_SECS: u64 = 6 * 60 * 60;

pub fn backoff_secs(attempts: u32) -> u64 {
    RETRY_BASE_SECS.saturating_mul(1u64 << attempts.min(20)).min(RETRY_MAX_SECS)
}

/// Takes item `key` (if present) under a lease; returns its new key.
pub fn lease(state: &mut State, key: TimedKey, now_ns: u64) -> Option<(TimedKey, PendingDelete)> {
    let mut item = state.pending_deletes.remove(&key)?;
    item.attempts += 1;
    let leased = TimedKey::new(now_ns.saturating_add(LEASE_SECS * NANOS_PER_SEC), key.id);
    state.pending_deletes.insert(leased, item.clone());
    Some((leased, item))
}

/// Leases up to `max` items that are due.
pub fn lease_due(state: &mut State, now_ns: u64, max: usize) -> Vec<(TimedKey, PendingDelete)> {
    let due: Vec<TimedKey> = state.pending_deletes.keys_range(..=TimedKey::new(now_ns, [0xff; 16])).take(max).collect();
    due.into_iter().filter_map(|k| lease(state, k, now_ns)).collect()
}

/// Applies the bucket's answer to the leased item `key`. `NotFound` means
/// the chunks are already gone: success.
pub fn finish_delete(
    state: &mut State,
    key: TimedKey,
    answer: Result<DeleteFileResult, CallFailure>,
    now_ns: u64,
) -> bool {
    let Some(mut item) = state.pending_deletes.remove(&key) else { return false };
    let error = match answer {
        Ok(Ok(_)) | Ok(Err(BucketError::NotFound)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(f) => Some(f.to_string()),
    };
    match error {
        None => {
            if item.reason == DeleteReason::FileDeleted {
                purge_tombstone(state, &item.file_id);
            }
            if let Some(at) = item.sweep_again_at_ns.take().filter(|t| *t > now_ns) {
                item.attempts = 0;
                state.pending_deletes.insert(TimedKey::new(at, key.id), item);
            }
            true
        }
        Some(e) => {
            item.last_error = Some(e);
            let retry = TimedKey::new(now_ns.saturating_add(backoff_secs(item.attempts) * NANOS_PER_SEC), key.id);
            state.pending_deletes.insert(retry, item);
            false
        }
    }
}
