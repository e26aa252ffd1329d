//! `GET /_/devnet/calls`: messages executed per canister, method and kind
//! since devnet started, as JSON (devnet's own endpoint, not the IC's):
//! `[{"canister": "<id>", "method": "http_request", "kind": "query", "count": 3}, …]`.
//! See `execution/counters.rs` for what counts as which kind.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::execution::CallCount;

use super::error::ApiError;
use super::state::ApiState;

pub async fn calls(State(state): State<Arc<ApiState>>) -> Result<Json<Vec<CallCount>>, ApiError> {
    Ok(Json(state.with_backend(|b| b.call_counts()).await?))
}
