//! The rollout job: carries `logic::rollout`'s steps out, one call each.
//! Run by the maintenance tick and right after `admin_upgrade_buckets`.

use crate::logic::rollout::{self, Action};
use crate::{bucket_client, bucket_wasm, management, state};
use std::cell::Cell;
use std::time::Duration;

/// Calls one run makes at most (a batch of 50 takes 200).
pub const CALLS_PER_RUN: usize = 250;
const RUN_LEASE_NS: u64 = 10 * 60 * 1_000_000_000;

thread_local! {
    static RUNNING_SINCE: Cell<Option<u64>> = const { Cell::new(None) };
}

fn now() -> u64 {
    ic_cdk::api::time()
}

pub fn kick() {
    ic_cdk_timers::set_timer(Duration::ZERO, || ic_cdk::spawn(run()));
}

pub async fn run() {
    let started = now();
    if RUNNING_SINCE.get().is_some_and(|t| started.saturating_sub(t) < RUN_LEASE_NS) {
        return;
    }
    RUNNING_SINCE.set(Some(started));
    let mut begun = 0u32;
    let budget = state::read(rollout::run_budget);
    for _ in 0..CALLS_PER_RUN {
        let action = state::mutate(|s| rollout::next(s, begun, budget));
        let outcome = match action {
            Action::Nothing => break,
            Action::Stop(b) => {
                begun += 1;
                management::stop_bucket(b).await.map_err(|e| e.to_string())
            }
            Action::Install(b) => match bucket_wasm::module() {
                Some(wasm) => management::upgrade_bucket(b, wasm).await.map_err(|e| e.to_string()),
                None => Err("this directory build embeds no bucket wasm".into()),
            },
            Action::Start(b) | Action::Restart(b) => management::start_bucket(b).await.map_err(|e| e.to_string()),
            Action::Check(b) => check(b).await,
        };
        state::mutate(|s| rollout::advance(s, outcome, now()));
    }
    RUNNING_SINCE.set(None);
    crate::metrics::job_ran("rollout", now());
}

async fn check(bucket: candid::Principal) -> Result<(), String> {
    let target = bucket_wasm::sha256().ok_or("this directory build embeds no bucket wasm")?;
    let status = management::bucket_status(bucket).await.map_err(|e| e.to_string())?;
    let stat = bucket_client::stat(bucket).await.map(|_| ()).map_err(|e| format!("stat: {e}"));
    rollout::check(status.module_hash.as_deref(), &target, stat)
}
