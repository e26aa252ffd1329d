//! Throughput over HTTP with ic-agent (query signatures verified), against
//! the WAT test canister. Ignored by default; run with
//! `cargo test -p depot-devnet --test http_bench -- --ignored --nocapture`.

mod support;

use std::time::Instant;

use futures::future::join_all;
use ic_agent::Agent;
use ic_agent::identity::BasicIdentity;
use support::agent_for;
use support::wat_canister::start_devnet;

const CALLS: usize = 300;
const CONCURRENCY: usize = 8;
const BIG: usize = 2_000_000;
const BIG_CALLS: usize = 10;

async fn rate<F, Fut>(label: &str, total: usize, concurrency: usize, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    for _ in 0..total / concurrency {
        join_all((0..concurrency).map(|_| f())).await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{label:<48} {:>8.0} calls/s", total as f64 / secs);
}

async fn bandwidth<F, Fut>(label: &str, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    for _ in 0..BIG_CALLS {
        f().await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{label:<48} {:>8.1} MB/s", (BIG * BIG_CALLS) as f64 / secs / 1e6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
async fn throughput() {
    let (_devnet, canister, server) = start_devnet().await;
    let agent: Agent = agent_for(&server, Box::new(BasicIdentity::from_raw_key(&[5; 32]))).await;
    let c = &canister;
    let a = &agent;
    println!("\ndevnet HTTP benchmark ({} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
    rate("trivial update (v4 sync call), sequential", CALLS, 1, || async move {
        a.update(c, "sink").call_and_wait().await.unwrap();
    })
    .await;
    rate("trivial update (v4 sync call), 8 concurrent", CALLS, CONCURRENCY, || async move {
        a.update(c, "sink").call_and_wait().await.unwrap();
    })
    .await;
    rate("trivial query (signed), sequential", CALLS, 1, || async move {
        a.query(c, "sink_query").call().await.unwrap();
    })
    .await;
    rate("trivial query (signed), 8 concurrent", CALLS, CONCURRENCY, || async move {
        a.query(c, "sink_query").call().await.unwrap();
    })
    .await;
    let big = vec![7u8; BIG];
    let big = &big;
    let n = (BIG as u32).to_le_bytes().to_vec();
    let n = &n;
    bandwidth("update with 2 MB argument", || async move {
        a.update(c, "sink").with_arg(big.clone()).call_and_wait().await.unwrap();
    })
    .await;
    bandwidth("update with 2 MB reply", || async move {
        let r = a.update(c, "blob").with_arg(n.clone()).call_and_wait().await.unwrap();
        assert_eq!(r.len(), BIG);
    })
    .await;
    bandwidth("query with 2 MB argument", || async move {
        a.query(c, "sink_query").with_arg(big.clone()).call().await.unwrap();
    })
    .await;
    bandwidth("query with 2 MB reply", || async move {
        let r = a.query(c, "blob_query").with_arg(n.clone()).call().await.unwrap();
        assert_eq!(r.len(), BIG);
    })
    .await;
    server.stop().await.unwrap();
}
