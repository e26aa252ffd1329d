//! ic-agent 0.49 (query-signature verification on) against the HTTP
//! interface, over a scripted backend: exercises envelopes, request ids,
//! signatures, sync and async calls, node-signed queries and read_state.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use candid::Principal;
use depot_devnet::http::ApiConfig;
use ic_agent::identity::{AnonymousIdentity, BasicIdentity, DelegatedIdentity, Prime256v1Identity, Secp256k1Identity};
use ic_agent::{AgentError, Identity};
use support::agent_for;
use support::fake_ic::{FakeIc, canister, start};

fn ed25519_identity(seed: u8) -> BasicIdentity {
    BasicIdentity::from_raw_key(&[seed; 32])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_query_read_state_and_root_key() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let root_key = fake.lock().unwrap().certifier.root_key_der();
    let server = start(fake.clone(), ApiConfig::default()).await;
    let agent = agent_for(&server, Box::new(ed25519_identity(1))).await;
    assert_eq!(agent.read_root_key(), root_key);

    let reply = agent.update(&canister(), "echo").with_arg(b"hello".to_vec()).call_and_wait().await.unwrap();
    assert_eq!(reply, b"hello");

    let reply = agent.query(&canister(), "echo").with_arg(b"q".to_vec()).call().await.unwrap();
    assert_eq!(reply, b"q");

    let data = agent.read_state_canister_info(canister(), "certified_data").await.unwrap();
    assert_eq!(data, b"certified!");
    let hash = agent.read_state_canister_module_hash(canister()).await.unwrap();
    assert_eq!(hash, vec![7; 32]);
    let controllers = agent.read_state_canister_controllers(canister()).await.unwrap();
    assert_eq!(controllers, vec![Principal::anonymous()]);
    let meta = agent.read_state_canister_metadata(canister(), "candid:service").await.unwrap();
    assert_eq!(meta, b"service : {}");

    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_are_reported_certified_and_uncertified() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let server = start(fake, ApiConfig::default()).await;
    let agent = agent_for(&server, Box::new(AnonymousIdentity)).await;

    let err = agent.update(&canister(), "nope").call_and_wait().await.unwrap_err();
    match err {
        AgentError::CertifiedReject { reject, .. } => {
            assert_eq!(reject.reject_code as u8, 4);
            assert_eq!(reject.reject_message, "no method nope");
            assert_eq!(reject.error_code.as_deref(), Some("IC0406"));
        }
        other => panic!("expected a certified reject, got {other:?}"),
    }

    // A signed query reject still passes signature verification.
    let err = agent.query(&canister(), "nope").call().await.unwrap_err();
    assert!(matches!(err, AgentError::UncertifiedReject { .. }), "{err:?}");

    // Unknown canister: rejected before execution.
    let other = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 1, 1]);
    let err = agent.update(&other, "echo").call_and_wait().await.unwrap_err();
    assert!(matches!(err, AgentError::UncertifiedReject { .. }), "{err:?}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_call_falls_back_to_polling() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    fake.lock().unwrap().slow_ticks = 20;
    let config = ApiConfig { sync_call_timeout: Duration::from_millis(50), ..ApiConfig::default() };
    let server = start(fake, config).await;
    let agent = agent_for(&server, Box::new(ed25519_identity(2))).await;
    let reply = agent.update(&canister(), "slow").with_arg(b"later".to_vec()).call_and_wait().await.unwrap();
    assert_eq!(reply, b"later");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_type_authenticates() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let server = start(fake, ApiConfig::default()).await;
    let secp = Secp256k1Identity::from_private_key(k256::SecretKey::random(&mut rand::rngs::OsRng));
    let p256 = Prime256v1Identity::from_private_key(p256::SecretKey::random(&mut rand::rngs::OsRng));
    let identities: Vec<Box<dyn Identity>> = vec![Box::new(ed25519_identity(3)), Box::new(secp), Box::new(p256)];
    for identity in identities {
        let sender = identity.sender().unwrap();
        let agent = agent_for(&server, identity).await;
        let who = agent.update(&canister(), "whoami").call_and_wait().await.unwrap();
        assert_eq!(Principal::from_slice(&who), sender);
        let who = agent.query(&canister(), "whoami").call().await.unwrap();
        assert_eq!(Principal::from_slice(&who), sender);
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegation_chain_authenticates_as_the_root_identity() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let server = start(fake, ApiConfig::default()).await;
    let root = ed25519_identity(4);
    let session = Secp256k1Identity::from_private_key(k256::SecretKey::random(&mut rand::rngs::OsRng));
    let expiration = (std::time::SystemTime::now() + Duration::from_secs(600))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let delegation = ic_agent::identity::Delegation {
        pubkey: session.public_key().unwrap(),
        expiration,
        targets: Some(vec![canister()]),
        permissions: None,
    };
    let signature = root.sign_delegation(&delegation).unwrap().signature.unwrap();
    let chain = vec![ic_agent::identity::SignedDelegation { delegation, signature }];
    let delegated = DelegatedIdentity::new_unchecked(root.public_key().unwrap(), Box::new(session), chain);
    let agent = agent_for(&server, Box::new(delegated)).await;
    let who = agent.update(&canister(), "whoami").call_and_wait().await.unwrap();
    assert_eq!(Principal::from_slice(&who), root.sender().unwrap());

    // The delegation's targets exclude other canisters.
    let other = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 1, 1]);
    let err = agent.update(&other, "echo").call_and_wait().await.unwrap_err();
    assert!(matches!(err, AgentError::HttpError(ref p) if p.status == 403), "{err:?}");
    server.stop().await.unwrap();
}
