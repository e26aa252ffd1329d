//! Authenticating envelopes: sender ↔ public key, delegation chains,
//! signatures (`\x0Aic-request` || request id) and ingress expiry.

use candid::Principal;
use ciborium::Value;
use ic_certification::{Certificate, Delegation, HashTree, LookupResult};
use sha2::{Digest, Sha256};

use crate::certification::hash_of_map;

use super::envelope::{Content, Envelope};
use super::error::ApiError;
use super::keys::PublicKey;

const REQUEST_DOMAIN: &[u8] = b"\x0Aic-request";
const DELEGATION_DOMAIN: &[u8] = b"\x1Aic-request-auth-delegation";
const STATE_ROOT_DOMAIN: &[u8] = b"\x0Dic-state-root";
/// Replicas accept expiries up to 5 minutes ahead; we add a minute of slack
/// for clients that round their expiry or whose clock runs ahead.
pub const MAX_INGRESS_TTL_NS: u64 = 6 * 60 * 1_000_000_000;

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(msg.into())
}

/// Rejects requests whose `ingress_expiry` is past or too far ahead.
pub fn check_expiry(envelope: &Envelope, now_ns: u64) -> Result<(), ApiError> {
    let expiry = envelope.ingress_expiry;
    if expiry < now_ns {
        return Err(bad(format!(
            "request expired: ingress_expiry {expiry} is {} s before the current time {now_ns}",
            (now_ns - expiry) / 1_000_000_000
        )));
    }
    if expiry > now_ns.saturating_add(MAX_INGRESS_TTL_NS) {
        return Err(bad(format!(
            "ingress_expiry {expiry} is more than {} s after the current time {now_ns}",
            MAX_INGRESS_TTL_NS / 1_000_000_000
        )));
    }
    Ok(())
}

/// Checks that the envelope really comes from `envelope.sender`.
/// `root_key_der` verifies canister signatures (Internet Identity).
pub fn authenticate(envelope: &Envelope, now_ns: u64, root_key_der: &[u8]) -> Result<(), ApiError> {
    if envelope.sender == Principal::anonymous() {
        if envelope.sender_pubkey.is_some() || envelope.sender_sig.is_some() || !envelope.delegations.is_empty() {
            return Err(bad("anonymous requests must not carry sender_pubkey, sender_sig or sender_delegation"));
        }
        return Ok(());
    }
    let pubkey = envelope
        .sender_pubkey
        .as_deref()
        .ok_or_else(|| bad(format!("sender {} is not anonymous but sender_pubkey is missing", envelope.sender)))?;
    let signature = envelope.sender_sig.as_deref().ok_or_else(|| bad("sender_sig is missing"))?;
    if Principal::self_authenticating(pubkey) != envelope.sender {
        return Err(bad(format!("sender {} does not match sender_pubkey", envelope.sender)));
    }

    let mut key = PublicKey::from_der(pubkey)?;
    for (i, d) in envelope.delegations.iter().enumerate() {
        let hash = hash_of_map(&d.raw).map_err(|e| bad(format!("delegation {i}: {e}")))?;
        let message = [DELEGATION_DOMAIN, &hash].concat();
        verify(&key, &message, &d.signature, root_key_der).map_err(|e| bad(format!("delegation {i}: {e}")))?;
        if d.expiration < now_ns {
            return Err(bad(format!("delegation {i} expired at {}", d.expiration)));
        }
        if let Some(targets) = &d.targets {
            check_targets(envelope, targets, i)?;
        }
        key = PublicKey::from_der(&d.pubkey)?;
    }

    let message = [REQUEST_DOMAIN, envelope.request_id.as_bytes()].concat();
    verify(&key, &message, signature, root_key_der).map_err(|e| bad(format!("sender_sig: {e}")))
}

fn check_targets(envelope: &Envelope, targets: &[Principal], i: usize) -> Result<(), ApiError> {
    let canister = match &envelope.content {
        Content::Call(r) | Content::Query(r) => r.canister_id,
        // read_state is checked against the effective id by the caller.
        Content::ReadState { .. } => return Ok(()),
    };
    if targets.contains(&canister) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("delegation {i} does not allow calls to canister {canister}")))
    }
}

fn verify(key: &PublicKey, message: &[u8], signature: &[u8], root_key_der: &[u8]) -> Result<(), ApiError> {
    match key {
        PublicKey::Canister { canister, seed } => {
            verify_canister_signature(*canister, seed, message, signature, root_key_der)
        }
        simple => simple.verify_simple(message, signature),
    }
}

/// A canister signature is `{certificate, tree}`: the certificate certifies
/// the canister's `certified_data` = root of `tree`, and `tree` holds
/// `/sig/<sha256(seed)>/<sha256(message)>`.
fn verify_canister_signature(
    canister: Principal,
    seed: &[u8],
    message: &[u8],
    signature: &[u8],
    root_key_der: &[u8],
) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct CanisterSig {
        #[serde(with = "serde_bytes")]
        certificate: Vec<u8>,
        tree: HashTree,
    }
    let sig: CanisterSig =
        ciborium::from_reader(signature).map_err(|e| bad(format!("malformed canister signature: {e}")))?;
    let cert: Certificate =
        ciborium::from_reader(sig.certificate.as_slice()).map_err(|e| bad(format!("malformed certificate: {e}")))?;
    let signer_key = match &cert.delegation {
        None => root_key_der.to_vec(),
        Some(delegation) => delegated_key(delegation, canister, root_key_der)?,
    };
    verify_certificate_signature(&cert, &signer_key)
        .map_err(|_| bad("canister signature: certificate signature invalid"))?;
    let certified = cert.tree.lookup_path([b"canister".as_ref(), canister.as_slice(), b"certified_data"]);
    if certified != LookupResult::Found(&sig.tree.digest()) {
        return Err(bad("canister signature: tree does not match the canister's certified data"));
    }
    let seed_hash = Sha256::digest(seed);
    let message_hash = Sha256::digest(message);
    match sig.tree.lookup_path([b"sig".as_ref(), seed_hash.as_slice(), message_hash.as_slice()]) {
        LookupResult::Found([]) => Ok(()),
        _ => Err(bad("canister signature: message not in the signature tree")),
    }
}

/// Checks a certificate's BLS signature under `key_der` (a DER public key).
fn verify_certificate_signature(cert: &Certificate, key_der: &[u8]) -> Result<(), ()> {
    let message = [STATE_ROOT_DOMAIN, &cert.tree.digest()].concat();
    let raw = key_der.get(key_der.len().saturating_sub(96)..).ok_or(())?;
    ic_verify_bls_signature::verify_bls_signature(&cert.signature, &message, raw).map_err(|_| ())
}

/// The public key a subnet delegation vouches for, once the root key's
/// signature on it checks and the subnet's ranges hold `canister` (what
/// clients check of a certificate from a subnet other than the root).
fn delegated_key(delegation: &Delegation, canister: Principal, root_key_der: &[u8]) -> Result<Vec<u8>, ApiError> {
    let outer: Certificate = ciborium::from_reader(delegation.certificate.as_slice())
        .map_err(|e| bad(format!("malformed delegation certificate: {e}")))?;
    if outer.delegation.is_some() {
        return Err(bad("canister signature: a delegation certificate may not carry a delegation"));
    }
    verify_certificate_signature(&outer, root_key_der)
        .map_err(|_| bad("canister signature: delegation signature invalid"))?;
    let sid = delegation.subnet_id.as_slice();
    let LookupResult::Found(key) = outer.tree.lookup_path([b"subnet".as_ref(), sid, b"public_key"]) else {
        return Err(bad("canister signature: the delegation has no subnet public key"));
    };
    let LookupResult::Found(ranges) = outer.tree.lookup_path([b"subnet".as_ref(), sid, b"canister_ranges"]) else {
        return Err(bad("canister signature: the delegation has no canister ranges"));
    };
    let ranges: Vec<(serde_bytes::ByteBuf, serde_bytes::ByteBuf)> =
        ciborium::from_reader(ranges).map_err(|e| bad(format!("malformed canister ranges: {e}")))?;
    let id = canister.as_slice();
    if !ranges.iter().any(|(lo, hi)| lo.as_slice() <= id && id <= hi.as_slice()) {
        return Err(bad(format!("canister signature: subnet delegation does not cover canister {canister}")));
    }
    Ok(key.to_vec())
}

/// Used by tests that build delegation maps by hand.
pub fn delegation_signable(delegation: &[(Value, Value)]) -> Result<Vec<u8>, ApiError> {
    let hash = hash_of_map(delegation).map_err(|e| bad(e.to_string()))?;
    Ok([DELEGATION_DOMAIN, &hash].concat())
}
