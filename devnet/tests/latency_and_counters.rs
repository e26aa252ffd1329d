//! devnet's modelled update latency (`ApiConfig::update_latency`,
//! `--update-latency-ms`) and its call counters (`Devnet::call_counts`,
//! `GET /_/devnet/calls`), through the HTTP interface with ic-agent.

mod support;

use std::time::{Duration, Instant};

use depot_devnet::http::ApiConfig;
use depot_devnet::{CallCount, CallKind};
use ic_agent::agent::{CallResponse, RequestStatusResponse};
use ic_agent::identity::BasicIdentity;
use support::agent_for;
use support::wat_canister::start_devnet_with;

const LATENCY: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_wait_out_the_latency_and_queries_do_not() {
    // A sync call gives up after 100 ms, so the client falls back to
    // polling read_state, where the hidden outcome shows as `processing`.
    let config =
        ApiConfig { update_latency: LATENCY, sync_call_timeout: Duration::from_millis(100), ..Default::default() };
    let (_devnet, canister, server) = start_devnet_with(config).await;
    let agent = agent_for(&server, Box::new(BasicIdentity::from_raw_key(&[7; 32]))).await;

    let t0 = Instant::now();
    let reply = agent.query(&canister, "echo_query").with_arg(b"q".to_vec()).call().await.unwrap();
    assert_eq!(reply, b"q");
    assert!(t0.elapsed() < LATENCY, "a query is not delayed: {:?}", t0.elapsed());

    let t0 = Instant::now();
    let sent = agent.update(&canister, "echo").with_arg(b"u".to_vec()).call().await.unwrap();
    let CallResponse::Poll(request_id) = sent else { panic!("the outcome is hidden past the sync timeout") };
    let (status, _) = agent.request_status_raw(&request_id, canister).await.unwrap();
    assert!(t0.elapsed() < LATENCY, "read before the latency passed: {:?}", t0.elapsed());
    assert!(matches!(status, RequestStatusResponse::Processing), "{status:?}");
    let (reply, _) = agent.wait(&request_id, canister).await.unwrap();
    assert_eq!(reply, b"u");
    assert!(t0.elapsed() >= LATENCY, "the outcome shows after the latency: {:?}", t0.elapsed());
    let (status, _) = agent.request_status_raw(&request_id, canister).await.unwrap();
    assert!(matches!(status, RequestStatusResponse::Replied(_)), "{status:?}");

    // A synchronous call (v3) answers no sooner than the latency.
    let config = ApiConfig { update_latency: LATENCY, ..Default::default() };
    let (_devnet, canister, server2) = start_devnet_with(config).await;
    let agent = agent_for(&server2, Box::new(BasicIdentity::from_raw_key(&[7; 32]))).await;
    let t0 = Instant::now();
    let reply = agent.update(&canister, "echo").with_arg(b"s".to_vec()).call_and_wait().await.unwrap();
    assert_eq!(reply, b"s");
    assert!(t0.elapsed() >= LATENCY, "{:?}", t0.elapsed());
    server.stop().await.unwrap();
    server2.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_count_each_method_and_kind() {
    let (devnet, canister, server) = start_devnet_with(ApiConfig::default()).await;
    devnet.lock().unwrap().reset_call_counts();
    let agent = agent_for(&server, Box::new(BasicIdentity::from_raw_key(&[6; 32]))).await;
    for _ in 0..3 {
        agent.query(&canister, "echo_query").with_arg(b"q".to_vec()).call().await.unwrap();
    }
    for _ in 0..2 {
        agent.update(&canister, "echo").with_arg(b"u".to_vec()).call_and_wait().await.unwrap();
    }
    // A query method called as an update runs replicated: an update.
    agent.update(&canister, "echo_query").with_arg(b"r".to_vec()).call_and_wait().await.unwrap();

    let id = canister.to_text();
    let line = |method: &str, kind, count| CallCount { canister: id.clone(), method: method.into(), kind, count };
    let expected = vec![
        line("echo", CallKind::Update, 2),
        line("echo_query", CallKind::Query, 3),
        line("echo_query", CallKind::Update, 1),
    ];
    assert_eq!(devnet.lock().unwrap().call_counts(), expected);
    assert_eq!(devnet.lock().unwrap().call_count(canister, "echo_query", CallKind::Query), 3);

    let raw = reqwest::get(format!("{}/_/devnet/calls", server.url())).await.unwrap().bytes().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(body, serde_json::to_value(&expected).unwrap());
    assert_eq!(body[0], serde_json::json!({"canister": id, "method": "echo", "kind": "update", "count": 2}));

    devnet.lock().unwrap().reset_call_counts();
    assert!(devnet.lock().unwrap().call_counts().is_empty());
    server.stop().await.unwrap();
}
