//! Usage, statistics and administration. Admin = the canister's controllers;
//! endpoints pass `is_controller` in so these stay pure.

use super::{invalid, require_user};
use crate::model::State;
use crate::model::buckets::BucketRecord;
use candid::Principal;
use depot_api::bucket::BucketStat;
use depot_api::directory::*;
use depot_api::keys::BucketKey;
use depot_api::{BucketId, DirectoryError};

pub fn require_admin(is_controller: bool) -> Result<(), DirectoryError> {
    if is_controller { Ok(()) } else { Err(DirectoryError::Unauthorised) }
}

/// Own usage; another user's only for controllers.
pub fn get_usage_impl(state: &State, caller: Principal, user: Option<Principal>, is_controller: bool) -> UsageResult {
    require_user(caller)?;
    let user = user.unwrap_or(caller);
    if user != caller {
        require_admin(is_controller)?;
    }
    let default_quota = state.settings().default_quota_bytes;
    let r = state.user(user);
    Ok(Usage {
        user,
        used_bytes: r.used_bytes,
        reserved_bytes: r.reserved_bytes,
        quota_bytes: r.quota(default_quota),
        files_count: r.files_count,
        uploads_in_progress: r.uploads_in_progress,
    })
}

/// Totals come from the bucket registry (few entries), not from scanning
/// users or files.
/// `balance`: the directory's cycles now.
pub fn admin_get_stats_impl(state: &State, balance: u128) -> AdminStats {
    let (mut total_bytes, mut total_files, mut reserved_bytes) = (0u64, 0u64, 0u64);
    for b in state.buckets.values() {
        total_bytes += b.used_bytes;
        total_files += b.files_count;
        reserved_bytes += b.reserved_bytes;
    }
    AdminStats {
        total_bytes,
        total_files,
        users_count: state.users.len(),
        buckets_count: state.buckets.len(),
        active_uploads: state.uploads.len(),
        reserved_bytes,
        pending_bucket_deletes: state.pending_deletes.len(),
        signing_key_ids: state.signing_keys.keys().collect(),
        active_signing_key_id: state.active_key().map(|(kid, _)| kid),
        pending_signing_key_id: state.pending_key().map(|(kid, _)| kid),
        keys_version: state.runtime().keys_version,
        bucket_wasm: crate::bucket_wasm::info(),
        provisioning: super::provisioning::stats(state, balance),
        buckets: list_buckets_impl(state),
        rollout: state.rollout().map(super::rollout::info),
    }
}

pub use depot_api::directory::MemoryStat;

pub fn admin_get_memory_stats_impl(state: &State) -> Vec<MemoryStat> {
    state.memory_bytes().into_iter().map(|(name, bytes)| MemoryStat { name, bytes }).collect()
}

pub fn admin_set_quota_impl(state: &mut State, user: Principal, quota_bytes: u64) -> UnitResult {
    if user == Principal::anonymous() {
        return Err(invalid("the anonymous principal has no account"));
    }
    let mut r = state.user(user);
    r.quota_bytes = Some(quota_bytes);
    state.put_user(user, r);
    Ok(())
}

pub fn list_buckets_impl(state: &State) -> Vec<BucketInfo> {
    state.buckets.iter().map(|e| e.value().info(*e.key())).collect()
}

/// Checks a registration before the bucket is called. Returns the key set
/// to push and its version.
pub fn begin_register_bucket(state: &State, req: &RegisterBucketReq) -> Result<(Vec<BucketKey>, u64), DirectoryError> {
    if req.id == Principal::anonymous() || req.id == Principal::management_canister() {
        return Err(invalid("not a bucket canister id"));
    }
    if req.soft_limit_bytes == 0 || req.soft_limit_bytes > req.hard_limit_bytes {
        return Err(invalid("limits must satisfy 0 < soft_limit_bytes ≤ hard_limit_bytes"));
    }
    if state.buckets.contains_key(&req.id) {
        return Err(invalid("bucket is already registered"));
    }
    if state.active_key().is_none() {
        return Err(super::unavailable("initialising: no signing key to give the bucket yet"));
    }
    Ok((state.key_ring_for(req.id), state.runtime().keys_version))
}

/// Registers the bucket once it accepted our keys and answered `stat`.
/// `provisioned`: the directory created it (it goes to the pool).
pub fn finish_register_bucket(
    state: &mut State,
    req: &RegisterBucketReq,
    stat: &BucketStat,
    keys_version: u64,
    provisioned: bool,
    now_ns: u64,
) -> UnitResult {
    // Re-checked: another registration may have run during the calls.
    if state.buckets.contains_key(&req.id) {
        return Err(invalid("bucket is already registered"));
    }
    if req.hard_limit_bytes > stat.capacity_bytes {
        return Err(invalid(format!(
            "hard_limit_bytes {} exceeds the bucket's capacity {}",
            req.hard_limit_bytes, stat.capacity_bytes
        )));
    }
    let mut record = BucketRecord {
        state: if stat.read_only { BucketState::ReadOnly } else { BucketState::Writable },
        auto_draining: false,
        // Bytes already in the bucket count against its limits.
        used_bytes: stat.used_bytes,
        reserved_bytes: 0,
        soft_limit_bytes: req.soft_limit_bytes,
        hard_limit_bytes: req.hard_limit_bytes,
        files_count: 0,
        registered_used_bytes: stat.used_bytes,
        registered_at_ns: now_ns,
        keys_pushed_version: keys_version,
        keys_push_not_before_ns: 0,
        reserved_files: 0,
        max_files: state.settings().fleet.bucket_max_files,
        in_pool: provisioned,
        provisioned,
        cycles: None,
        module_hash: None,
        status_at_ns: None,
        burn_per_day: None,
        top_up_below: None,
    };
    record.update_draining();
    state.put_bucket(req.id, record);
    Ok(())
}

/// The `set_read_only` flag the bucket must get before the state change, if
/// any.
pub fn plan_bucket_state(state: &State, id: BucketId, new: BucketState) -> Result<Option<bool>, DirectoryError> {
    let b = state.buckets.get(&id).ok_or(DirectoryError::NotFound)?;
    Ok(match (b.state, new) {
        (BucketState::ReadOnly, BucketState::ReadOnly) => None,
        (_, BucketState::ReadOnly) => Some(true),
        (BucketState::ReadOnly, _) => Some(false),
        _ => None,
    })
}

pub fn apply_bucket_state(state: &mut State, id: BucketId, new: BucketState) -> UnitResult {
    let mut b = state.buckets.get(&id).ok_or(DirectoryError::NotFound)?;
    b.state = new;
    b.auto_draining = false;
    if new == BucketState::Writable {
        b.update_draining();
    }
    state.put_bucket(id, b);
    Ok(())
}
