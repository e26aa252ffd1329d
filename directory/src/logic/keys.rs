//! Signing-key lifecycle: the first key at install; rotation as
//! publish-then-activate; forced activation; emergency revocation; dropping
//! retired keys once nothing they signed can still be valid.
//!
//! Rotation adds a **pending** key: it is published (`get_public_keys`) and
//! pushed to every bucket by the key-push job, but the active key keeps
//! signing. The pending key becomes active once every registered bucket has
//! accepted a key set containing it (`BucketRecord::keys_pushed_version` ≥
//! the version it was published in), so no bucket ever sees a token or URL
//! under a kid it does not know. A bucket that never answers does not block
//! rotation forever: an admin may force activation
//! (`admin_activate_signing_key`), accepting that the lagging bucket refuses
//! new tokens and URLs until it catches up. There is no automatic timeout:
//! an unforced rotation is hygiene, and the old key signing a while longer
//! is safe; a leaked key is handled by revocation, which acts at once.
//!
//! When a key is activated the previous one is retired and keeps verifying
//! for `Settings::key_retention_secs` from that moment (it signed until
//! then).
//!
//! Revocation removes a key (seed included) at once and bumps the key
//! version, so every bucket is sent the set without it. The active key can
//! be revoked only when a pending key can take over (it is activated at
//! once); otherwise the admin rotates first. Kids are drawn from a counter
//! and never reused.

use super::admin::require_admin;
use super::invalid;
use crate::model::State;
use crate::model::keys::SigningKeyRecord;
use crate::model::users::NANOS_PER_SEC;
use depot_api::DirectoryError;
use depot_api::limits::MAX_SIGNING_KEYS;

/// Installs the first key, active at once (no bucket exists yet); a no-op
/// when a key exists already.
pub fn install_first_key(state: &mut State, seed: [u8; 32], now_ns: u64) {
    if state.active_key().is_some() {
        return;
    }
    add_key(state, seed, now_ns, false);
}

/// Adds a key under a new kid and bumps the key version; pending if asked.
fn add_key(state: &mut State, seed: [u8; 32], now_ns: u64, pending: bool) -> u32 {
    let (kid, version) = state.update_runtime(|rt| {
        rt.last_kid += 1;
        rt.keys_version += 1;
        (rt.last_kid, rt.keys_version)
    });
    let record = SigningKeyRecord {
        seed,
        created_at_ns: now_ns,
        retired_at_ns: None,
        drop_at_ns: None,
        pending_since_version: pending.then_some(version),
    };
    state.signing_keys.insert(kid, record);
    kid
}

/// Keys still in the set at `now` once expired retired keys are dropped.
fn keys_alive(state: &State, now_ns: u64) -> usize {
    state.signing_keys.iter().filter(|e| e.value().drop_at_ns.is_none_or(|t| t > now_ns)).count()
}

/// Refuses a rotation while another is pending, or one that would hold more
/// than MAX_SIGNING_KEYS keys: dropping a retired key early would invalidate
/// tokens and URLs it signed.
pub fn check_rotation(state: &State, now_ns: u64) -> Result<(), DirectoryError> {
    if state.active_key().is_none() {
        return Err(super::unavailable("initialising: no signing key yet"));
    }
    if let Some((kid, _)) = state.pending_key() {
        return Err(invalid(format!(
            "key {kid} is pending activation; wait for every bucket, activate it or revoke it first"
        )));
    }
    if keys_alive(state, now_ns) >= MAX_SIGNING_KEYS {
        let next_drop = state.signing_keys.iter().filter_map(|e| e.value().drop_at_ns).min().unwrap_or(now_ns);
        return Err(invalid(format!(
            "{MAX_SIGNING_KEYS} keys still verify; the oldest retired key is dropped at {next_drop} ns"
        )));
    }
    Ok(())
}

/// Publishes a pending key from `seed` (the active key keeps signing) and
/// activates it at once if every bucket already has it (none registered).
/// Returns the new kid.
pub fn rotate_key_impl(state: &mut State, seed: [u8; 32], now_ns: u64) -> Result<u32, DirectoryError> {
    check_rotation(state, now_ns)?;
    drop_expired_keys(state, now_ns);
    let kid = add_key(state, seed, now_ns, true);
    activate_if_accepted(state, now_ns);
    Ok(kid)
}

/// Whether every registered bucket accepted key set `version` or a later one.
fn all_buckets_have(state: &State, version: u64) -> bool {
    state.buckets.values().all(|b| b.keys_pushed_version >= version)
}

/// Activates the pending key if every registered bucket accepted a key set
/// containing it. Returns the activated kid. (A later set still contains
/// it: a pending key leaves the set only by revocation, which removes it.)
pub fn activate_if_accepted(state: &mut State, now_ns: u64) -> Option<u32> {
    let (kid, record) = state.pending_key()?;
    let version = record.pending_since_version.expect("pending");
    if !all_buckets_have(state, version) {
        return None;
    }
    activate(state, kid, now_ns);
    Some(kid)
}

/// Admin: activates the pending key `kid` now, even if some bucket has not
/// accepted it yet (that bucket refuses new tokens and URLs until the
/// key-push job reaches it).
pub fn activate_key_impl(state: &mut State, kid: u32, now_ns: u64) -> Result<(), DirectoryError> {
    let record = state.signing_keys.get(&kid).ok_or(DirectoryError::NotFound)?;
    if !record.is_pending() {
        return Err(invalid(format!("key {kid} is not pending activation")));
    }
    activate(state, kid, now_ns);
    Ok(())
}

/// Makes the pending `kid` the signing key and retires the active one (it
/// keeps verifying for `key_retention_secs`). The published set does not
/// change, so the key version does not either.
fn activate(state: &mut State, kid: u32, now_ns: u64) {
    let retention_ns = state.settings().key_retention_secs() * NANOS_PER_SEC;
    if let Some((old_kid, _)) = state.active_key() {
        let mut old = state.signing_keys.get(&old_kid).expect("active key exists");
        old.retired_at_ns = Some(now_ns);
        old.drop_at_ns = Some(now_ns.saturating_add(retention_ns));
        state.signing_keys.insert(old_kid, old);
    }
    let mut new = state.signing_keys.get(&kid).expect("pending key exists");
    new.pending_since_version = None;
    state.signing_keys.insert(kid, new);
}

/// Admin, emergency: `kid` stops verifying at once. Its record (and seed)
/// is removed and the key version bumped, so the key-push job sends every
/// bucket the set without it. Revoking the active key activates the pending
/// key at once; without one it is refused (rotate first). Revoking the
/// pending key cancels its rotation. Returns the kid that signs afterwards.
pub fn revoke_key_impl(state: &mut State, kid: u32, now_ns: u64) -> Result<u32, DirectoryError> {
    let record = state.signing_keys.get(&kid).ok_or(DirectoryError::NotFound)?;
    if record.is_active() {
        let (pending, _) = state.pending_key().ok_or_else(|| {
            invalid(format!(
                "key {kid} is the signing key and no key is pending: rotate first, then revoke it \
                 (the pending key then signs at once)"
            ))
        })?;
        activate(state, pending, now_ns);
    }
    state.signing_keys.remove(&kid);
    state.update_runtime(|rt| rt.keys_version += 1);
    Ok(state.active_key().expect("another key signs").0)
}

/// `admin_activate_signing_key`: controllers only, then [`activate_key_impl`].
pub fn admin_activate_key(state: &mut State, is_controller: bool, kid: u32, now_ns: u64) -> Result<(), DirectoryError> {
    require_admin(is_controller)?;
    activate_key_impl(state, kid, now_ns)
}

/// `admin_revoke_signing_key`: controllers only, then [`revoke_key_impl`].
pub fn admin_revoke_key(state: &mut State, is_controller: bool, kid: u32, now_ns: u64) -> Result<u32, DirectoryError> {
    require_admin(is_controller)?;
    revoke_key_impl(state, kid, now_ns)
}

/// Drops retired keys whose tokens and URLs have all expired; bumps the key
/// version (so buckets get the smaller set) when one was dropped.
pub fn drop_expired_keys(state: &mut State, now_ns: u64) -> usize {
    let expired: Vec<u32> = state
        .signing_keys
        .iter()
        .filter(|e| e.value().drop_at_ns.is_some_and(|t| t <= now_ns))
        .map(|e| *e.key())
        .collect();
    for kid in &expired {
        state.signing_keys.remove(kid);
    }
    if !expired.is_empty() {
        state.update_runtime(|rt| rt.keys_version += 1);
    }
    expired.len()
}
