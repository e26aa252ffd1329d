//! Ed25519 signatures with key ids, shared by upload tokens and download URLs.
//!
//! Every signed message is domain-separated: `len(domain) || domain || payload`,
//! so a signature made for one format can never verify as another.
//! The directory holds the secret keys; buckets hold only public keys, each
//! under its `kid`, so the directory can rotate keys while tokens and URLs
//! signed by a retired key stay valid until they expire.

use candid::CandidType;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

pub type KeyId = u32;

pub const PUBLIC_KEY_BYTES: usize = 32;
pub const SIGNATURE_BYTES: usize = 64;

/// A directory public key as buckets store it.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyInfo {
    pub kid: KeyId,
    #[serde(with = "serde_bytes")]
    pub key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("unknown key id {0}")]
    UnknownKey(KeyId),
    #[error("malformed public key for key id {0}")]
    BadPublicKey(KeyId),
    #[error("signature has {0} bytes, expected 64")]
    BadLength(usize),
    #[error("signature does not verify")]
    Invalid,
}

/// The bytes actually signed for `payload` under `domain`.
pub fn signed_bytes(domain: &[u8], payload: &[u8]) -> Vec<u8> {
    debug_assert!(domain.len() < 256);
    let mut out = Vec::with_capacity(1 + domain.len() + payload.len());
    out.push(domain.len() as u8);
    out.extend_from_slice(domain);
    out.extend_from_slice(payload);
    out
}

/// Signs `payload` under `domain` with a 32-byte Ed25519 seed.
pub fn sign(seed: &[u8; 32], domain: &[u8], payload: &[u8]) -> [u8; SIGNATURE_BYTES] {
    SigningKey::from_bytes(seed).sign(&signed_bytes(domain, payload)).to_bytes()
}

/// The public key of a 32-byte seed.
pub fn public_key(seed: &[u8; 32]) -> [u8; PUBLIC_KEY_BYTES] {
    SigningKey::from_bytes(seed).verifying_key().to_bytes()
}

/// Verifies a signature made by the key `kid` among `keys`.
pub fn verify(
    keys: &[PublicKeyInfo],
    kid: KeyId,
    domain: &[u8],
    payload: &[u8],
    sig: &[u8],
) -> Result<(), SignatureError> {
    let info = keys.iter().find(|k| k.kid == kid).ok_or(SignatureError::UnknownKey(kid))?;
    let key_bytes: [u8; PUBLIC_KEY_BYTES] =
        info.key.as_slice().try_into().map_err(|_| SignatureError::BadPublicKey(kid))?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| SignatureError::BadPublicKey(kid))?;
    let sig: [u8; SIGNATURE_BYTES] = sig.try_into().map_err(|_| SignatureError::BadLength(sig.len()))?;
    // verify_strict refuses weak keys and non-canonical signatures, so a
    // signature has exactly one valid encoding (no malleability).
    key.verify_strict(&signed_bytes(domain, payload), &Signature::from_bytes(&sig))
        .map_err(|_| SignatureError::Invalid)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seed: &[u8; 32], kid: KeyId) -> Vec<PublicKeyInfo> {
        vec![PublicKeyInfo { kid, key: public_key(seed).to_vec() }]
    }

    #[test]
    fn sign_verify_and_domain_separation() {
        let seed = [7u8; 32];
        let sig = sign(&seed, b"a", b"payload");
        assert_eq!(verify(&keys(&seed, 1), 1, b"a", b"payload", &sig), Ok(()));
        assert_eq!(verify(&keys(&seed, 1), 1, b"b", b"payload", &sig), Err(SignatureError::Invalid));
        assert_eq!(verify(&keys(&seed, 1), 1, b"a", b"payloaD", &sig), Err(SignatureError::Invalid));
        assert_eq!(verify(&keys(&seed, 1), 2, b"a", b"payload", &sig), Err(SignatureError::UnknownKey(2)));
        assert_eq!(verify(&keys(&seed, 1), 1, b"a", b"payload", &sig[..63]), Err(SignatureError::BadLength(63)));
        let other = keys(&[8u8; 32], 1);
        assert_eq!(verify(&other, 1, b"a", b"payload", &sig), Err(SignatureError::Invalid));
        let bad = vec![PublicKeyInfo { kid: 1, key: vec![1, 2, 3] }];
        assert_eq!(verify(&bad, 1, b"a", b"payload", &sig), Err(SignatureError::BadPublicKey(1)));
    }

    #[test]
    fn domain_length_prefix_prevents_shifting() {
        // ("ab", "c") and ("a", "bc") must sign different bytes.
        assert_ne!(signed_bytes(b"ab", b"c"), signed_bytes(b"a", b"bc"));
    }
}
