//! Deploying through the HTTP interface with ic-agent/ic-utils, as a
//! developer tool would: create a canister (provisional, effective id
//! `aaaaa-aa`), install wasm, call it, read its controllers.

mod support;

use candid::Principal;
use ic_agent::identity::BasicIdentity;
use ic_utils::interfaces::ManagementCanister;
use support::agent_for;
use support::wat_canister::{start_devnet, wasm};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_install_and_call_over_http() {
    let (_devnet, _existing, server) = start_devnet().await;
    let agent = agent_for(&server, Box::new(BasicIdentity::from_raw_key(&[21; 32]))).await;
    let me = agent.get_principal().unwrap();
    let management = ManagementCanister::create(&agent);

    let (id,) = management
        .create_canister()
        .as_provisional_create_with_amount(Some(100_000_000_000_000))
        .call_and_wait()
        .await
        .expect("provisional_create_canister_with_cycles");
    management.install_code(&id, &wasm()).call_and_wait().await.expect("install_code");

    let reply = agent.update(&id, "echo").with_arg(b"deployed".to_vec()).call_and_wait().await.unwrap();
    assert_eq!(reply, b"deployed");
    let reply = agent.query(&id, "echo_query").with_arg(b"q".to_vec()).call().await.unwrap();
    assert_eq!(reply, b"q");

    let controllers = agent.read_state_canister_controllers(id).await.unwrap();
    assert_eq!(controllers, vec![me]);
    assert_ne!(id, Principal::management_canister());
    server.stop().await.unwrap();
}
