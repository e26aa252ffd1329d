//! Issues certificates: `{tree, signature}` CBOR maps whose BLS signature
//! covers `"\x0Dic-state-root" || root_hash(tree)`.

use candid::Principal;
use ic_certification::{Certificate, HashTree};

use super::root_key::RootKey;
use super::tree::StateTree;

/// Domain separator of state-root signatures (interface spec, "Certificate").
const STATE_ROOT_DOMAIN: &[u8] = b"\x0Dic-state-root";
/// CBOR self-describe tag that replicas put in front of certificates.
const SELF_DESCRIBE_TAG: u64 = 55799;

/// Holds the root key and signs hash trees with it.
/// Cloning shares the key: the HTTP layer signs with its own copy so
/// signing happens outside the state machine's lock.
#[derive(Debug, Clone)]
pub struct Certifier {
    root_key: RootKey,
    root_key_der: Vec<u8>,
}

impl Default for Certifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Certifier {
    /// A certifier with a freshly generated root key.
    pub fn new() -> Self {
        let root_key = RootKey::generate();
        let root_key_der = root_key.der_public_key();
        Self { root_key, root_key_der }
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
