//! Sender public keys (DER SubjectPublicKeyInfo) and their signature checks.
//!
//! Supported: Ed25519, ECDSA secp256k1 and ECDSA P-256 (both SHA-256, 64-byte
//! `r || s` signatures), and IC canister signatures (Internet Identity).
//! WebAuthn keys are refused with a clear "not implemented" error.

use super::error::ApiError;

const ED25519_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// OID 1.3.6.1.4.1.56387.1.2 (IC canister signature), DER-encoded.
const CANISTER_SIG_OID: [u8; 12] = [0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43, 0x01, 0x02];
/// OID 1.3.6.1.4.1.56387.1.1 (IC WebAuthn/COSE key), DER-encoded.
const COSE_OID: [u8; 12] = [0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43, 0x01, 0x01];

/// A parsed sender key.
#[derive(Debug, Clone)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Secp256k1(k256::ecdsa::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    /// A canister signature key: the signing canister and the seed.
    Canister {
        canister: candid::Principal,
        seed: Vec<u8>,
    },
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl PublicKey {
    pub fn from_der(der: &[u8]) -> Result<Self, ApiError> {
        use k256::pkcs8::DecodePublicKey;
        if der.len() == 44 && der[..12] == ED25519_PREFIX {
            let raw: [u8; 32] = der[12..].try_into().map_err(|_| bad_key("Ed25519 key length"))?;
            return ed25519_dalek::VerifyingKey::from_bytes(&raw)
                .map(PublicKey::Ed25519)
                .map_err(|_| bad_key("invalid Ed25519 point"));
        }
        if let Ok(k) = k256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::Secp256k1(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if contains(der, &CANISTER_SIG_OID) {
            return canister_key(der);
        }
        if contains(der, &COSE_OID) {
            return Err(ApiError::NotImplemented("WebAuthn (COSE) sender keys".into()));
        }
        Err(bad_key("unsupported or malformed DER public key"))
    }

    /// Verifies a plain (non-canister) signature over `message`.
    pub fn verify_simple(&self, message: &[u8], signature: &[u8]) -> Result<(), ApiError> {
        use k256::ecdsa::signature::Verifier;
        let ok = match self {
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .map(|s| k.verify_strict(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::Secp256k1(k) => match k256::ecdsa::Signature::from_slice(signature) {
                // The IC accepts high-S signatures; k256 insists on low S.
                Ok(s) => k.verify(message, &s.normalize_s().unwrap_or(s)).is_ok(),
                Err(_) => false,
            },
            PublicKey::P256(k) => {
                p256::ecdsa::Signature::from_slice(signature).map(|s| k.verify(message, &s).is_ok()).unwrap_or(false)
            }
            PublicKey::Canister { .. } => {
                return Err(ApiError::Internal("canister signatures need the certifier".into()));
            }
        };
        if ok { Ok(()) } else { Err(ApiError::BadRequest("invalid signature".into())) }
    }
}

fn bad_key(what: &str) -> ApiError {
    ApiError::BadRequest(format!("sender public key: {what}"))
}

/// Canister-signature keys: SPKI whose BIT STRING holds
/// `len(canister_id) || canister_id || seed`.
fn canister_key(der: &[u8]) -> Result<PublicKey, ApiError> {
    // SEQUENCE { SEQUENCE { OID }, BIT STRING (0x03 len 0x00 payload) }
    let bitstring_at = der
        .windows(CANISTER_SIG_OID.len())
        .position(|w| w == CANISTER_SIG_OID)
        .map(|p| p + CANISTER_SIG_OID.len())
        .ok_or_else(|| bad_key("canister signature key without OID"))?;
    let rest = &der[bitstring_at..];
    let (tag, rest) = rest.split_first().ok_or_else(|| bad_key("truncated canister key"))?;
    if *tag != 0x03 {
        return Err(bad_key("canister key without BIT STRING"));
    }
    let (len, rest) = der_length(rest)?;
    let payload = rest.get(..len).ok_or_else(|| bad_key("truncated canister key"))?;
    let (unused, payload) = payload.split_first().ok_or_else(|| bad_key("empty canister key"))?;
    if *unused != 0 {
        return Err(bad_key("canister key BIT STRING with unused bits"));
    }
    let (id_len, payload) = payload.split_first().ok_or_else(|| bad_key("empty canister key"))?;
    let id = payload.get(..*id_len as usize).ok_or_else(|| bad_key("truncated canister id"))?;
    let canister = candid::Principal::try_from_slice(id).map_err(|_| bad_key("bad canister id"))?;
    Ok(PublicKey::Canister { canister, seed: payload[*id_len as usize..].to_vec() })
}

fn der_length(bytes: &[u8]) -> Result<(usize, &[u8]), ApiError> {
    let (first, rest) = bytes.split_first().ok_or_else(|| bad_key("truncated length"))?;
    if first & 0x80 == 0 {
        return Ok((*first as usize, rest));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 || rest.len() < n {
        return Err(bad_key("bad DER length"));
    }
    let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
    Ok((len, &rest[n..]))
}
