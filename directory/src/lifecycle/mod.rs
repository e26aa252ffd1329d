//! Install, upgrade and timers. All state lives in stable structures, so
//! `pre_upgrade` has nothing to save; `post_upgrade` re-arms the timers
//! (timers do not survive an upgrade) and may change settings.

pub mod randomness;

use crate::model::settings::Settings;
use crate::{jobs, state};
use depot_api::directory::DirectoryInit;
use std::time::Duration;

/// No argument at all is an empty `DirectoryInit` (icp-cli installs with
/// none unless icp.yaml gives `init_args`).
pub fn init(args: Option<DirectoryInit>) {
    state::open();
    let args = args.unwrap_or_default();
    let settings = depot_api::canister_env::public_canister_id("gateway")
        .transpose()
        .and_then(|gateway| Settings::default().with_overrides(&args)?.with_gateway_share_urls(&args, gateway))
        .unwrap_or_else(|e| ic_cdk::trap(&format!("invalid DirectoryInit: {e}")));
    state::mutate(|s| {
        s.set_settings(settings);
        s.update_runtime(|rt| {
            rt.reserved_files_counted = true;
            rt.key_rings_sent = true;
        });
    });
    start_timers();
}

/// An upgrade argument changes only the settings it names.
pub fn post_upgrade(args: Option<DirectoryInit>) {
    state::open();
    if let Some(args) = args {
        let settings = state::read(|s| s.settings().with_overrides(&args))
            .unwrap_or_else(|e| ic_cdk::trap(&format!("invalid DirectoryInit: {e}")));
        state::mutate(|s| s.set_settings(settings));
    }
    state::mutate(|s| {
        count_reserved_files(s);
        send_key_rings_once(s);
        s.rebuild_routing();
    });
    start_timers();
}

/// Buckets registered before key rings existed accepted public keys only:
/// bumping the key version once sends each its ring (with its MAC keys),
/// and until a bucket accepts it, its tokens and URLs are signed as before
/// (`State::signer_for`). A bucket still on an earlier wasm refuses
/// `set_key_ring`, and the push job tries again after the rollout.
pub fn send_key_rings_once(s: &mut crate::model::State) {
    if s.runtime().key_rings_sent {
        return;
    }
    s.update_runtime(|rt| {
        rt.key_rings_sent = true;
        rt.keys_version += 1;
    });
}

/// Buckets' `reserved_files`, from the upload sessions, once: records
/// written before the counter existed hold none, while their sessions
/// still hold a reservation each.
pub fn count_reserved_files(s: &mut crate::model::State) {
    if s.runtime().reserved_files_counted {
        return;
    }
    let mut counts = std::collections::BTreeMap::<candid::Principal, u64>::new();
    for session in s.uploads.values() {
        *counts.entry(session.bucket).or_default() += 1;
    }
    for (bucket, n) in counts {
        if let Some(mut b) = s.buckets.get(&bucket) {
            b.reserved_files = n;
            s.put_bucket(bucket, b);
        }
    }
    s.update_runtime(|rt| rt.reserved_files_counted = true);
}

fn start_timers() {
    // Hashed here, in a message whose heap is kept, not in every query.
    crate::bucket_wasm::sha256();
    ic_cdk_timers::set_timer_interval(Duration::from_secs(jobs::MAINTENANCE_INTERVAL_SECS), || {
        ic_cdk::spawn(jobs::run_maintenance())
    });
    // raw_rand cannot be called from init: a zero-delay timer runs it in its
    // own message right after install (and after an upgrade, if the seed or
    // the first key is still missing).
    if !state::read(|s| s.is_initialised()) {
        randomness::schedule(Duration::ZERO);
    } else {
        // After an upgrade: go on with any bucket being made.
        jobs::provision::kick(false);
    }
}

/// The wasm heap's size (0 off wasm32, in native tests).
pub fn heap_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
