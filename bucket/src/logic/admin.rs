//! Configuration: set at install, then changed by the directory only.

use super::{CertChange, invalid, require_directory};
use crate::limits::DEFAULT_BUCKET_CAPACITY_BYTES;
use crate::model::BucketStore;
use crate::model::records::Config;
use candid::Principal;
use depot_api::BucketError;
use depot_api::bucket::{BucketInit, SetSuspendedArgs};
use depot_api::keys::{BucketKey, HeldKeys, PUBLIC_KEY_BYTES, PublicKeyInfo};
use depot_api::limits::MAX_FILES_PER_SUSPEND_CALL;
use depot_api::limits::MAX_SIGNING_KEYS;
use ic_stable_structures::Memory;

pub fn init_impl<M: Memory>(store: &mut BucketStore<M>, args: BucketInit) {
    store.set_config(Config {
        directory: args.directory,
        keys: args.keys,
        capacity_bytes: args.capacity_bytes.unwrap_or(DEFAULT_BUCKET_CAPACITY_BYTES),
        read_only: false,
        stream_key: None,
        response_format: None,
        mac_keys: vec![],
    });
}

/// Sets the streaming-token secret once; a later value is ignored, so
/// tokens already given out stay valid.
pub fn set_stream_key_impl<M: Memory>(store: &mut BucketStore<M>, key: [u8; 32]) {
    store.update_config(|c| {
        c.stream_key.get_or_insert(key);
    });
}

/// `set_keys`, the public-key-only form of earlier directories: it replaces
/// the set and drops every MAC key, so none outlives its public key.
pub fn set_keys_impl<M: Memory>(
    store: &mut BucketStore<M>,
    caller: Principal,
    keys: Vec<PublicKeyInfo>,
) -> Result<(), BucketError> {
    require_directory(store, caller)?;
    check_key_count(keys.iter().map(|k| k.kid))?;
    if keys.iter().any(|k| k.key.len() != PUBLIC_KEY_BYTES) {
        return Err(invalid("public keys are 32 bytes"));
    }
    store.update_config(|c| {
        c.keys = keys;
        c.mac_keys.clear();
    });
    Ok(())
}

/// `set_key_ring`: replaces the whole ring, public and MAC keys together.
pub fn set_key_ring_impl<M: Memory>(
    store: &mut BucketStore<M>,
    caller: Principal,
    ring: Vec<BucketKey>,
) -> Result<(), BucketError> {
    require_directory(store, caller)?;
    check_key_count(ring.iter().map(|k| k.kid))?;
    let held = HeldKeys::from_ring(ring).map_err(invalid)?;
    store.update_config(|c| {
        c.keys = held.public;
        c.mac_keys = held.mac;
    });
    Ok(())
}

/// At most `MAX_SIGNING_KEYS` keys (what a directory ever holds), each kid once.
fn check_key_count(kids: impl Iterator<Item = u32>) -> Result<(), BucketError> {
    let mut seen = Vec::new();
    for kid in kids {
        if seen.contains(&kid) {
            return Err(invalid(format!("key id {kid} appears twice")));
        }
        seen.push(kid);
    }
    if seen.len() > MAX_SIGNING_KEYS {
        return Err(invalid(format!("at most {MAX_SIGNING_KEYS} keys")));
    }
    Ok(())
}

/// `set_suspended`: marks files held back for non-payment (or served
/// again) and reports the certification changes: a suspended file's
/// responses leave the tree, a resumed file's come back.
pub fn set_suspended_impl<M: Memory>(
    store: &mut BucketStore<M>,
    caller: Principal,
    args: &SetSuspendedArgs,
) -> Result<(u32, Vec<CertChange>), BucketError> {
    require_directory(store, caller)?;
    if args.files.len() > MAX_FILES_PER_SUSPEND_CALL {
        return Err(BucketError::InvalidRequest {
            reason: format!("at most {MAX_FILES_PER_SUSPEND_CALL} files per call"),
        });
    }
    let mut changes = Vec::new();
    for id in &args.files {
        let Some(key) = id.key() else { continue };
        let Some(mut rec) = store.file(&key) else { continue };
        if rec.owner != id.owner || rec.committed.is_none() || rec.suspended == args.suspended {
            continue;
        }
        if args.suspended {
            let view = store.file_view(&key).expect("a committed, served file has a view");
            rec.suspended = true;
            store.put_file(&key, rec);
            changes.push(CertChange::Removed(view));
        } else {
            rec.suspended = false;
            store.put_file(&key, rec);
            changes.push(CertChange::Added(key));
        }
    }
    Ok((changes.len() as u32, changes))
}

pub fn set_read_only_impl<M: Memory>(
    store: &mut BucketStore<M>,
    caller: Principal,
    read_only: bool,
) -> Result<(), BucketError> {
    require_directory(store, caller)?;
    store.update_config(|c| c.read_only = read_only);
    Ok(())
}
