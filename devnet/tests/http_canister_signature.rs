//! Internet Identity-style logins: a delegation signed with an IC canister
//! signature (certified by the devnet's root key) authenticates the user.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use candid::Principal;
use depot_devnet::certification::{Certifier, StateTree};
use depot_devnet::http::ApiConfig;
use ic_agent::identity::{BasicIdentity, DelegatedIdentity, Delegation, SignedDelegation};
use ic_agent::{AgentError, Identity};
use sha2::{Digest, Sha256};
use support::agent_for;
use support::fake_ic::{FakeIc, canister, start};

/// DER SubjectPublicKeyInfo of a canister signature key (OID 1.3.6.1.4.1.56387.1.2).
fn canister_sig_der(signing_canister: Principal, seed: &[u8]) -> Vec<u8> {
    let oid = [0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43, 0x01, 0x02];
    let id = signing_canister.as_slice();
    let mut bits = vec![0x00, id.len() as u8];
    bits.extend_from_slice(id);
    bits.extend_from_slice(seed);
    let mut algorithm = vec![0x30, oid.len() as u8];
    algorithm.extend_from_slice(&oid);
    let mut body = algorithm;
    body.extend_from_slice(&[0x03, bits.len() as u8]);
    body.extend_from_slice(&bits);
    let mut der = vec![0x30, body.len() as u8];
    der.extend_from_slice(&body);
    der
}

#[derive(serde::Serialize)]
struct CanisterSig {
    #[serde(with = "serde_bytes")]
    certificate: Vec<u8>,
    tree: ic_certification::HashTree,
}

fn expiration_in(d: Duration) -> u64 {
    (std::time::SystemTime::now() + d).duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// Signs `delegation` with a canister signature and makes the canister certify it.
/// With `forger`, the certificate comes from a key other than the devnet's root.
fn canister_signed(
    fake: &Mutex<FakeIc>,
    seed: &[u8],
    delegation: Delegation,
    forger: Option<&Certifier>,
) -> SignedDelegation {
    let message = delegation.signable();
    let mut tree = StateTree::new();
    let seed_hash = Sha256::digest(seed);
    let message_hash = Sha256::digest(&message);
    tree.insert(&[b"sig", seed_hash.as_slice(), message_hash.as_slice()], Vec::new()).unwrap();
    let tree = tree.to_hash_tree();
    let mut f = fake.lock().unwrap();
    f.certified_data = tree.digest().to_vec();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let certificate = forger.unwrap_or(&f.certifier).data_certificate(canister(), &tree.digest(), now);
    let mut signature = Vec::new();
    ciborium::into_writer(&ciborium::tag::Required::<_, 55799>(CanisterSig { certificate, tree }), &mut signature)
        .unwrap();
    SignedDelegation { delegation, signature }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canister_signed_delegation_authenticates() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let server = start(fake.clone(), ApiConfig::default()).await;
    let seed = b"anchor-10000";
    let user_key = canister_sig_der(canister(), seed);
    let session = BasicIdentity::from_raw_key(&[11; 32]);
    let delegation = Delegation {
        pubkey: session.public_key().unwrap(),
        expiration: expiration_in(Duration::from_secs(600)),
        targets: None,
        permissions: None,
    };
    let signed = canister_signed(&fake, seed, delegation.clone(), None);
    let identity = DelegatedIdentity::new_unchecked(user_key.clone(), Box::new(session), vec![signed]);
    let agent = agent_for(&server, Box::new(identity)).await;
    let who = agent.update(&canister(), "whoami").call_and_wait().await.unwrap();
    assert_eq!(Principal::from_slice(&who), Principal::self_authenticating(&user_key));

    // The same delegation with a certificate signed by another root key.
    let session = BasicIdentity::from_raw_key(&[11; 32]);
    let forged = canister_signed(&fake, seed, delegation, Some(&Certifier::new()));
    let identity = DelegatedIdentity::new_unchecked(user_key, Box::new(session), vec![forged]);
    let agent = agent_for(&server, Box::new(identity)).await;
    let err = agent.update(&canister(), "whoami").call_and_wait().await.unwrap_err();
    match err {
        AgentError::HttpError(p) => {
            assert_eq!(p.status, 400);
            assert!(String::from_utf8_lossy(&p.content).contains("canister signature"));
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    server.stop().await.unwrap();
}

/// The agent's `whoami` call is refused with HTTP 400 naming `why`.
async fn assert_refused(agent: &ic_agent::Agent, why: &str) {
    match agent.update(&canister(), "whoami").call_and_wait().await.unwrap_err() {
        AgentError::HttpError(p) => {
            assert_eq!(p.status, 400);
            assert!(String::from_utf8_lossy(&p.content).contains(why), "{p:?}");
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
}

/// Like `canister_signed`, for a signing canister `signer` whose
/// certificate subnet `subnet` of `certifier` signs (with a delegation
/// from the root unless `subnet` is 0).
fn canister_signed_on(
    certifier: &Certifier,
    subnet: usize,
    signer: Principal,
    seed: &[u8],
    delegation: Delegation,
) -> SignedDelegation {
    let message = delegation.signable();
    let mut sig_tree = StateTree::new();
    let (seed_hash, message_hash) = (Sha256::digest(seed), Sha256::digest(&message));
    sig_tree.insert(&[b"sig", seed_hash.as_slice(), message_hash.as_slice()], Vec::new()).unwrap();
    let sig_tree = sig_tree.to_hash_tree();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut state = StateTree::new();
    state.insert(&[b"time"], depot_devnet::certification::leb128_u64(now)).unwrap();
    state.insert(&[b"canister", signer.as_slice(), b"certified_data"], sig_tree.digest().to_vec()).unwrap();
    let certificate = certifier.certify_on(subnet, state.to_hash_tree(), now);
    let mut signature = Vec::new();
    let sig = CanisterSig { certificate, tree: sig_tree };
    ciborium::into_writer(&ciborium::tag::Required::<_, 55799>(sig), &mut signature).unwrap();
    SignedDelegation { delegation, signature }
}

/// Internet Identity on a subnet other than the root: its canister
/// signature's certificate carries a delegation, which devnet checks like
/// a replica (root-signed, and its ranges cover the signing canister).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canister_signatures_from_a_delegated_subnet() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let certifier = fake.lock().unwrap().certifier.clone().with_subnets(2);
    let server = start(fake.clone(), ApiConfig::default()).await;
    let seed = b"anchor-20000";
    // A canister id in subnet 1's range, and one on the root subnet.
    let on_subnet_1 = Principal::from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 7, 1, 1]);
    let on_root = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 7, 1, 1]);
    let delegation = |key: &BasicIdentity| Delegation {
        pubkey: key.public_key().unwrap(),
        expiration: expiration_in(Duration::from_secs(600)),
        targets: None,
        permissions: None,
    };
    let session = BasicIdentity::from_raw_key(&[12; 32]);
    let signed = canister_signed_on(&certifier, 1, on_subnet_1, seed, delegation(&session));
    let user_key = canister_sig_der(on_subnet_1, seed);
    let identity = DelegatedIdentity::new_unchecked(user_key.clone(), Box::new(session), vec![signed]);
    let agent = agent_for(&server, Box::new(identity)).await;
    let who = agent.update(&canister(), "whoami").call_and_wait().await.unwrap();
    assert_eq!(Principal::from_slice(&who), Principal::self_authenticating(&user_key));

    // Subnet 1 vouching for a canister outside its ranges is refused.
    let session = BasicIdentity::from_raw_key(&[12; 32]);
    let stray = canister_signed_on(&certifier, 1, on_root, seed, delegation(&session));
    let identity = DelegatedIdentity::new_unchecked(canister_sig_der(on_root, seed), Box::new(session), vec![stray]);
    let agent = agent_for(&server, Box::new(identity)).await;
    assert_refused(&agent, "does not cover canister").await;
    // A delegation signed by another root is refused.
    let session = BasicIdentity::from_raw_key(&[12; 32]);
    let forged = canister_signed_on(&Certifier::new().with_subnets(2), 1, on_subnet_1, seed, delegation(&session));
    let identity = DelegatedIdentity::new_unchecked(user_key, Box::new(session), vec![forged]);
    let agent = agent_for(&server, Box::new(identity)).await;
    assert_refused(&agent, "delegation signature invalid").await;
    server.stop().await.unwrap();
}
