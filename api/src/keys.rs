//! Directory keys with key ids, shared by upload tokens and download URLs.
//!
//! Every signed message is domain-separated: `len(domain) || domain || payload`,
//! so a signature made for one format can never verify as another.
//!
//! Each key id stands for two ways to sign, told apart by the signature's
//! length:
//!
//! - **Ed25519** (64 bytes): the directory holds the seed; buckets hold the
//!   public key, which anyone may read (`get_public_keys`).
//! - **HMAC-SHA256** (32 bytes) under a key derived for one bucket from the
//!   same seed ([`bucket_mac_key`]), which only that bucket is sent
//!   (`set_key_ring`). A bucket checks one in thousands of instructions where
//!   an Ed25519 check costs about 2.1 million, which is most of what a
//!   certified 206 or a `put_chunk` token check cost. The MAC key sits in the
//!   bucket's state, which the subnet's nodes can read, as they can read the
//!   files it guards; it opens nothing on any other bucket.
//!
//! Neither is weaker than the other, so letting the sender pick by length
//! gives a forger nothing. The directory signs with a MAC only for a bucket
//! that accepted the current key ring, and with Ed25519 otherwise (a bucket
//! not yet sent its MAC keys), so no bucket is sent a form it cannot check.
//! The directory can rotate keys while tokens and URLs signed by a retired
//! key stay valid until they expire.

use candid::{CandidType, Principal};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub type KeyId = u32;

pub const PUBLIC_KEY_BYTES: usize = 32;
pub const SIGNATURE_BYTES: usize = 64;
/// Bytes of a bucket's MAC key and of a MAC (HMAC-SHA256).
pub const MAC_KEY_BYTES: usize = 32;
pub const MAC_BYTES: usize = 32;

/// Domain of the derivation of a bucket's MAC key from a directory seed.
pub const BUCKET_MAC_KEY_DOMAIN: &[u8] = b"depot-bucket-mac-key";

/// A directory public key as buckets store it.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyInfo {
    pub kid: KeyId,
    #[serde(with = "serde_bytes")]
    pub key: Vec<u8>,
}

/// A bucket's MAC key for one directory key id, as the bucket stores it.
#[derive(CandidType, Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct MacKey {
    pub kid: KeyId,
    pub key: [u8; MAC_KEY_BYTES],
}

/// One directory key as the directory sends it to one bucket
/// (`set_key_ring`): the public key and that bucket's MAC key.
#[derive(CandidType, Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct BucketKey {
    pub kid: KeyId,
    #[serde(with = "serde_bytes")]
    pub public_key: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub mac_key: Vec<u8>,
}

// Secrets stay out of logs and panic messages.
impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MacKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BucketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BucketKey")
            .field("kid", &self.kid)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// The keys a bucket checks signatures with.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyRing<'a> {
    pub public: &'a [PublicKeyInfo],
    pub mac: &'a [MacKey],
}

impl<'a> From<&'a [PublicKeyInfo]> for KeyRing<'a> {
    fn from(public: &'a [PublicKeyInfo]) -> Self {
        Self { public, mac: &[] }
    }
}

impl<'a> From<&'a Vec<PublicKeyInfo>> for KeyRing<'a> {
    fn from(public: &'a Vec<PublicKeyInfo>) -> Self {
        Self { public, mac: &[] }
    }
}

/// A ring as a bucket keeps it: public keys and MAC keys apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeldKeys {
    pub public: Vec<PublicKeyInfo>,
    pub mac: Vec<MacKey>,
}

impl HeldKeys {
    /// Splits a ring the directory sent; refuses a key of the wrong length.
    pub fn from_ring(ring: Vec<BucketKey>) -> Result<Self, &'static str> {
        let mut held = Self::default();
        for k in ring {
            if k.public_key.len() != PUBLIC_KEY_BYTES {
                return Err("public keys are 32 bytes");
            }
            let key = k.mac_key.as_slice().try_into().map_err(|_| "MAC keys are 32 bytes")?;
            held.mac.push(MacKey { kid: k.kid, key });
            held.public.push(PublicKeyInfo { kid: k.kid, key: k.public_key });
        }
        Ok(held)
    }
}

impl<'a> From<&'a HeldKeys> for KeyRing<'a> {
    fn from(h: &'a HeldKeys) -> Self {
        Self { public: &h.public, mac: &h.mac }
    }
}

impl KeyRing<'_> {
    /// Whether key `kid` verifies at all (in either form).
    pub fn knows(&self, kid: KeyId) -> bool {
        self.public.iter().any(|k| k.kid == kid) || self.mac.iter().any(|k| k.kid == kid)
    }
}

/// How the directory signs one token or URL.
pub enum SignWith {
    Ed25519([u8; 32]),
    Mac([u8; MAC_KEY_BYTES]),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("unknown key id {0}")]
    UnknownKey(KeyId),
    #[error("malformed public key for key id {0}")]
    BadPublicKey(KeyId),
    #[error("signature has {0} bytes, expected 64 (Ed25519) or 32 (MAC)")]
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

/// HMAC-SHA256 under `key` of `len(domain) ‖ domain ‖ payload`.
fn hmac_of(key: &[u8], domain: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    absorb(keyed_hmac(key), domain, payload)
}

fn keyed_hmac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}

/// What every MAC of ours covers: `len(domain) ‖ domain ‖ payload`.
fn absorb(mut keyed: Hmac<Sha256>, domain: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    keyed.update(&[domain.len() as u8]);
    keyed.update(domain);
    keyed.update(payload);
    keyed
}

/// `bucket`'s MAC key under the directory seed `seed`: HMAC-SHA256 keyed by
/// the seed, a PRF, so keys of different buckets are independent and none
/// reveals the seed or another bucket's key. (Ed25519 uses the seed only
/// through SHA-512, so the two uses do not meet.)
pub fn bucket_mac_key(seed: &[u8; 32], bucket: Principal) -> [u8; MAC_KEY_BYTES] {
    hmac_of(seed, BUCKET_MAC_KEY_DOMAIN, bucket.as_slice()).finalize().into_bytes().into()
}

/// MAC of `payload` under `domain` with a bucket's MAC key.
pub fn mac(key: &[u8; MAC_KEY_BYTES], domain: &[u8], payload: &[u8]) -> [u8; MAC_BYTES] {
    hmac_of(key, domain, payload).finalize().into_bytes().into()
}

/// Signs `payload` under `domain` in the form `with` names.
pub fn sign_with(with: &SignWith, domain: &[u8], payload: &[u8]) -> Vec<u8> {
    match with {
        SignWith::Ed25519(seed) => sign(seed, domain, payload).to_vec(),
        SignWith::Mac(key) => mac(key, domain, payload).to_vec(),
    }
}

/// Verifies a signature or MAC made under key `kid` among `keys`; the
/// length says which (see the module notes).
pub fn verify(keys: KeyRing<'_>, kid: KeyId, domain: &[u8], payload: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
    verify_prepared(keys, &[], kid, domain, payload, sig)
}

/// A MAC key with HMAC's two key blocks already hashed: two of the five
/// SHA-256 compressions of checking a download URL's MAC (~9.6 k
/// instructions of a certified response). A bucket keeps one per MAC key
/// it holds, made when its ring changes.
#[derive(Clone)]
pub struct PreparedMac {
    kid: KeyId,
    key: [u8; MAC_KEY_BYTES],
    keyed: Hmac<Sha256>,
}

impl PreparedMac {
    pub fn new(key: &MacKey) -> Self {
        Self { kid: key.kid, key: key.key, keyed: keyed_hmac(&key.key) }
    }

    fn is_for(&self, key: &MacKey) -> bool {
        self.kid == key.kid && self.key == key.key
    }
}

impl std::fmt::Debug for PreparedMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedMac").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// `verify`, using `prepared` for a MAC key of `keys` it was made from.
/// `keys` alone decides which keys are valid: a prepared key is used only
/// if `keys` holds the same kid with the same key, so a stale `prepared`
/// (a key rotated or revoked since) costs time, never validity.
pub fn verify_prepared(
    keys: KeyRing<'_>,
    prepared: &[PreparedMac],
    kid: KeyId,
    domain: &[u8],
    payload: &[u8],
    sig: &[u8],
) -> Result<(), SignatureError> {
    if sig.len() == MAC_BYTES {
        let key = keys.mac.iter().find(|k| k.kid == kid).ok_or(SignatureError::UnknownKey(kid))?;
        let keyed = match prepared.iter().find(|p| p.is_for(key)) {
            Some(p) => p.keyed.clone(),
            None => keyed_hmac(&key.key),
        };
        // verify_slice compares in constant time.
        return absorb(keyed, domain, payload).verify_slice(sig).map_err(|_| SignatureError::Invalid);
    }
    verify_ed25519(keys.public, kid, domain, payload, sig)
}

/// Verifies an Ed25519 signature made by the key `kid` among `keys`.
pub fn verify_ed25519(
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

    fn ring(public: &[PublicKeyInfo]) -> KeyRing<'_> {
        KeyRing { public, mac: &[] }
    }

    #[test]
    fn sign_verify_and_domain_separation() {
        let seed = [7u8; 32];
        let sig = sign(&seed, b"a", b"payload");
        let k = keys(&seed, 1);
        assert_eq!(verify(ring(&k), 1, b"a", b"payload", &sig), Ok(()));
        assert_eq!(verify(ring(&k), 1, b"b", b"payload", &sig), Err(SignatureError::Invalid));
        assert_eq!(verify(ring(&k), 1, b"a", b"payloaD", &sig), Err(SignatureError::Invalid));
        assert_eq!(verify(ring(&k), 2, b"a", b"payload", &sig), Err(SignatureError::UnknownKey(2)));
        assert_eq!(verify(ring(&k), 1, b"a", b"payload", &sig[..63]), Err(SignatureError::BadLength(63)));
        let other = keys(&[8u8; 32], 1);
        assert_eq!(verify(ring(&other), 1, b"a", b"payload", &sig), Err(SignatureError::Invalid));
        let bad = vec![PublicKeyInfo { kid: 1, key: vec![1, 2, 3] }];
        assert_eq!(verify(ring(&bad), 1, b"a", b"payload", &sig), Err(SignatureError::BadPublicKey(1)));
    }

    #[test]
    fn domain_length_prefix_prevents_shifting() {
        // ("ab", "c") and ("a", "bc") must sign different bytes.
        assert_ne!(signed_bytes(b"ab", b"c"), signed_bytes(b"a", b"bc"));
    }

    #[test]
    fn bucket_mac_keys_are_per_bucket_and_per_seed() {
        let b1 = Principal::from_slice(&[1; 10]);
        let b2 = Principal::from_slice(&[2; 10]);
        let k = bucket_mac_key(&[7; 32], b1);
        assert_eq!(k, bucket_mac_key(&[7; 32], b1));
        assert_ne!(k, bucket_mac_key(&[7; 32], b2));
        assert_ne!(k, bucket_mac_key(&[8; 32], b1));
        // Not the seed, nor its public key.
        assert_ne!(k, [7; 32]);
        assert_ne!(k, public_key(&[7; 32]));
    }

    #[test]
    fn macs_verify_only_under_their_bucket_key_kid_and_domain() {
        let seed = [7u8; 32];
        let bucket = Principal::from_slice(&[1; 10]);
        let key = bucket_mac_key(&seed, bucket);
        let macs = [MacKey { kid: 1, key }];
        let public = keys(&seed, 1);
        let ring = KeyRing { public: &public, mac: &macs };
        let tag = sign_with(&SignWith::Mac(key), b"a", b"payload");
        assert_eq!(tag.len(), MAC_BYTES);
        assert_eq!(verify(ring, 1, b"a", b"payload", &tag), Ok(()));
        assert_eq!(verify(ring, 1, b"b", b"payload", &tag), Err(SignatureError::Invalid));
        assert_eq!(verify(ring, 1, b"a", b"payloaD", &tag), Err(SignatureError::Invalid));
        assert_eq!(verify(ring, 2, b"a", b"payload", &tag), Err(SignatureError::UnknownKey(2)));
        // Another bucket's key, or a bucket holding public keys only.
        let other = [MacKey { kid: 1, key: bucket_mac_key(&seed, Principal::from_slice(&[2; 10])) }];
        assert_eq!(
            verify(KeyRing { public: &public, mac: &other }, 1, b"a", b"payload", &tag),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(KeyRing { public: &public, mac: &[] }, 1, b"a", b"payload", &tag),
            Err(SignatureError::UnknownKey(1))
        );
        // Every single-bit change of the tag is refused, and other lengths
        // go to the Ed25519 check and fail there.
        for i in 0..MAC_BYTES * 8 {
            let mut t = tag.clone();
            t[i / 8] ^= 1 << (i % 8);
            assert_eq!(verify(ring, 1, b"a", b"payload", &t), Err(SignatureError::Invalid));
        }
        assert_eq!(verify(ring, 1, b"a", b"payload", &tag[..31]), Err(SignatureError::BadLength(31)));
        // An Ed25519 signature by the same kid still verifies beside it.
        let sig = sign_with(&SignWith::Ed25519(seed), b"a", b"payload");
        assert_eq!(verify(ring, 1, b"a", b"payload", &sig), Ok(()));
    }

    #[test]
    fn prepared_keys_verify_as_the_ring_does_and_never_widen_it() {
        let seed = [7u8; 32];
        let key = bucket_mac_key(&seed, Principal::from_slice(&[1; 10]));
        let rotated = bucket_mac_key(&[8; 32], Principal::from_slice(&[1; 10]));
        let macs = [MacKey { kid: 1, key }];
        let public = keys(&seed, 1);
        let ring = KeyRing { public: &public, mac: &macs };
        let tag = sign_with(&SignWith::Mac(key), b"a", b"payload");
        let prepared = [PreparedMac::new(&macs[0])];
        for (domain, payload) in [(&b"a"[..], &b"payload"[..]), (b"b", b"payload"), (b"a", b"payloaD")] {
            assert_eq!(
                verify_prepared(ring, &prepared, 1, domain, payload, &tag),
                verify(ring, 1, domain, payload, &tag)
            );
        }
        assert_eq!(verify_prepared(ring, &prepared, 1, b"a", b"payload", &tag), Ok(()));
        // A prepared key whose kid the ring no longer holds, or holds with
        // another key (rotated), is not used.
        let empty = KeyRing { public: &public, mac: &[] };
        assert_eq!(verify_prepared(empty, &prepared, 1, b"a", b"payload", &tag), Err(SignatureError::UnknownKey(1)));
        let now = [MacKey { kid: 1, key: rotated }];
        let ring_now = KeyRing { public: &public, mac: &now };
        assert_eq!(verify_prepared(ring_now, &prepared, 1, b"a", b"payload", &tag), Err(SignatureError::Invalid));
        let tag_now = sign_with(&SignWith::Mac(rotated), b"a", b"payload");
        assert_eq!(verify_prepared(ring_now, &prepared, 1, b"a", b"payload", &tag_now), Ok(()));
    }

    #[test]
    fn debug_never_prints_a_mac_key() {
        let k = MacKey { kid: 4, key: [0xab; 32] };
        let b = BucketKey { kid: 4, public_key: vec![1], mac_key: vec![0xab; 32] };
        let p = PreparedMac::new(&k);
        for s in [format!("{k:?}"), format!("{b:?}"), format!("{p:?}")] {
            assert!(!s.contains("171") && !s.to_lowercase().contains("ab, "), "{s}");
        }
    }
}
