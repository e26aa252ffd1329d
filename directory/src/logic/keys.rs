//! Signing-key lifecycle: the first key at install, rotation, and dropping
//! retired keys once nothing they signed can still be valid.

use super::invalid;
use crate::model::State;
use crate::model::keys::SigningKeyRecord;
use crate::model::users::NANOS_PER_SEC;
use depot_api::DirectoryError;
use depot_api::limits::MAX_SIGNING_KEYS;

/// Installs the first key; a no-op when a key exists already.
pub fn install_first_key(state: &mut State, seed: [u8; 32], now_ns: u64) {
    if state.active_key().is_some() {
        return;
    }
    add_active_key(state, seed, now_ns);
}

fn add_active_key(state: &mut State, seed: [u8; 32], now_ns: u64) -> u32 {
    let kid = state.update_runtime(|rt| {
        rt.last_kid += 1;
        rt.keys_version += 1;
        rt.last_kid
    });
    state
        .signing_keys
        .insert(kid, SigningKeyRecord { seed, created_at_ns: now_ns, retired_at_ns: None, drop_at_ns: None });
    kid
}

/// Keys still in the set at `now` once expired retired keys are dropped.
fn keys_alive(state: &State, now_ns: u64) -> usize {
    state.signing_keys.iter().filter(|e| e.value().drop_at_ns.is_none_or(|t| t > now_ns)).count()
}

/// Refuses a rotation that would hold more than MAX_SIGNING_KEYS keys:
/// dropping a retired key early would invalidate tokens and URLs it signed.
pub fn check_rotation(state: &State, now_ns: u64) -> Result<(), DirectoryError> {
    if state.active_key().is_none() {
        return Err(super::unavailable("initialising: no signing key yet"));
    }
    if keys_alive(state, now_ns) >= MAX_SIGNING_KEYS {
        let next_drop = state.signing_keys.iter().filter_map(|e| e.value().drop_at_ns).min().unwrap_or(now_ns);
        return Err(invalid(format!(
            "{MAX_SIGNING_KEYS} keys still verify; the oldest retired key is dropped at {next_drop} ns"
        )));
    }
    Ok(())
}

/// Retires the active key (it keeps verifying for `key_retention_secs`) and
/// activates a key from `seed`. Returns the new kid.
pub fn rotate_key_impl(state: &mut State, seed: [u8; 32], now_ns: u64) -> Result<u32, DirectoryError> {
    check_rotation(state, now_ns)?;
    drop_expired_keys(state, now_ns);
    let retention_ns = state.settings().key_retention_secs() * NANOS_PER_SEC;
    let (old_kid, _) = state.active_key().expect("checked above");
    let mut old = state.signing_keys.get(&old_kid).expect("active key exists");
    old.retired_at_ns = Some(now_ns);
    old.drop_at_ns = Some(now_ns.saturating_add(retention_ns));
    state.signing_keys.insert(old_kid, old);
    Ok(add_active_key(state, seed, now_ns))
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
