//! Background jobs, run by the maintenance timer and on demand. The pure
//! steps live in the submodules; this file only sequences them around the
//! bucket calls.

pub mod fleet;
pub mod key_push;
pub mod provision;
pub mod reaper;
pub mod reconcile;
pub mod rollout;

use crate::logic::billing;
use crate::model::storable::TimedKey;
use crate::{bucket_client, state};
use depot_api::bucket::DeleteFileArgs;

/// Period of the maintenance tick (reaper, storage charging, deposit
/// journal, deletion queue, key push).
pub const MAINTENANCE_INTERVAL_SECS: u64 = 60;

fn now() -> u64 {
    ic_cdk::api::time()
}

/// One maintenance tick. Concurrent ticks are harmless: every item taken is
/// leased first.
pub async fn run_maintenance() {
    state::mutate(|s| reaper::reap_expired_uploads(s, now(), reaper::REAP_BATCH));
    let accrual = state::mutate(|s| billing::accrue_due(s, now(), billing::ACCRUAL_BATCH));
    state::mutate(|s| billing::prune_deposits(s, now(), billing::PRUNE_BATCH));
    update_serving(accrual.attention).await;
    let expired = state::mutate(|s| crate::logic::files::expire_retained(s, now(), depot_api::limits::RETENTION_BATCH));
    attempt_deletes(expired).await;
    state::mutate(|s| crate::logic::keys::drop_expired_keys(s, now()));
    // Normally done by the push that completes the set; also here, so a
    // pending key never waits on a push that already happened.
    state::mutate(|s| crate::logic::keys::activate_if_accepted(s, now()));
    let deletes = state::mutate(|s| reconcile::lease_due(s, now(), reconcile::RECONCILE_BATCH));
    for (key, item) in deletes {
        let answer = bucket_client::delete_file(item.bucket, DeleteFileArgs { file_id: item.file_id }).await;
        state::mutate(|s| reconcile::finish_delete(s, key, answer, now()));
    }
    push_keys().await;
    provision::run().await;
    fleet::run().await;
    rollout::run().await;
    crate::metrics::job_ran("maintenance", now());
}

/// Bucket calls per user and run of `update_serving`: the rest waits for
/// the next tick.
pub const SERVING_CALLS_PER_USER: usize = 10;

/// Unpaid accounts (`logic::suspension`): holds their files back or serves
/// them again to match each account's state, and deletes them once the
/// deletion period has passed.
pub async fn update_serving(users: Vec<candid::Principal>) {
    use crate::logic::suspension;
    for user in users {
        for _ in 0..SERVING_CALLS_PER_USER {
            let Some(change) = state::mutate(|s| suspension::next_serving_change(s, user, now())) else { break };
            let args = depot_api::bucket::SetSuspendedArgs { files: change.files.clone(), suspended: change.suspend };
            let answer = bucket_client::set_suspended(change.bucket, args).await;
            if !state::mutate(|s| suspension::finish_serving_change(s, &change, answer)) {
                break;
            }
        }
        let queued = state::mutate(|s| suspension::delete_unpaid(s, user, now(), suspension::DELETE_BATCH));
        attempt_deletes(queued).await;
    }
}

/// Attempts queued deletions right away (after delete_file / abort); the
/// queue keeps any that fail.
pub async fn attempt_deletes(keys: Vec<TimedKey>) {
    for key in keys {
        let Some((leased, item)) = state::mutate(|s| reconcile::lease(s, key, now())) else { continue };
        let answer = bucket_client::delete_file(item.bucket, DeleteFileArgs { file_id: item.file_id }).await;
        state::mutate(|s| reconcile::finish_delete(s, leased, answer, now()));
    }
}

/// Rounds of `push_keys`: a bucket that accepted a set which changed while
/// the call was in flight (a revocation) is due again at once, and is sent
/// the newer set in the next round rather than at the next tick.
pub const KEY_PUSH_ROUNDS: usize = 3;

pub async fn push_keys() {
    for _ in 0..KEY_PUSH_ROUNDS {
        let pushes = state::mutate(|s| key_push::lease_key_pushes(s, now(), key_push::KEY_PUSH_BATCH));
        if pushes.is_empty() {
            return;
        }
        for push in pushes {
            let answer = bucket_client::set_key_ring(push.bucket, push.keys.clone()).await;
            state::mutate(|s| key_push::finish_key_push(s, &push, answer, now()));
        }
    }
}
