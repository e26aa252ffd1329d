//! The parts of the IC state tree that devnet can reveal, built on demand
//! for the paths a request asks for (nothing else is put in the tree, so
//! every other path is provably absent).

use candid::Principal;
use ciborium::Value;

use crate::certification::{Certifier, RequestId, StateTree, leb128_u64};
use crate::types::RequestStatus;

use super::backend::Backend;
use super::cbor;
use super::error::ApiError;

/// One leaf of the state tree: its path and value.
pub type Leaf = (Vec<Vec<u8>>, Vec<u8>);

/// The canister-id range of the devnet when it runs one subnet: every
/// 10-byte id of the form `<8-byte index>0101` (the format of locally
/// created canisters). With more subnets see `crate::subnets`.
pub fn canister_range() -> (Principal, Principal) {
    crate::subnets::principal_ranges(0, 1)[0]
}

fn path(labels: &[&[u8]]) -> Vec<Vec<u8>> {
    labels.iter().map(|l| l.to_vec()).collect()
}

/// What `/subnet` reveals when subnet `answering` answers: its own public
/// key, ranges, type and node key. The root subnet also knows every other
/// subnet's key and ranges (as the NNS subnet does on mainnet).
pub fn subnet_leaves(certifier: &Certifier, answering: usize) -> Vec<Leaf> {
    let mut leaves = Vec::new();
    for s in certifier.subnets().iter().filter(|s| answering == 0 || s.index == answering) {
        let sid = s.id.as_slice();
        leaves.push((path(&[b"subnet", sid, b"public_key"]), s.public_key_der().to_vec()));
        leaves.push((path(&[b"subnet", sid, b"canister_ranges"]), certifier.canister_ranges_cbor(s.index)));
        leaves.push((path(&[b"subnet", sid, b"type"]), b"application".to_vec()));
        if s.index == answering {
            let node = s.node_key();
            let node_path = path(&[b"subnet", sid, b"node", node.node_id().as_slice(), b"public_key"]);
            leaves.push((node_path, node.public_key_der().to_vec()));
        }
    }
    leaves
}

/// What `/canister_ranges` reveals: one shard per subnet, labeled by its
/// lowest canister id; the root subnet knows every subnet's.
pub fn canister_ranges_leaves(certifier: &Certifier, answering: usize) -> Vec<Leaf> {
    certifier
        .subnets()
        .iter()
        .filter(|s| answering == 0 || s.index == answering)
        .map(|s| {
            let shard = certifier.canister_ranges_shard(s.index);
            (path(&[b"canister_ranges", s.id.as_slice(), shard.as_slice()]), certifier.canister_ranges_cbor(s.index))
        })
        .collect()
}

pub fn canister_leaves(backend: &dyn Backend, canister: Principal) -> Vec<Leaf> {
    let id = canister.as_slice();
    let mut leaves = Vec::new();
    if !backend.canister_exists(canister) {
        return leaves;
    }
    if let Some(data) = backend.certified_data(canister) {
        leaves.push((path(&[b"canister", id, b"certified_data"]), data));
    }
    if let Some(hash) = backend.module_hash(canister) {
        leaves.push((path(&[b"canister", id, b"module_hash"]), hash.to_vec()));
    }
    if let Some(controllers) = backend.controllers(canister) {
        let list = controllers.iter().map(|c| cbor::bytes(c.as_slice())).collect();
        leaves.push((path(&[b"canister", id, b"controllers"]), cbor::encode(Value::Array(list))));
    }
    leaves
}

pub fn metadata_leaf(
    backend: &dyn Backend,
    canister: Principal,
    name: &[u8],
    sender: Principal,
) -> Result<Option<Leaf>, ApiError> {
    let name_str = std::str::from_utf8(name).map_err(|_| ApiError::BadRequest("metadata name is not UTF-8".into()))?;
    let Some((public, bytes)) = backend.metadata(canister, name_str) else {
        return Ok(None);
    };
    if !public && !backend.controllers(canister).unwrap_or_default().contains(&sender) {
        return Err(ApiError::Forbidden(format!(
            "custom section {name_str} of canister {canister} is private; only controllers may read it"
        )));
    }
    Ok(Some((path(&[b"canister", canister.as_slice(), b"metadata", name]), bytes)))
}

pub fn request_status_leaves(id: &RequestId, status: Option<RequestStatus>) -> Vec<Leaf> {
    let rid = id.as_bytes().as_slice();
    let leaf = |name: &[u8], value: Vec<u8>| (path(&[b"request_status", rid, name]), value);
    match status {
        None => Vec::new(),
        Some(RequestStatus::Received) => vec![leaf(b"status", b"received".to_vec())],
        Some(RequestStatus::Processing) => vec![leaf(b"status", b"processing".to_vec())],
        Some(RequestStatus::Done) => vec![leaf(b"status", b"done".to_vec())],
        Some(RequestStatus::Replied(reply)) => {
            vec![leaf(b"status", b"replied".to_vec()), leaf(b"reply", reply)]
        }
        Some(RequestStatus::Rejected(reject)) => {
            let mut v = vec![
                leaf(b"status", b"rejected".to_vec()),
                leaf(b"reject_code", leb128_u64(reject.code.as_u64())),
                leaf(b"reject_message", reject.message.into_bytes()),
            ];
            if let Some(code) = reject.error_code {
                v.push(leaf(b"error_code", code.into_bytes()));
            }
            v
        }
    }
}

/// Builds a tree from `/time` plus every candidate leaf under one of `paths`.
pub fn tree_for_paths(time_ns: u64, paths: &[Vec<Vec<u8>>], candidates: Vec<Leaf>) -> Result<StateTree, ApiError> {
    let mut tree = StateTree::new();
    insert(&mut tree, &path(&[b"time"]), leb128_u64(time_ns))?;
    for (leaf_path, value) in candidates {
        if paths.iter().any(|p| leaf_path.starts_with(p)) {
            insert(&mut tree, &leaf_path, value)?;
        }
    }
    Ok(tree)
}

fn insert(tree: &mut StateTree, path: &[Vec<u8>], value: Vec<u8>) -> Result<(), ApiError> {
    let labels: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
    tree.insert(&labels, value).map_err(|e| ApiError::Internal(e.to_string()))
}
