//! `/metrics` in Prometheus text format (`ic-metrics-encoder`): the
//! directory's books, the fleet and its jobs. Served uncertified, so read
//! through the raw domain (`<directory>.raw.icp0.io/metrics`); it names
//! buckets, never users or files.

use crate::model::State;
use depot_api::directory::BucketState;
use ic_metrics_encoder::MetricsEncoder;
use std::cell::RefCell;
use std::collections::BTreeMap;

pub const METRICS_PATH: &str = "/metrics";

thread_local! {
    /// When each timer job last finished (heap: since the last upgrade).
    static LAST_RUNS: RefCell<BTreeMap<&'static str, u64>> = RefCell::default();
}

/// Records that job `name` finished at `now_ns`.
pub fn job_ran(name: &'static str, now_ns: u64) {
    LAST_RUNS.with_borrow_mut(|m| m.insert(name, now_ns));
}

/// What the system knows beside the state.
pub struct System {
    pub now_ns: u64,
    pub cycles: u128,
    pub heap_bytes: u64,
    pub stable_bytes: u64,
}

pub fn encode(state: &State, sys: &System) -> std::io::Result<Vec<u8>> {
    let mut w = MetricsEncoder::new(vec![], (sys.now_ns / 1_000_000) as i64);
    let buckets: Vec<_> = state.buckets.iter().map(|e| e.into_pair()).collect();
    let sum =
        |f: fn(&crate::model::buckets::BucketRecord) -> u64| buckets.iter().map(|(_, b)| f(b)).sum::<u64>() as f64;
    w.encode_gauge("depot_directory_stored_bytes", sum(|b| b.used_bytes), "Bytes of Ready files in all buckets.")?;
    w.encode_gauge("depot_directory_files", sum(|b| b.files_count), "Ready files in all buckets.")?;
    w.encode_gauge("depot_directory_reserved_bytes", sum(|b| b.reserved_bytes), "Bytes held by uploads in progress.")?;
    w.encode_gauge("depot_directory_uploads_in_progress", state.uploads.len() as f64, "Open upload sessions.")?;
    w.encode_gauge("depot_directory_users", state.users.len() as f64, "Users with a record.")?;
    w.encode_gauge("depot_directory_pending_bucket_deletes", state.pending_deletes.len() as f64, "Deletions queued.")?;
    w.encode_gauge("depot_directory_cycles", sys.cycles as f64, "Cycles balance.")?;
    let fleet = &state.settings().fleet;
    w.encode_gauge("depot_directory_reserve_cycles", fleet.directory_reserve_cycles as f64, "Cycles kept back.")?;
    w.encode_gauge("depot_directory_heap_bytes", sys.heap_bytes as f64, "Wasm heap size.")?;
    w.encode_gauge("depot_directory_stable_memory_bytes", sys.stable_bytes as f64, "Stable memory size.")?;
    let rt = state.runtime();
    w.encode_gauge("depot_directory_pool_target", fleet.pool_target as f64, "Ready buckets the pool keeps.")?;
    let pool = crate::logic::provisioning::pool_ready(state);
    w.encode_gauge("depot_directory_pool_ready", pool as f64, "Ready buckets in the pool.")?;
    w.encode_gauge("depot_directory_buckets_in_progress", state.provisions.len() as f64, "Buckets being made.")?;
    let paused = if rt.provision_paused.is_some() { 1.0 } else { 0.0 };
    w.encode_gauge("depot_directory_provisioning_paused", paused, "1 when no bucket can be created.")?;
    w.encode_counter("depot_directory_buckets_created_total", rt.buckets_created as f64, "Buckets created.")?;
    w.encode_counter("depot_directory_top_up_cycles_total", rt.top_up_cycles_sent as f64, "Cycles sent to buckets.")?;
    let mut v = w.gauge_vec("depot_directory_buckets", "Registered buckets by state.")?;
    for (name, state_) in
        [("writable", BucketState::Writable), ("draining", BucketState::Draining), ("read_only", BucketState::ReadOnly)]
    {
        let n = buckets.iter().filter(|(_, b)| b.state == state_).count();
        v = v.value(&[("state", name)], n as f64)?;
    }
    let ids: Vec<String> = buckets.iter().map(|(id, _)| id.to_text()).collect();
    let mut v = w.gauge_vec("depot_directory_bucket_used_bytes", "Bytes of Ready files per bucket.")?;
    for ((_, b), id) in buckets.iter().zip(&ids) {
        v = v.value(&[("bucket", id)], b.used_bytes as f64)?;
    }
    let mut v = w.gauge_vec("depot_directory_bucket_files", "Ready files per bucket.")?;
    for ((_, b), id) in buckets.iter().zip(&ids) {
        v = v.value(&[("bucket", id)], b.files_count as f64)?;
    }
    let mut v = w.gauge_vec("depot_directory_bucket_cycles", "Last read cycles balance per bucket.")?;
    for ((_, b), id) in buckets.iter().zip(&ids) {
        if let Some(c) = b.cycles {
            v = v.value(&[("bucket", id)], c as f64)?;
        }
    }
    let runs = LAST_RUNS.with_borrow(|m| m.clone());
    let mut v =
        w.gauge_vec("depot_directory_job_last_run_seconds", "When each timer job last finished (Unix time).")?;
    for (job, at) in &runs {
        v = v.value(&[("job", job)], (*at / 1_000_000_000) as f64)?;
    }
    Ok(w.into_inner())
}
