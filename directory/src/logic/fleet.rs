//! The fleet's status and top-ups (docs/provisioning.md §4), pure: the job
//! in `jobs::fleet` reads each bucket's `canister_status` in between.

use crate::model::State;
use crate::model::fleet_settings::FleetSettings;
use candid::Principal;
use depot_api::limits::{BUCKET_RUNWAY_DAYS, BUCKET_TOP_UP_DAYS};
use std::ops::Bound;

const SECS_PER_DAY: u128 = 86_400;
const NANOS_PER_DAY: u128 = 86_400 * 1_000_000_000;

/// What `canister_status` told about a bucket.
pub enum StatusRead {
    Read {
        cycles: u128,
        module_hash: Option<Vec<u8>>,
        idle_cycles_per_day: u128,
        freezing_threshold_secs: u64,
    },
    /// The call failed (e.g. the directory is not a controller any more).
    Failed(String),
}

/// The next `n` registered buckets, from the cursor on (wrapping), and the
/// cursor moved past them. A bucket the directory does not control answers
/// `canister_status` with a reject, and stays outside the fleet's care.
pub fn next_batch(state: &mut State, n: usize) -> Vec<Principal> {
    let cursor = state.runtime().fleet_status_cursor;
    let after = |from: Bound<Principal>| {
        state.buckets.range((from, Bound::Unbounded)).map(|e| *e.key()).take(n).collect::<Vec<_>>()
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

/// When a bucket is topped up and by how much, from its burn: under its
/// freezing limit plus `BUCKET_RUNWAY_DAYS` of burn (never under the
/// `bucket_top_up_threshold_cycles` setting), by `BUCKET_TOP_UP_DAYS` of
/// burn (never less than `bucket_top_up_cycles`). A bucket that stores and
/// serves more burns more, and its threshold follows.
pub fn top_up_plan(
    burn_per_day: u128,
    idle_cycles_per_day: u128,
    freezing_threshold_secs: u64,
    fleet: &FleetSettings,
) -> (u128, u128) {
    let freeze_limit = idle_cycles_per_day.saturating_mul(freezing_threshold_secs as u128) / SECS_PER_DAY;
    let below = freeze_limit
        .saturating_add(burn_per_day.saturating_mul(BUCKET_RUNWAY_DAYS as u128))
        .max(fleet.top_up_threshold_cycles);
    let amount = burn_per_day.saturating_mul(BUCKET_TOP_UP_DAYS as u128).max(fleet.top_up_cycles);
    (below, amount)
}

/// Records a status read: balance, module, and the burn since the last
/// read (top-ups in between are already in the recorded balance). Returns
/// the cycles to send when the bucket is under its threshold and the
/// directory (`balance`) stays at or above its reserve after sending them.
pub fn record_status(
    state: &mut State,
    bucket: Principal,
    read: StatusRead,
    balance: u128,
    now_ns: u64,
) -> Option<u128> {
    let mut b = state.buckets.get(&bucket)?;
    let StatusRead::Read { cycles, module_hash, idle_cycles_per_day, freezing_threshold_secs } = read else {
        return None;
    };
    let measured = match (b.cycles, b.status_at_ns) {
        (Some(before), Some(at)) if now_ns > at => {
            Some(before.saturating_sub(cycles).saturating_mul(NANOS_PER_DAY) / (now_ns - at) as u128)
        }
        _ => b.burn_per_day,
    };
    let burn = measured.unwrap_or(0).max(idle_cycles_per_day);
    let fleet = state.settings().fleet.clone();
    let (below, amount) = top_up_plan(burn, idle_cycles_per_day, freezing_threshold_secs, &fleet);
    b.cycles = Some(cycles);
    b.module_hash = module_hash;
    b.status_at_ns = Some(now_ns);
    b.burn_per_day = Some(burn);
    b.top_up_below = Some(below);
    state.put_bucket(bucket, b);
    let affordable = balance >= amount && balance - amount >= fleet.directory_reserve_cycles;
    (cycles < below && affordable).then_some(amount)
}

/// `deposit_cycles` succeeded.
pub fn topped_up(state: &mut State, bucket: Principal, cycles: u128) {
    if let Some(mut b) = state.buckets.get(&bucket) {
        b.cycles = b.cycles.map(|c| c.saturating_add(cycles));
        state.put_bucket(bucket, b);
    }
    state.update_runtime(|rt| rt.top_up_cycles_sent = rt.top_up_cycles_sent.saturating_add(cycles));
}
