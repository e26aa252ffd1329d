//! The HTTP gateway in front of a wasm canister on the real state machine:
//! the canister serves a v2-certified `http_request` reply; the gateway
//! verifies it, refuses it when a fault tampers with the query reply, and
//! the raw domain serves it unverified.

mod support;

use candid::Principal;
use depot_devnet::Fault;
use ic_agent::identity::AnonymousIdentity;
use support::agent_for;
use support::http_cert::{certified_reply, plain_reply, upgrade_reply};
use support::wat_canister::start_devnet;

async fn get(addr: std::net::SocketAddr, host: &str, path: &str) -> (u16, Vec<u8>) {
    let response =
        reqwest::Client::new().get(format!("http://{addr}{path}")).header("host", host).send().await.expect("request");
    (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_verifies_wasm_canister_responses() {
    let (devnet, canister, server) = start_devnet().await;
    let agent = agent_for(&server, Box::new(AnonymousIdentity)).await;
    let certified = {
        let d = devnet.lock().unwrap();
        certified_reply(d.certifier(), canister, d.time_ns(), "/index.html", b"<h1>devnet</h1>")
    };
    agent
        .update(&canister, "set_certified_data")
        .with_arg(certified.certified_data.to_vec())
        .call_and_wait()
        .await
        .unwrap();
    agent.update(&canister, "set_http").with_arg(certified.reply.clone()).call_and_wait().await.unwrap();

    let host = format!("{}.localhost:{}", canister.to_text(), server.addr.port());
    let raw_host = format!("{}.raw.localhost:{}", canister.to_text(), server.addr.port());
    let (status, body) = get(server.addr, &host, "/index.html").await;
    assert_eq!((status, body.as_slice()), (200, b"<h1>devnet</h1>".as_slice()));

    // A replica that tampers with the query reply is caught by verification.
    devnet.lock().unwrap().inject_fault(Fault::TamperQueryReply { canister, method: "http_request".into() });
    let (status, body) = get(server.addr, &host, "/index.html").await;
    assert_eq!(status, 500, "{}", String::from_utf8_lossy(&body));
    // The raw domain does not verify, so the tampered body gets through.
    let (status, body) = get(server.addr, &raw_host, "/index.html").await;
    assert_eq!(status, 200);
    assert_ne!(body.as_slice(), b"<h1>devnet</h1>".as_slice());
    devnet.lock().unwrap().clear_faults();

    // A body that does not match the certified hash is refused too.
    agent.update(&canister, "set_http").with_arg(certified.tampered_reply.clone()).call_and_wait().await.unwrap();
    let (status, _) = get(server.addr, &host, "/index.html").await;
    assert_eq!(status, 500);

    // upgrade → http_request_update, answered through a sync v4 call.
    agent.update(&canister, "set_http").with_arg(upgrade_reply()).call_and_wait().await.unwrap();
    agent.update(&canister, "set_http_update").with_arg(plain_reply(b"updated")).call_and_wait().await.unwrap();
    let (status, body) = get(server.addr, &host, "/form").await;
    assert_eq!((status, body.as_slice()), (200, b"updated".as_slice()));

    // A canister that does not exist: the gateway reports the reject.
    let missing = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0x10, 0, 1, 1]);
    let (status, _) = get(server.addr, &format!("{}.localhost", missing.to_text()), "/").await;
    assert!(status >= 400, "status {status}");
    server.stop().await.unwrap();
}
