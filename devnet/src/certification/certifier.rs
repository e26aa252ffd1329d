//! Issues certificates: `{tree, signature}` CBOR maps whose BLS signature
//! covers `"\x0Dic-state-root" || root_hash(tree)`.

use std::sync::Arc;

use candid::Principal;
use ciborium::Value;
use ic_certification::{Certificate, Delegation, HashTree};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};

use crate::subnets::{self, MAX_SUBNETS};

use super::node_keys::NodeKey;
use super::root_key::RootKey;
use super::tree::StateTree;

/// Domain separator of state-root signatures (interface spec, "Certificate").
const STATE_ROOT_DOMAIN: &[u8] = b"\x0Dic-state-root";
/// CBOR self-describe tag that replicas put in front of certificates.
const SELF_DESCRIBE_TAG: u64 = 55799;

/// Holds the network's keys: the root key, which signs the root subnet's
/// hash trees and every delegation, and each subnet's key and node key
/// (`crate::subnets`). Cloning shares the keys: the HTTP layer signs with
/// its own copy so signing happens outside the state machine's lock.
#[derive(Debug, Clone)]
pub struct Certifier {
    /// Index 0 is the root subnet: its key is the root key.
    subnets: Arc<Vec<SubnetKeys>>,
}

/// One subnet's identity: its threshold key (a single BLS key here), the
/// id derived from it, and its one node's key.
#[derive(Debug, Clone)]
pub struct SubnetKeys {
    pub index: usize,
    pub id: Principal,
    key: RootKey,
    key_der: Vec<u8>,
    node: NodeKey,
}

impl SubnetKeys {
    fn new(index: usize, key: RootKey, node: NodeKey) -> Self {
        let key_der = key.der_public_key();
        let id = Principal::self_authenticating(&key_der);
        Self { index, id, key, key_der, node }
    }

    /// The subnet's DER public key, as `/subnet/<id>/public_key` holds it.
    pub fn public_key_der(&self) -> &[u8] {
        &self.key_der
    }

    /// The key of the subnet's node (signs its query responses).
    pub fn node_key(&self) -> &NodeKey {
        &self.node
    }
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
        Self::from_keys(RootKey::generate_with(rng), NodeKey::generate_with(rng))
    }

    fn from_keys(root_key: RootKey, node_key: NodeKey) -> Self {
        Self { subnets: Arc::new(vec![SubnetKeys::new(0, root_key, node_key)]) }
    }

    fn root(&self) -> &SubnetKeys {
        &self.subnets[0]
    }

    /// The same root subnet with `n` subnets in all. The other subnets'
    /// keys derive from the root and node secrets, so a saved state needs
    /// only the count to bring them back.
    ///
    /// # Panics
    /// If `n` is 0 or above [`MAX_SUBNETS`] (a configuration error).
    pub fn with_subnets(mut self, n: usize) -> Self {
        assert!((1..=MAX_SUBNETS).contains(&n), "devnet runs 1 to {MAX_SUBNETS} subnets, not {n}");
        let (root, node) = self.secrets();
        let mut subnets = vec![self.subnets[0].clone()];
        for k in 1..n {
            let mut key_rng = derived_rng(b"devnet subnet key", &root, k);
            let mut node_rng = derived_rng(b"devnet subnet node key", &node, k);
            subnets.push(SubnetKeys::new(
                k,
                RootKey::generate_with(&mut key_rng),
                NodeKey::generate_with(&mut node_rng),
            ));
        }
        self.subnets = Arc::new(subnets);
        self
    }

    /// The root and node secret keys, for a saved state (`persistence`).
    pub fn secrets(&self) -> ([u8; 32], [u8; 32]) {
        (self.root().key.secret_bytes(), self.root().node.secret_bytes())
    }

    /// A certifier with saved keys (`None` if they are not keys).
    pub fn from_secrets(root: &[u8], node: &[u8]) -> Option<Self> {
        Some(Self::from_keys(RootKey::from_secret_bytes(root)?, NodeKey::from_secret_bytes(node)?))
    }

    /// The key of the root subnet's node (signs its query responses).
    pub fn node_key(&self) -> &NodeKey {
        &self.root().node
    }

    /// The DER-encoded root public key (37-byte prefix + 96-byte G2 key).
    pub fn root_key_der(&self) -> Vec<u8> {
        self.root().key_der.clone()
    }

    /// The root subnet: with no delegation, clients derive its id from the root key.
    pub fn subnet_id(&self) -> Principal {
        self.root().id
    }

    /// Every subnet, the root subnet first.
    pub fn subnets(&self) -> &[SubnetKeys] {
        &self.subnets
    }

    /// The subnet with id `id`, if devnet runs it.
    pub fn subnet_by_id(&self, id: Principal) -> Option<&SubnetKeys> {
        self.subnets.iter().find(|s| s.id == id)
    }

    /// The subnet that owns canister `canister` (`crate::subnets`).
    pub fn subnet_of(&self, canister: &Principal) -> &SubnetKeys {
        &self.subnets[subnets::subnet_of(canister, self.subnets.len())]
    }

    /// The canister ranges of subnet `index`, CBOR-encoded as the state
    /// tree holds them: an array of `[low, high]` principal pairs.
    pub fn canister_ranges_cbor(&self, index: usize) -> Vec<u8> {
        let ranges = subnets::principal_ranges(index, self.subnets.len())
            .into_iter()
            .map(|(lo, hi)| {
                Value::Array(vec![Value::Bytes(lo.as_slice().to_vec()), Value::Bytes(hi.as_slice().to_vec())])
            })
            .collect();
        let mut out = Vec::new();
        // Writing byte strings into a Vec cannot fail.
        ciborium::into_writer(&Value::Array(ranges), &mut out).expect("canister ranges CBOR encoding");
        out
    }

    /// The lowest canister id of subnet `index`: the label of its one
    /// shard under `/canister_ranges/<subnet id>`.
    pub fn canister_ranges_shard(&self, index: usize) -> Principal {
        subnets::principal_ranges(index, self.subnets.len())[0].0
    }

    /// A certificate for `ic0.data_certificate`: reveals `/time` and
    /// `/canister/<id>/certified_data`, from the canister's subnet.
    pub fn data_certificate(&self, canister: Principal, certified_data: &[u8], time_ns: u64) -> Vec<u8> {
        let mut tree = StateTree::new();
        let time = leb128_u64(time_ns);
        // Neither insert can fail: the two paths share no leaf.
        let _ = tree.insert(&[b"time"], time);
        let _ = tree.insert(&[b"canister", canister.as_slice(), b"certified_data"], certified_data);
        self.certify_on(self.subnet_of(&canister).index, tree.to_hash_tree(), time_ns)
    }

    /// Signs a labeled state tree as the root subnet.
    pub fn certify_state(&self, tree: &StateTree) -> Vec<u8> {
        self.certify(tree.to_hash_tree())
    }

    /// Signs any hash tree (labels must already be sorted) as the root
    /// subnet and encodes the certificate as self-describing CBOR.
    pub fn certify(&self, tree: HashTree) -> Vec<u8> {
        encode(&self.sign_tree(&self.root().key, tree, None))
    }

    /// Signs a hash tree as subnet `index`: a subnet other than the root
    /// attaches a delegation, which the root subnet signs at `time_ns`.
    pub fn certify_on(&self, index: usize, tree: HashTree, time_ns: u64) -> Vec<u8> {
        if index == 0 {
            return self.certify(tree);
        }
        let subnet = &self.subnets[index];
        let delegation =
            Delegation { subnet_id: subnet.id.as_slice().to_vec(), certificate: self.delegation(index, time_ns) };
        encode(&self.sign_tree(&subnet.key, tree, Some(delegation)))
    }

    /// The root subnet's certificate for subnet `index`: its public key
    /// and canister ranges, in both the sharded
    /// (`/canister_ranges/<id>/<shard>`) and the older
    /// (`/subnet/<id>/canister_ranges`) form, since clients read either.
    fn delegation(&self, index: usize, time_ns: u64) -> Vec<u8> {
        let subnet = &self.subnets[index];
        let (sid, ranges) = (subnet.id.as_slice(), self.canister_ranges_cbor(index));
        let shard = self.canister_ranges_shard(index);
        let mut tree = StateTree::new();
        // None of these can fail: no path is a prefix of another.
        let _ = tree.insert(&[b"time"], leb128_u64(time_ns));
        let _ = tree.insert(&[b"subnet", sid, b"public_key"], subnet.key_der.clone());
        let _ = tree.insert(&[b"subnet", sid, b"canister_ranges"], ranges.clone());
        let _ = tree.insert(&[b"canister_ranges", sid, shard.as_slice()], ranges);
        self.certify_state(&tree)
    }

    fn sign_tree(&self, key: &RootKey, tree: HashTree, delegation: Option<Delegation>) -> Certificate {
        let mut message = Vec::with_capacity(STATE_ROOT_DOMAIN.len() + 32);
        message.extend_from_slice(STATE_ROOT_DOMAIN);
        message.extend_from_slice(&tree.digest());
        let signature = key.sign(&message).to_vec();
        Certificate { tree, signature, delegation }
    }
}

/// Encodes a certificate as self-describing CBOR.
fn encode(certificate: &Certificate) -> Vec<u8> {
    let tagged = ciborium::tag::Required::<_, SELF_DESCRIBE_TAG>(certificate);
    let mut out = Vec::new();
    // Serializing plain bytes and arrays into a Vec cannot fail.
    ciborium::into_writer(&tagged, &mut out).expect("certificate CBOR encoding");
    out
}

/// A generator seeded from `secret`, a purpose and a subnet index.
fn derived_rng(purpose: &[u8], secret: &[u8; 32], index: usize) -> StdRng {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(purpose)
        .chain_update(secret)
        .chain_update((index as u64).to_be_bytes())
        .finalize()
        .into();
    StdRng::from_seed(seed)
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
