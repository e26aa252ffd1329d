//! `POST /api/v2|v3/canister/<id>/query` and `/api/v3/subnet/<id>/query`:
//! non-replicated calls, answered with a node signature over the
//! representation-independent hash of the response (domain `\x0Bic-response`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use ciborium::Value;

use crate::certification::{RequestId, hash_of_map};
use crate::types::Reject;

use super::cbor::{self, bytes, map, text, uint};
use super::envelope::Content;
use super::error::ApiError;
use super::request::{self, Effective};
use super::state::ApiState;

const RESPONSE_DOMAIN: &[u8] = b"\x0Bic-response";

pub async fn query_canister(
    state: State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    query(state.0, Effective::Canister(request::principal_from_path(&id)?), body).await
}

pub async fn query_subnet(
    state: State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    query(state.0, Effective::Subnet(request::principal_from_path(&id)?), body).await
}

async fn query(state: Arc<ApiState>, effective: Effective, body: Bytes) -> Result<Response, ApiError> {
    let subnet = effective.subnet(&state)?;
    let envelope = request::authenticated(&state, &body)?;
    let Content::Query(req) = envelope.content else {
        return Err(ApiError::BadRequest(format!("expected request_type `query`, got `{}`", envelope.request_type())));
    };
    request::check_arg_size(&state, &req)?;
    if let Effective::Canister(id) = effective {
        request::check_effective_canister(&req, id)?;
    }
    let sender = envelope.sender;
    let (outcome, time_ns) = state
        .with_backend(move |b| {
            let outcome =
                if b.canister_exists(req.canister_id) || req.canister_id == candid::Principal::management_canister() {
                    b.query(sender, req.canister_id, &req.method_name, &req.arg)
                } else {
                    Err(Reject::destination_invalid(format!("Canister {} not found", req.canister_id)))
                };
            (outcome, b.time_ns())
        })
        .await?;
    Ok(cbor::response(StatusCode::OK, signed_response(&state, subnet, envelope.request_id, outcome, time_ns)))
}

/// The response map without signatures; also what gets hashed and signed.
fn response_fields(outcome: &Result<Vec<u8>, Reject>) -> Vec<(&'static str, Value)> {
    match outcome {
        Ok(reply) => vec![("status", text("replied")), ("reply", map(vec![("arg", bytes(reply))]))],
        Err(reject) => {
            let mut fields = vec![
                ("status", text("rejected")),
                ("reject_code", uint(reject.code.as_u64())),
                ("reject_message", text(&reject.message)),
            ];
            if let Some(code) = &reject.error_code {
                fields.push(("error_code", text(code)));
            }
            fields
        }
    }
}

/// Signed by the node of subnet `subnet`, the one that answered.
fn signed_response(
    state: &ApiState,
    subnet: usize,
    request_id: RequestId,
    outcome: Result<Vec<u8>, Reject>,
    timestamp: u64,
) -> Value {
    let node = state.certifier.subnets()[subnet].node_key();
    let fields = response_fields(&outcome);
    let mut signable = fields.clone();
    signable.push(("request_id", bytes(request_id.as_bytes())));
    signable.push(("timestamp", uint(timestamp)));
    let Value::Map(signable) = map(signable) else { unreachable!("map() builds a map") };
    // Only text, bytes, integers and maps: hashing cannot fail.
    let hash = hash_of_map(&signable).expect("hashable query response");
    let signature = node.sign(&[RESPONSE_DOMAIN, &hash].concat());
    let mut response = fields;
    response.push((
        "signatures",
        Value::Array(vec![map(vec![
            ("timestamp", uint(timestamp)),
            ("signature", bytes(&signature)),
            ("identity", bytes(node.node_id().as_slice())),
        ])]),
    ));
    map(response)
}
