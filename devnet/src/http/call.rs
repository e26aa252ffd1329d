//! `POST /api/v2/canister/<id>/call` (asynchronous: 202, then poll with
//! read_state) and `/api/v3|v4/canister/<id>/call` (synchronous: wait for
//! the outcome and answer with a certificate of its request status).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use candid::Principal;

use crate::certification::RequestId;
use crate::types::{IngressMessage, Reject, RequestStatus};

use super::cbor::{self, bytes, map, text, uint};
use super::envelope::Content;
use super::error::ApiError;
use super::request::{self, Effective};
use super::state::{ApiState, IngressOrigin, wall_clock_ns};
use super::state_tree;

/// Whether the client waits for the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Async,
    Sync,
}

pub async fn call_v2(state: State<Arc<ApiState>>, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let effective = Effective::Canister(request::principal_from_path(&id)?);
    call(state.0, effective, Mode::Async, body).await
}

pub async fn call_sync(state: State<Arc<ApiState>>, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let effective = Effective::Canister(request::principal_from_path(&id)?);
    call(state.0, effective, Mode::Sync, body).await
}

pub async fn call_subnet_sync(
    state: State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let effective = Effective::Subnet(request::principal_from_path(&id)?);
    call(state.0, effective, Mode::Sync, body).await
}

async fn call(state: Arc<ApiState>, effective: Effective, mode: Mode, body: Bytes) -> Result<Response, ApiError> {
    let subnet = effective.subnet(&state)?;
    let envelope = request::authenticated(&state, &body)?;
    let Content::Call(req) = envelope.content else {
        return Err(ApiError::BadRequest(format!("expected request_type `call`, got `{}`", envelope.request_type())));
    };
    request::check_arg_size(&state, &req)?;
    match effective {
        Effective::Canister(id) => request::check_effective_canister(&req, id)?,
        // Subnet-scoped calls exist only for the management canister.
        Effective::Subnet(_) if req.canister_id != Principal::management_canister() => {
            return Err(ApiError::BadRequest("subnet-scoped calls must target the management canister".into()));
        }
        Effective::Subnet(_) => {}
    }
    let request_id = envelope.request_id;
    state.remember_origin(
        request_id,
        IngressOrigin { sender: envelope.sender, canister: req.canister_id, expiry: envelope.ingress_expiry },
        wall_clock_ns(),
    );
    state.hide_outcome(request_id);
    let ingress = IngressMessage {
        request_id: request_id.0,
        sender: envelope.sender,
        canister_id: req.canister_id,
        method_name: req.method_name,
        arg: req.arg,
        ingress_expiry: envelope.ingress_expiry,
        effective_canister_id: match effective {
            Effective::Canister(id) => id,
            // The subnet's lowest canister id stands for the subnet.
            Effective::Subnet(_) => state.certifier.canister_ranges_shard(subnet),
        },
    };

    let submitted = state
        .with_backend(move |b| {
            // A resubmitted message (same request id) is not executed twice.
            if b.request_status(&request_id).is_some() {
                return Ok(());
            }
            let result = b.submit_ingress(ingress);
            if result.is_ok() {
                b.tick();
            }
            result
        })
        .await?;

    if let Err(reject) = submitted {
        return Ok(non_replicated_rejection(mode, reject));
    }
    match mode {
        Mode::Async => Ok(StatusCode::ACCEPTED.into_response()),
        Mode::Sync => wait_for_outcome(&state, subnet, request_id).await,
    }
}

/// Rejected before execution: v3/v4 answer with a CBOR body, v2 with 400.
fn non_replicated_rejection(mode: Mode, reject: Reject) -> Response {
    match mode {
        Mode::Async => {
            ApiError::BadRequest(format!("reject code {}: {}", reject.code.as_u64(), reject.message)).into_response()
        }
        Mode::Sync => {
            let mut fields = vec![
                ("status", text("non_replicated_rejection")),
                ("reject_code", uint(reject.code.as_u64())),
                ("reject_message", text(&reject.message)),
            ];
            if let Some(code) = &reject.error_code {
                fields.push(("error_code", text(code)));
            }
            cbor::response(StatusCode::OK, map(fields))
        }
    }
}

pub(super) fn is_final(status: &RequestStatus) -> bool {
    matches!(status, RequestStatus::Replied(_) | RequestStatus::Rejected(_) | RequestStatus::Done)
}

/// Polls the state machine until the message has an outcome, then returns
/// a certificate of `/request_status/<id>`; after the timeout, 202 (the
/// client then polls read_state like for a v2 call). Subnet `subnet`,
/// where the message ran, signs the certificate.
async fn wait_for_outcome(state: &Arc<ApiState>, subnet: usize, request_id: RequestId) -> Result<Response, ApiError> {
    let deadline = Instant::now() + state.config.sync_call_timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        let visible = state.outcome_visible(&request_id);
        let (tree, settled) = state
            .with_backend(move |b| {
                let status = b.request_status(&request_id);
                let settled = status.as_ref().is_some_and(is_final);
                if !visible || !settled {
                    b.tick();
                    return Ok((None, settled));
                }
                let leaves = state_tree::request_status_leaves(&request_id, status);
                let paths = vec![vec![b"request_status".to_vec(), request_id.as_bytes().to_vec()]];
                let time = b.time_ns();
                state_tree::tree_for_paths(time, &paths, leaves).map(|t| (Some((t, time)), true))
            })
            .await??;
        // Sign outside the lock: BLS signing is the slowest step.
        if let Some((tree, time)) = tree {
            let certificate = state.certifier.certify_on(subnet, tree.to_hash_tree(), time);
            let body = map(vec![("status", text("replied")), ("certificate", bytes(&certificate))]);
            return Ok(cbor::response(StatusCode::OK, body));
        }
        if Instant::now() >= deadline {
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        // An outcome that is there but hidden (the modelled update latency)
        // is waited for exactly; anything else is polled with backoff.
        match state.visible_at(&request_id).filter(|_| settled) {
            Some(at) => tokio::time::sleep_until(at.min(deadline).into()).await,
            None => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }
}
