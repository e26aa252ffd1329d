//! `POST /api/v2|v3/canister/<id>/read_state` and `/api/v2|v3/subnet/<id>/read_state`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use candid::Principal;

use crate::certification::RequestId;
use crate::types::RequestStatus;

use super::backend::Backend;
use super::cbor::{self, bytes, map};
use super::envelope::Content;
use super::error::ApiError;
use super::request::{self, Effective};
use super::state::ApiState;
use super::state_tree;

pub async fn read_state_canister(
    state: State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    read_state(state.0, Effective::Canister(request::principal_from_path(&id)?), body).await
}

pub async fn read_state_subnet(
    state: State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    read_state(state.0, Effective::Subnet(request::principal_from_path(&id)?), body).await
}

async fn read_state(state: Arc<ApiState>, effective: Effective, body: Bytes) -> Result<Response, ApiError> {
    let subnet = effective.subnet(&state)?;
    let envelope = request::authenticated(&state, &body)?;
    let Content::ReadState { paths } = envelope.content else {
        return Err(ApiError::BadRequest(format!(
            "expected request_type `read_state`, got `{}`",
            envelope.request_type()
        )));
    };
    let sender = envelope.sender;
    // Only the sender of a request may read its status.
    for id in request_ids(&paths)? {
        if let Some(origin) = state.origin(&id)
            && origin.sender != sender
        {
            return Err(ApiError::Forbidden(format!("request {id} was not sent by {sender}")));
        }
    }
    let st = state.clone();
    let (tree, time) = state
        .with_backend(move |b| {
            let candidates = candidate_leaves(&st, b, effective, subnet, sender, &paths)?;
            let tree = state_tree::tree_for_paths(b.time_ns(), &paths, candidates)?;
            Ok::<_, ApiError>((tree, b.time_ns()))
        })
        .await??;
    let certificate = state.certifier.certify_on(subnet, tree.to_hash_tree(), time);
    Ok(cbor::response(StatusCode::OK, map(vec![("certificate", bytes(&certificate))])))
}

fn request_ids(paths: &[Vec<Vec<u8>>]) -> Result<Vec<RequestId>, ApiError> {
    paths
        .iter()
        .filter(|p| p.first().map(Vec::as_slice) == Some(b"request_status") && p.len() >= 2)
        .map(|p| {
            let bytes: [u8; 32] = p[1]
                .as_slice()
                .try_into()
                .map_err(|_| ApiError::BadRequest("request ids in paths are 32 bytes".into()))?;
            Ok(RequestId(bytes))
        })
        .collect()
}

/// Collects the leaves the requested paths may reveal, as subnet
/// `subnet` (the answering one) knows them.
fn candidate_leaves(
    state: &ApiState,
    backend: &dyn Backend,
    effective: Effective,
    subnet: usize,
    sender: Principal,
    paths: &[Vec<Vec<u8>>],
) -> Result<Vec<state_tree::Leaf>, ApiError> {
    let mut leaves = Vec::new();
    let (mut subnet_done, mut ranges_done) = (false, false);
    for path in paths {
        match path.first().map(Vec::as_slice) {
            Some(b"subnet") if !subnet_done => {
                subnet_done = true;
                leaves.extend(state_tree::subnet_leaves(&state.certifier, subnet));
            }
            Some(b"canister_ranges") if !ranges_done => {
                ranges_done = true;
                leaves.extend(state_tree::canister_ranges_leaves(&state.certifier, subnet));
            }
            Some(b"canister") => {
                let Effective::Canister(effective_id) = effective else {
                    return Err(ApiError::BadRequest("/canister paths need a canister-scoped read_state".into()));
                };
                let Some(id) = path.get(1) else {
                    return Err(ApiError::BadRequest("the path /canister must name a canister id".into()));
                };
                let canister = Principal::try_from_slice(id)
                    .map_err(|e| ApiError::BadRequest(format!("bad canister id in path: {e}")))?;
                if canister != effective_id {
                    return Err(ApiError::BadRequest(format!(
                        "path /canister/{canister} does not match the effective canister id {effective_id}"
                    )));
                }
                match (path.get(2).map(Vec::as_slice), path.get(3)) {
                    (Some(b"metadata"), Some(name)) => {
                        leaves.extend(state_tree::metadata_leaf(backend, canister, name, sender)?);
                    }
                    _ => leaves.extend(state_tree::canister_leaves(backend, canister)),
                }
            }
            Some(b"request_status") => {
                if let Effective::Subnet(_) = effective {
                    return Err(ApiError::BadRequest("/request_status paths need a canister-scoped read_state".into()));
                }
                if let Some(id) = request_ids(std::slice::from_ref(path))?.first() {
                    // An outcome still inside the modelled update latency
                    // shows as `processing` (ApiConfig::update_latency).
                    let status = backend.request_status(id).map(|s| {
                        if super::call::is_final(&s) && !state.outcome_visible(id) {
                            RequestStatus::Processing
                        } else {
                            s
                        }
                    });
                    leaves.extend(state_tree::request_status_leaves(id, status));
                }
            }
            // `/time` is always present; other subtrees (api_boundary_nodes,
            // subnet metrics, …) do not exist in devnet and stay absent.
            _ => {}
        }
    }
    Ok(leaves)
}
