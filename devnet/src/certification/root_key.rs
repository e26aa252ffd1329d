//! The BLS12-381 root key of the devnet "IC".
//!
//! Signatures live in G1 (48 bytes) and the public key in G2 (96 bytes);
//! `ic-verify-bls-signature` signs with the IC's DST
//! `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`, so anything it signs
//! verifies in every IC client.

use ic_verify_bls_signature::{PrivateKey, PublicKey};

/// DER prefix (an ASN.1 SubjectPublicKeyInfo naming the IC's BLS12-381 G2
/// algorithm) that clients expect before the 96-byte raw key.
pub const DER_PREFIX: [u8; 37] = [
    0x30, 0x81, 0x82, 0x30, 0x1d, 0x06, 0x0d, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05, 0x03, 0x01, 0x02,
    0x01, 0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05, 0x03, 0x02, 0x01, 0x03, 0x61, 0x00,
];

/// A freshly generated BLS root key pair.
#[derive(Clone)]
pub struct RootKey {
    secret: PrivateKey,
    public: PublicKey,
}

impl RootKey {
    /// Generates a key from the operating system's randomness.
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rngs::OsRng)
    }

    /// Generates a key from `rng` (a seeded one gives the same key each time).
    pub fn generate_with<R: rand::RngCore + rand::CryptoRng>(rng: &mut R) -> Self {
        let secret = PrivateKey::random(rng);
        let public = secret.public_key();
        Self { secret, public }
    }

    /// The 96-byte compressed G2 public key.
    pub fn raw_public_key(&self) -> [u8; 96] {
        self.public.serialize()
    }

    /// The DER-wrapped public key (133 bytes), as `/api/v2/status` reports it.
    pub fn der_public_key(&self) -> Vec<u8> {
        let mut der = Vec::with_capacity(DER_PREFIX.len() + 96);
        der.extend_from_slice(&DER_PREFIX);
        der.extend_from_slice(&self.raw_public_key());
        der
    }

    /// The secret key's bytes, for a saved state (`persistence`).
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.secret.serialize()
    }

    /// The key whose secret is `bytes` (`None` if they are not a key).
    pub fn from_secret_bytes(bytes: &[u8]) -> Option<Self> {
        let secret = PrivateKey::deserialize(bytes).ok()?;
        let public = secret.public_key();
        Some(Self { secret, public })
    }

    /// Signs `message` (the caller adds any domain separator).
    pub fn sign(&self, message: &[u8]) -> [u8; 48] {
        self.secret.sign(message).serialize()
    }
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RootKey({})", hex::encode(self.raw_public_key()))
    }
}
