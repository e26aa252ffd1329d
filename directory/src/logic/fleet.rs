//! The fleet's status and top-ups (docs/provisioning.md §4), pure: the job
//! in `jobs::fleet` reads each bucket's `canister_status` in between.

use crate::model::State;
use candid::Principal;
use std::ops::Bound;

/// What `canister_status` told about a bucket.
pub enum StatusRead {
    Read {
        cycles: u128,
        module_hash: Option<Vec<u8>>,
    },
    /// The call failed (e.g. the directory is not a controller any more).
    Failed(String),
}

/// The next `n` buckets the directory created, from the cursor on
/// (wrapping), and the cursor moved past them.
pub fn next_batch(state: &mut State, n: usize) -> Vec<Principal> {
    let cursor = state.runtime().fleet_status_cursor;
    let after = |from: Bound<Principal>| {
        state
            .buckets
            .range((from, Bound::Unbounded))
            .filter(|e| e.value().provisioned)
            .map(|e| *e.key())
            .take(n)
            .collect::<Vec<_>>()
    };
    let mut batch = after(cursor.map_or(Bound::Unbounded, Bound::Excluded));
    if batch.len() < n && cursor.is_some() {
        // Wrap around to the start, without repeating.
        let wrapped: Vec<_> = after(Bound::Unbounded).into_iter().filter(|b| !batch.contains(b)).collect();
        batch.extend(wrapped.into_iter().take(n - batch.len()));
    }
    let next = batch.last().copied();
    state.update_runtime(|rt| rt.fleet_status_cursor = next);
    batch
}

/// Records a status read. Returns the cycles to send when the bucket is
/// under its threshold and the directory (`balance`) stays at or above its
/// reserve after sending them.
pub fn record_status(
    state: &mut State,
    bucket: Principal,
    read: StatusRead,
    balance: u128,
    now_ns: u64,
) -> Option<u128> {
    let mut b = state.buckets.get(&bucket)?;
    let StatusRead::Read { cycles, module_hash } = read else { return None };
    b.cycles = Some(cycles);
    b.module_hash = module_hash;
    b.status_at_ns = Some(now_ns);
    state.put_bucket(bucket, b);
    let fleet = &state.settings().fleet;
    let affordable =
        balance.saturating_sub(fleet.top_up_cycles) >= fleet.directory_reserve_cycles && balance >= fleet.top_up_cycles;
    (cycles < fleet.top_up_threshold_cycles && affordable).then_some(fleet.top_up_cycles)
}

/// `deposit_cycles` succeeded.
pub fn topped_up(state: &mut State, bucket: Principal, cycles: u128) {
    if let Some(mut b) = state.buckets.get(&bucket) {
        b.cycles = b.cycles.map(|c| c.saturating_add(cycles));
        state.put_bucket(bucket, b);
    }
    state.update_runtime(|rt| rt.top_up_cycles_sent = rt.top_up_cycles_sent.saturating_add(cycles));
}
