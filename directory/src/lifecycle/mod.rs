//! Install, upgrade and timers. All state lives in stable structures, so
//! `pre_upgrade` has nothing to save; `post_upgrade` re-arms the timers
//! (timers do not survive an upgrade) and may change settings.

pub mod randomness;

use crate::model::settings::Settings;
use crate::{jobs, state};
use depot_api::directory::DirectoryInit;
use std::time::Duration;

pub fn init(args: DirectoryInit) {
    state::open();
    let settings = Settings::default()
        .with_overrides(&args)
        .unwrap_or_else(|e| ic_cdk::trap(&format!("invalid DirectoryInit: {e}")));
    state::mutate(|s| s.set_settings(settings));
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
    start_timers();
}

fn start_timers() {
    ic_cdk_timers::set_timer_interval(Duration::from_secs(jobs::MAINTENANCE_INTERVAL_SECS), || {
        ic_cdk::spawn(jobs::run_maintenance())
    });
    // raw_rand cannot be called from init: a zero-delay timer runs it in its
    // own message right after install (and after an upgrade, if the seed or
    // the first key is still missing).
    if !state::read(|s| s.is_initialised()) {
        randomness::schedule(Duration::ZERO);
    }
}
