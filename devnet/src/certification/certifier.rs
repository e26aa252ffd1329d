//! Issues certificates: `{tree, signature}` CBOR maps whose BLS signature
//! covers `"\x0Dic-state-root" || root_hash(tree)`.

use candid::Principal;
use ic_certification::{Certificate, HashTree};

use super::node_keys::NodeKey;
use super::root_key::RootKey;
use super::tree::StateTree;

/// Domain separator of state-root signatures (interface spec, "Certificate").
const STATE_ROOT_DOMAIN: &[u8] = b"\x0Dic-state-root";
/// CBOR self-describe tag that replicas put in front of certificates.
const SELF_DESCRIBE_TAG: u64 = 55799;

/// Holds the network's keys: the root key, which signs hash trees, and
/// the node key, which signs query responses.
/// Cloning shares the keys: the HTTP layer signs with its own copy so
/// signing happens outside the state machine's lock.
#[derive(Debug, Clone)]
pub struct Certifier {
    root_key: RootKey,
    root_key_der: Vec<u8>,
    node_key: NodeKey,
}

impl Default for Certifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Certifier {
    /// A certifier with freshly generated keys (operating system randomness).
    pub fn new() -> Self {
        Self::generate_with(&mut rand::rngs::OsRng)
    }

    /// A certifier whose keys come from `rng`: a seeded `rng` gives the same
    /// keys on every run.
    pub fn generate_with<R: rand::RngCore + rand::CryptoRng>(rng: &mut R) -> Self {
        let root_key = RootKey::generate_with(rng);
        let node_key = NodeKey::generate_with(rng);
        let root_key_der = root_key.der_public_key();
        Self { root_key, root_key_der, node_key }
    }

    /// The root and node secret keys, for a saved state (`persistence`).
    pub fn secrets(&self) -> ([u8; 32], [u8; 32]) {
        (self.root_key.secret_bytes(), self.node_key.secret_bytes())
    }

    /// A certifier with saved keys (`None` if they are not keys).
    pub fn from_secrets(root: &[u8], node: &[u8]) -> Option<Self> {
        let root_key = RootKey::from_secret_bytes(root)?;
        let node_key = NodeKey::from_secret_bytes(node)?;
        let root_key_der = root_key.der_public_key();
        Some(Self { root_key, root_key_der, node_key })
    }

    /// The key of the network's only node (signs query responses).
    pub fn node_key(&self) -> &NodeKey {
        &self.node_key
    }

    /// The DER-encoded root public key (37-byte prefix + 96-byte G2 key).
    pub fn root_key_der(&self) -> Vec<u8> {
        self.root_key_der.clone()
    }

    /// The only subnet: with no delegation, clients derive its id from the root key.
    pub fn subnet_id(&self) -> Principal {
        Principal::self_authenticating(&self.root_key_der)
    }

    /// A certificate for `ic0.data_certificate`: reveals `/time` and
    /// `/canister/<id>/certified_data`.
    pub fn data_certificate(&self, canister: Principal, certified_data: &[u8], time_ns: u64) -> Vec<u8> {
        let mut tree = StateTree::new();
        let time = leb128_u64(time_ns);
        // Neither insert can fail: the two paths share no leaf.
        let _ = tree.insert(&[b"time"], time);
        let _ = tree.insert(&[b"canister", canister.as_slice(), b"certified_data"], certified_data);
        self.certify_state(&tree)
    }

    /// Signs a labeled state tree.
    pub fn certify_state(&self, tree: &StateTree) -> Vec<u8> {
        self.certify(tree.to_hash_tree())
    }

    /// Signs any hash tree (labels must already be sorted) and encodes the
    /// certificate as self-describing CBOR.
    pub fn certify(&self, tree: HashTree) -> Vec<u8> {
        let mut message = Vec::with_capacity(STATE_ROOT_DOMAIN.len() + 32);
        message.extend_from_slice(STATE_ROOT_DOMAIN);
        message.extend_from_slice(&tree.digest());
        let signature = self.root_key.sign(&message).to_vec();
        let certificate = Certificate { tree, signature, delegation: None };
        let tagged = ciborium::tag::Required::<_, SELF_DESCRIBE_TAG>(certificate);
        let mut out = Vec::new();
        // Serializing plain bytes and arrays into a Vec cannot fail.
        ciborium::into_writer(&tagged, &mut out).expect("certificate CBOR encoding");
        out
    }
}

/// Unsigned LEB128, the encoding of `/time` and other numbers in the state tree.
pub fn leb128_u64(n: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    let _ = leb128::write::unsigned(&mut out, n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_certification::LookupResult;

    #[test]
    fn data_certificate_verifies() {
        let c = Certifier::new();
        let canister = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
        let bytes = c.data_certificate(canister, b"hello", 1_700_000_000_000_000_000);
        let cert: Certificate = serde_cbor_like_decode(&bytes);
        assert_eq!(
            cert.tree.lookup_path([b"canister".as_ref(), canister.as_slice(), b"certified_data"]),
            LookupResult::Found(b"hello")
        );
        let mut msg = STATE_ROOT_DOMAIN.to_vec();
        msg.extend_from_slice(&cert.tree.digest());
        let key = &c.root_key_der()[37..];
        ic_verify_bls_signature::verify_bls_signature(&cert.signature, &msg, key).unwrap();
    }

    fn serde_cbor_like_decode(bytes: &[u8]) -> Certificate {
        let tagged: ciborium::tag::Required<Certificate, SELF_DESCRIBE_TAG> = ciborium::from_reader(bytes).unwrap();
        tagged.0
    }
}
