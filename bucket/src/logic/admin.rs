//! Configuration: set at install, then changed by the directory only.

use super::{invalid, require_directory};
use crate::limits::DEFAULT_BUCKET_CAPACITY_BYTES;
use crate::model::BucketStore;
use crate::model::records::Config;
use candid::Principal;
use depot_api::BucketError;
use depot_api::bucket::BucketInit;
use depot_api::keys::{PUBLIC_KEY_BYTES, PublicKeyInfo};
use ic_stable_structures::Memory;

pub fn init_impl<M: Memory>(store: &mut BucketStore<M>, args: BucketInit) {
    store.set_config(Config {
        directory: args.directory,
        keys: args.keys,
        capacity_bytes: args.capacity_bytes.unwrap_or(DEFAULT_BUCKET_CAPACITY_BYTES),
        read_only: false,
    });
}

pub fn set_keys_impl<M: Memory>(
    store: &mut BucketStore<M>,
    caller: Principal,
    keys: Vec<PublicKeyInfo>,
) -> Result<(), BucketError> {
    require_directory(store, caller)?;
    if keys.iter().any(|k| k.key.len() != PUBLIC_KEY_BYTES) {
        return Err(invalid("public keys are 32 bytes"));
    }
    store.update_config(|c| c.keys = keys);
    Ok(())
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
