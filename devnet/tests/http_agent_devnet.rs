//! ic-agent 0.49 (query-signature verification on) against a devnet server
//! running a real wasm canister: update, query, read_state, root key,
//! `ic0.data_certificate` and 2 MB payloads.

mod support;

use candid::Principal;
use ic_agent::identity::BasicIdentity;
use sha2::{Digest, Sha256};
use support::agent_for;
use support::wat_canister::{start_devnet, wasm};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_query_read_state_with_a_wasm_canister() {
    let (devnet, canister, server) = start_devnet().await;
    let agent = agent_for(&server, Box::new(BasicIdentity::from_raw_key(&[9; 32]))).await;
    assert_eq!(agent.read_root_key(), devnet.lock().unwrap().root_key_der());

    let reply = agent.update(&canister, "echo").with_arg(b"ping".to_vec()).call_and_wait().await.unwrap();
    assert_eq!(reply, b"ping");
    let reply = agent.query(&canister, "echo_query").with_arg(b"pong".to_vec()).call().await.unwrap();
    assert_eq!(reply, b"pong");
    let who = agent.query(&canister, "whoami").call().await.unwrap();
    assert_eq!(Principal::from_slice(&who), agent.get_principal().unwrap());

    agent.update(&canister, "set_certified_data").with_arg(vec![42; 32]).call_and_wait().await.unwrap();
    let data = agent.read_state_canister_info(canister, "certified_data").await.unwrap();
    assert_eq!(data, vec![42; 32]);
    let hash = agent.read_state_canister_module_hash(canister).await.unwrap();
    assert_eq!(hash, Sha256::digest(wasm()).to_vec());
    let controllers = agent.read_state_canister_controllers(canister).await.unwrap();
    assert_eq!(controllers, vec![Principal::anonymous()]);

    // The certificate a canister gets from ic0.data_certificate verifies
    // under the root key and certifies its certified data.
    let bytes = agent.query(&canister, "data_certificate").call().await.unwrap();
    let cert: ic_agent::Certificate = ciborium::from_reader(bytes.as_slice()).unwrap();
    agent.verify(&cert, canister).unwrap();
    let path = [b"canister".as_ref(), canister.as_slice(), b"certified_data"];
    assert_eq!(cert.tree.lookup_path(path), ic_agent::hash_tree::LookupResult::Found(&[42; 32]));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_megabyte_arguments_and_replies() {
    let (_devnet, canister, server) = start_devnet().await;
    let agent = agent_for(&server, Box::new(BasicIdentity::from_raw_key(&[8; 32]))).await;
    let big: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let reply = agent.update(&canister, "echo").with_arg(big.clone()).call_and_wait().await.unwrap();
    assert_eq!(reply, big);
    let reply = agent.query(&canister, "echo_query").with_arg(big.clone()).call().await.unwrap();
    assert_eq!(reply, big);
    server.stop().await.unwrap();
}
