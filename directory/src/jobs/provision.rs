//! The provisioning job: creates, installs and registers buckets one step
//! at a time, each step journaled (`logic::provisioning`). Run by the
//! maintenance tick and kicked by `start_upload` when it finds no room.

use crate::logic::provisioning::{self, Means, Next};
use crate::logic::{CallFailure, admin};
use crate::management::{self, BucketSettings};
use crate::{bucket_client, bucket_wasm, state};
use candid::{Encode, Principal};
use depot_api::limits::BUCKET_WASM_MEMORY_LIMIT_BYTES;
use std::cell::Cell;
use std::time::Duration;

/// Steps one run takes at most (each is one call).
pub const STEPS_PER_RUN: usize = 12;
/// A run older than this is taken as lost (its message trapped or the
/// directory was upgraded): another may start.
const RUN_LEASE_NS: u64 = 10 * 60 * 1_000_000_000;

thread_local! {
    /// When the running job started (heap only: a lost run just expires).
    static RUNNING_SINCE: Cell<Option<u64>> = const { Cell::new(None) };
    /// An upload found no bucket with room since the last run.
    static DEMAND: Cell<bool> = const { Cell::new(false) };
    /// A zero-delay run is scheduled.
    static KICKED: Cell<bool> = const { Cell::new(false) };
}

fn now() -> u64 {
    ic_cdk::api::time()
}

fn means() -> Means {
    Means { balance: ic_cdk::api::canister_balance128(), has_wasm: bucket_wasm::module().is_some() }
}

/// Runs the job in its own message soon; `demand`: an upload is waiting.
pub fn kick(demand: bool) {
    if demand {
        DEMAND.set(true);
    }
    if !KICKED.replace(true) {
        ic_cdk_timers::set_timer(Duration::ZERO, || {
            KICKED.set(false);
            ic_cdk::spawn(run());
        });
    }
}

pub async fn run() {
    let started = now();
    if RUNNING_SINCE.get().is_some_and(|t| started.saturating_sub(t) < RUN_LEASE_NS) {
        return;
    }
    RUNNING_SINCE.set(Some(started));
    let me = ic_cdk::api::id();
    for _ in 0..STEPS_PER_RUN {
        let demand = DEMAND.replace(false);
        let next = state::mutate(|s| provisioning::next_step(s, means(), demand, now()));
        match next {
            Next::Nothing => break,
            Next::Create { seq, cycles } => {
                let (settings, factory) = state::read(|s| {
                    let settings = BucketSettings {
                        controllers: provisioning::controllers(s, me),
                        freezing_threshold_secs: s.settings().fleet.freezing_threshold_secs,
                        wasm_memory_limit_bytes: BUCKET_WASM_MEMORY_LIMIT_BYTES,
                    };
                    (settings, s.settings().fleet.factory.clone())
                });
                match management::create_bucket(settings, cycles, &factory).await {
                    Ok(bucket) => state::mutate(|s| provisioning::created(s, seq, bucket, now())),
                    Err(e) => {
                        state::mutate(|s| provisioning::create_failed(s, seq, &e));
                        break;
                    }
                }
            }
            Next::Install { seq, bucket, reinstall } => {
                let Some(wasm) = bucket_wasm::module() else {
                    let e = "this directory build embeds no bucket wasm".to_string();
                    state::mutate(|s| provisioning::step_failed(s, seq, e, now()));
                    break;
                };
                let arg =
                    state::read(|s| Encode!(&provisioning::bucket_init(s, me))).expect("BucketInit always encodes");
                match management::install_bucket(bucket, wasm, arg, reinstall).await {
                    Ok(()) => state::mutate(|s| provisioning::installed(s, seq, now())),
                    Err(e) => {
                        // Tried again on the next tick, not at once.
                        state::mutate(|s| provisioning::step_failed(s, seq, e.to_string(), now()));
                        break;
                    }
                }
            }
            Next::Register { seq, bucket } => match register(bucket).await {
                Ok(()) => state::mutate(|s| provisioning::registered(s, seq, bucket, bucket_wasm::sha256())),
                Err(e) => {
                    state::mutate(|s| provisioning::step_failed(s, seq, e, now()));
                    break;
                }
            },
        }
    }
    RUNNING_SINCE.set(None);
    crate::metrics::job_ran("provision", now());
}

/// Registers a created bucket as `admin_register_bucket` does, into the
/// pool; a bucket already registered (a retry after a lost reply) is done.
async fn register(bucket: Principal) -> Result<(), String> {
    let req = state::read(|s| provisioning::register_req(s, bucket));
    if state::read(|s| s.buckets.contains_key(&bucket)) {
        return Ok(());
    }
    let (keys, version) = state::read(|s| admin::begin_register_bucket(s, &req)).map_err(|e| e.to_string())?;
    let pushed = bucket_client::set_key_ring(bucket, keys).await.map_err(|e: CallFailure| e.to_string())?;
    pushed.map_err(|e| format!("set_key_ring: {e}"))?;
    let stat = bucket_client::stat(bucket).await.map_err(|e| e.to_string())?;
    if stat.version != bucket_wasm::VERSION {
        return Err(format!("the bucket runs version {}, not {}", stat.version, bucket_wasm::VERSION));
    }
    state::mutate(|s| admin::finish_register_bucket(s, &req, &stat, version, true, now())).map_err(|e| e.to_string())
}
