//! The Ed25519 key of the devnet's single node.
//!
//! Replicas sign every query response with their node key; clients verify
//! those signatures against `/subnet/<sid>/node/<nid>/public_key`, so the
//! devnet signs too and clients can keep verification on.

use candid::Principal;
use ed25519_dalek::{Signer, SigningKey};

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), 12 bytes.
const ED25519_DER_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// A node signing key and the node id derived from it.
#[derive(Clone)]
pub struct NodeKey {
    key: SigningKey,
    der: Vec<u8>,
    node_id: Principal,
}

impl Default for NodeKey {
    fn default() -> Self {
        Self::generate()
    }
}

impl NodeKey {
    /// Generates a key from the operating system's randomness.
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rngs::OsRng)
    }

    /// Generates a key from `rng` (a seeded one gives the same key each time).
    pub fn generate_with<R: rand::RngCore + rand::CryptoRng>(rng: &mut R) -> Self {
        Self::from_key(SigningKey::generate(rng))
    }

    /// The secret key's bytes, for a saved state (`persistence`).
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key whose secret is `bytes` (`None` unless 32 bytes).
    pub fn from_secret_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Self::from_key(SigningKey::from_bytes(bytes.try_into().ok()?)))
    }

    fn from_key(key: SigningKey) -> Self {
        let mut der = ED25519_DER_PREFIX.to_vec();
        der.extend_from_slice(key.verifying_key().as_bytes());
        let node_id = Principal::self_authenticating(&der);
        Self { key, der, node_id }
    }

    /// DER-encoded public key (44 bytes), as published in the state tree.
    pub fn public_key_der(&self) -> &[u8] {
        &self.der
    }

    pub fn node_id(&self) -> Principal {
        self.node_id
    }

    /// Signs `message` (the caller adds the `\x0Bic-response` domain).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeKey({})", self.node_id)
    }
}
