//! Certificates issued by `Certifier` pass ic-agent's own verification
//! (BLS signature over the state root, no delegation, fresh `/time`).

use candid::Principal;
use depot_devnet::certification::Certifier;
use ic_agent::{Agent, Certificate};

fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_nanos() as u64
}

fn agent_with_root_key(certifier: &Certifier) -> Agent {
    let agent = Agent::builder().with_url("http://127.0.0.1:9").build().expect("agent");
    agent.set_root_key(certifier.root_key_der());
    agent
}

fn decode(bytes: &[u8]) -> Certificate {
    ciborium::from_reader(bytes).expect("certificate decodes")
}

#[test]
fn data_certificate_passes_ic_agent_verification() {
    let certifier = Certifier::new();
    let canister = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 7, 1, 1]);
    let cert = decode(&certifier.data_certificate(canister, b"root-hash", now_ns()));
    let agent = agent_with_root_key(&certifier);
    agent.verify(&cert, canister).expect("ic-agent accepts devnet certificate");
}

#[test]
fn certificate_from_another_root_key_is_refused() {
    let certifier = Certifier::new();
    let other = Certifier::new();
    let canister = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 7, 1, 1]);
    let cert = decode(&other.data_certificate(canister, b"x", now_ns()));
    let agent = agent_with_root_key(&certifier);
    assert!(agent.verify(&cert, canister).is_err());
}

#[test]
fn stale_certificate_is_refused() {
    let certifier = Certifier::new();
    let canister = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 7, 1, 1]);
    let an_hour_ago = now_ns() - 3_600 * 1_000_000_000;
    let cert = decode(&certifier.data_certificate(canister, b"x", an_hour_ago));
    let agent = agent_with_root_key(&certifier);
    assert!(agent.verify(&cert, canister).is_err());
}

#[test]
fn root_key_der_has_ic_prefix_and_length() {
    let der = Certifier::new().root_key_der();
    assert_eq!(der.len(), 133);
    assert_eq!(&der[..37], &depot_devnet::certification::DER_PREFIX);
}
