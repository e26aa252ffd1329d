//! `/metrics` in Prometheus text format (`ic-metrics-encoder`), the
//! figures operators scrape from IC canisters. Served uncertified, so read
//! through the raw domain (`<bucket>.raw.icp0.io/metrics`); it names no
//! user and no file. Counters count what update calls did: a query's
//! changes are discarded, so queries cannot be counted in the canister.

use depot_api::BucketError;
use depot_api::bucket::BucketStat;
use ic_metrics_encoder::MetricsEncoder;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// The path metrics are served at.
pub const METRICS_PATH: &str = "/metrics";

thread_local! {
    /// `put_chunk` answers by outcome, and `http_request_update` answers by
    /// status, since the last install or upgrade (heap).
    static PUT_CHUNK: RefCell<BTreeMap<&'static str, u64>> = RefCell::default();
    static HTTP_UPDATES: RefCell<BTreeMap<u16, u64>> = RefCell::default();
}

pub fn count_put_chunk(result: &Result<impl Sized, BucketError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => error_name(e),
    };
    PUT_CHUNK.with_borrow_mut(|m| *m.entry(outcome).or_default() += 1);
}

pub fn count_http_update(status: u16) {
    HTTP_UPDATES.with_borrow_mut(|m| *m.entry(status).or_default() += 1);
}

fn error_name(e: &BucketError) -> &'static str {
    match e {
        BucketError::Unauthorised { .. } => "unauthorised",
        BucketError::TokenExpired => "token_expired",
        BucketError::ChunkTooLarge { .. } => "chunk_too_large",
        BucketError::ChunkSizeMismatch { .. } => "chunk_size_mismatch",
        BucketError::ChunkNotAllowed { .. } => "chunk_not_allowed",
        BucketError::ChunkConflict { .. } => "chunk_conflict",
        BucketError::OutOfSpace { .. } => "out_of_space",
        BucketError::ReadOnly => "read_only",
        BucketError::NotFound => "not_found",
        _ => "other",
    }
}

/// What the system knows beside the store's figures.
pub struct System {
    pub now_millis: i64,
    pub cycles: u128,
    pub heap_bytes: u64,
}

pub fn encode(stat: &BucketStat, sys: &System) -> std::io::Result<Vec<u8>> {
    let mut w = MetricsEncoder::new(vec![], sys.now_millis);
    w.encode_gauge("depot_bucket_used_bytes", stat.used_bytes as f64, "Bytes of all stored chunks.")?;
    w.encode_gauge("depot_bucket_committed_bytes", stat.committed_bytes as f64, "Bytes of committed files.")?;
    w.encode_gauge("depot_bucket_allocated_bytes", stat.allocated_bytes as f64, "Stable memory held by chunk slots.")?;
    w.encode_gauge("depot_bucket_capacity_bytes", stat.capacity_bytes as f64, "Bytes this bucket may store.")?;
    w.encode_gauge("depot_bucket_files", stat.files_count as f64, "Files stored (committed and in progress).")?;
    w.encode_gauge("depot_bucket_chunks", stat.chunks_count as f64, "Chunks stored.")?;
    w.encode_gauge(
        "depot_bucket_certified_responses",
        stat.certified_responses as f64,
        "Responses in the HTTP certification tree.",
    )?;
    w.encode_gauge("depot_bucket_read_only", if stat.read_only { 1.0 } else { 0.0 }, "1 when no writes are taken.")?;
    w.encode_gauge("depot_bucket_cycles", sys.cycles as f64, "Cycles balance.")?;
    w.encode_gauge("depot_bucket_heap_bytes", sys.heap_bytes as f64, "Wasm heap size.")?;
    w.encode_gauge("depot_bucket_stable_memory_bytes", stat.stable_memory_bytes as f64, "Stable memory size.")?;
    let put = PUT_CHUNK.with_borrow(|m| m.clone());
    let mut v =
        w.counter_vec("depot_bucket_put_chunk_total", "put_chunk answers by outcome since the last upgrade.")?;
    for (outcome, n) in &put {
        v = v.value(&[("outcome", outcome)], *n as f64)?;
    }
    let http = HTTP_UPDATES.with_borrow(|m| m.clone());
    let mut v = w.counter_vec(
        "depot_bucket_http_updates_total",
        "http_request_update answers by status since the last upgrade (queries cannot be counted).",
    )?;
    for (status, n) in &http {
        v = v.value(&[("status", &status.to_string())], *n as f64)?;
    }
    Ok(w.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_is_in_the_text_format() {
        count_put_chunk(&Ok::<(), BucketError>(()));
        count_put_chunk(&Err::<(), _>(BucketError::TokenExpired));
        count_http_update(206);
        let stat = BucketStat {
            used_bytes: 10,
            committed_bytes: 8,
            allocated_bytes: 12,
            capacity_bytes: 100,
            free_bytes: 90,
            stable_memory_bytes: 4096,
            files_count: 2,
            chunks_count: 3,
            certified_responses: 22,
            read_only: false,
            version: "x".into(),
        };
        let sys = System { now_millis: 1_000, cycles: 5, heap_bytes: 65536 };
        let text = String::from_utf8(encode(&stat, &sys).unwrap()).unwrap();
        for line in [
            "depot_bucket_used_bytes 10 1000",
            "depot_bucket_files 2 1000",
            "depot_bucket_cycles 5 1000",
            "depot_bucket_put_chunk_total{outcome=\"ok\"} 1 1000",
            "depot_bucket_put_chunk_total{outcome=\"token_expired\"} 1 1000",
            "depot_bucket_http_updates_total{status=\"206\"} 1 1000",
            "# TYPE depot_bucket_put_chunk_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
