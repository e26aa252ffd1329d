//! Malformed, forged, expired and unauthorized requests get clear HTTP
//! errors; request ids follow the content map as sent (unknown fields too).

mod support;

use std::sync::{Arc, Mutex};

use candid::Principal;
use ciborium::Value;
use depot_devnet::certification::RequestId;
use depot_devnet::http::ApiConfig;
use ed25519_dalek::{Signer, SigningKey};
use support::fake_ic::{FakeIc, canister, start};

const ED25519_DER_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

struct Signer25519 {
    key: SigningKey,
    der: Vec<u8>,
}

impl Signer25519 {
    fn new(seed: u8) -> Self {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let der = [ED25519_DER_PREFIX.as_slice(), key.verifying_key().as_bytes()].concat();
        Self { key, der }
    }
    fn principal(&self) -> Principal {
        Principal::self_authenticating(&self.der)
    }
}

fn call_content(sender: Principal, method: &str, expiry: u64, extra: Vec<(Value, Value)>) -> Value {
    let mut fields = vec![
        (text("request_type"), text("call")),
        (text("sender"), Value::Bytes(sender.as_slice().to_vec())),
        (text("ingress_expiry"), Value::Integer(expiry.into())),
        (text("canister_id"), Value::Bytes(canister().as_slice().to_vec())),
        (text("method_name"), text(method)),
        (text("arg"), Value::Bytes(b"x".to_vec())),
    ];
    fields.extend(extra);
    Value::Map(fields)
}

fn read_state_content(sender: Principal, paths: Vec<Vec<Vec<u8>>>) -> Value {
    let paths = paths.into_iter().map(|p| Value::Array(p.into_iter().map(Value::Bytes).collect())).collect();
    Value::Map(vec![
        (text("request_type"), text("read_state")),
        (text("sender"), Value::Bytes(sender.as_slice().to_vec())),
        (text("ingress_expiry"), Value::Integer((now_ns() + 60_000_000_000).into())),
        (text("paths"), Value::Array(paths)),
    ])
}

/// A signed envelope; `tamper` flips a signature bit.
fn envelope(content: Value, signer: Option<&Signer25519>, tamper: bool) -> Vec<u8> {
    let mut fields = vec![(text("content"), content.clone())];
    if let Some(s) = signer {
        let id = RequestId::of_content(&content).unwrap();
        let mut sig = s.key.sign(&[b"\x0Aic-request".as_slice(), id.as_bytes()].concat()).to_bytes().to_vec();
        if tamper {
            sig[0] ^= 1;
        }
        fields.push((text("sender_pubkey"), Value::Bytes(s.der.clone())));
        fields.push((text("sender_sig"), Value::Bytes(sig)));
    }
    let mut out = Vec::new();
    ciborium::into_writer(&Value::Tag(55799, Box::new(Value::Map(fields))), &mut out).unwrap();
    out
}

async fn post(url: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let r =
        reqwest::Client::new().post(url).header("content-type", "application/cbor").body(body).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

fn body_text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_reasons() {
    let server = start(Arc::new(Mutex::new(FakeIc::new())), ApiConfig::default()).await;
    let call_url = format!("{}/api/v2/canister/{}/call", server.url(), canister());
    let alice = Signer25519::new(1);
    let soon = now_ns() + 60_000_000_000;

    let (status, body) = post(&call_url, b"not cbor".to_vec()).await;
    assert_eq!(status, 400);
    assert!(body_text(&body).contains("CBOR"), "{}", body_text(&body));

    let no_content = {
        let mut out = Vec::new();
        ciborium::into_writer(&Value::Map(vec![]), &mut out).unwrap();
        out
    };
    let (status, body) = post(&call_url, no_content).await;
    assert_eq!((status, body_text(&body).contains("content")), (400, true));

    let forged = envelope(call_content(alice.principal(), "echo", soon, vec![]), Some(&alice), true);
    let (status, body) = post(&call_url, forged).await;
    assert_eq!(status, 400);
    assert!(body_text(&body).contains("signature"), "{}", body_text(&body));

    let bob = Signer25519::new(2);
    let impostor = envelope(call_content(bob.principal(), "echo", soon, vec![]), Some(&alice), false);
    let (status, body) = post(&call_url, impostor).await;
    assert_eq!(status, 400);
    assert!(body_text(&body).contains("does not match"), "{}", body_text(&body));

    let expired =
        envelope(call_content(alice.principal(), "echo", now_ns() - 1_000_000_000, vec![]), Some(&alice), false);
    let (status, body) = post(&call_url, expired).await;
    assert_eq!(status, 400);
    assert!(body_text(&body).contains("expired"), "{}", body_text(&body));

    let too_far =
        envelope(call_content(alice.principal(), "echo", now_ns() + 3_600_000_000_000, vec![]), Some(&alice), false);
    assert_eq!(post(&call_url, too_far).await.0, 400);

    let unsigned = envelope(call_content(alice.principal(), "echo", soon, vec![]), None, false);
    let (status, body) = post(&call_url, unsigned).await;
    assert_eq!(status, 400);
    assert!(body_text(&body).contains("sender_pubkey"), "{}", body_text(&body));

    let bad_url = format!("{}/api/v2/canister/not-a-principal/call", server.url());
    assert_eq!(post(&bad_url, vec![]).await.0, 400);
    let other_subnet = format!("{}/api/v3/subnet/{}/read_state", server.url(), canister());
    let rs = envelope(read_state_content(Principal::anonymous(), vec![vec![b"time".to_vec()]]), None, false);
    assert_eq!(post(&other_subnet, rs).await.0, 404);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_call_with_unknown_fields_then_status_only_for_its_sender() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let server = start(fake.clone(), ApiConfig::default()).await;
    let alice = Signer25519::new(3);
    let content = call_content(
        alice.principal(),
        "echo",
        now_ns() + 60_000_000_000,
        vec![(text("some_future_field"), Value::Map(vec![(text("x"), Value::Integer(1.into()))]))],
    );
    let id = RequestId::of_content(&content).unwrap();
    let (status, _) =
        post(&format!("{}/api/v2/canister/{}/call", server.url(), canister()), envelope(content, Some(&alice), false))
            .await;
    assert_eq!(status, 202);
    // The state machine saw the id the client computed (unknown field included).
    assert!(fake.lock().unwrap().statuses.contains_key(&id));

    let rs_url = format!("{}/api/v3/canister/{}/read_state", server.url(), canister());
    let path = vec![vec![b"request_status".to_vec(), id.as_bytes().to_vec()]];
    let (status, body) =
        post(&rs_url, envelope(read_state_content(alice.principal(), path.clone()), Some(&alice), false)).await;
    assert_eq!(status, 200, "{}", body_text(&body));

    let mallory = Signer25519::new(4);
    let (status, _) =
        post(&rs_url, envelope(read_state_content(mallory.principal(), path), Some(&mallory), false)).await;
    assert_eq!(status, 403);

    // Private metadata is for controllers only (the anonymous principal here).
    let secret =
        vec![vec![b"canister".to_vec(), canister().as_slice().to_vec(), b"metadata".to_vec(), b"secret".to_vec()]];
    let (status, _) =
        post(&rs_url, envelope(read_state_content(mallory.principal(), secret.clone()), Some(&mallory), false)).await;
    assert_eq!(status, 403);
    let (status, _) = post(&rs_url, envelope(read_state_content(Principal::anonymous(), secret), None, false)).await;
    assert_eq!(status, 200);

    // /canister paths must name the effective canister.
    let other = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 1, 1]);
    let wrong = vec![vec![b"canister".to_vec(), other.as_slice().to_vec(), b"certified_data".to_vec()]];
    let (status, _) = post(&rs_url, envelope(read_state_content(Principal::anonymous(), wrong), None, false)).await;
    assert_eq!(status, 400);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subnet_read_state_serves_keys_and_ranges() {
    let server = start(Arc::new(Mutex::new(FakeIc::new())), ApiConfig::default()).await;
    let agent = support::agent_for(&server, Box::new(ic_agent::identity::AnonymousIdentity)).await;
    let subnet_id = Principal::self_authenticating(agent.read_root_key());
    let ranges = agent.read_state_subnet_canister_ranges(subnet_id).await.unwrap();
    assert_eq!(ranges, vec![depot_devnet::http::canister_range()]);
    let subnet = agent.fetch_subnet_by_id(&subnet_id).await.unwrap();
    assert_eq!(subnet.iter_node_keys().count(), 1);
    assert!(subnet.contains_canister(&canister()));
    let subnet = agent.fetch_subnet_by_canister(&canister()).await.unwrap();
    assert_eq!(subnet.id(), subnet_id);
    server.stop().await.unwrap();
}
