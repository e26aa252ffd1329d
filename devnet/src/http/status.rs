//! `GET /api/v2/status`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::cbor::{self, bytes, map, text};
use super::state::ApiState;

/// Interface spec version whose HTTP endpoints devnet follows.
pub const IC_API_VERSION: &str = "0.18.0";

pub async fn status(State(state): State<Arc<ApiState>>) -> Response {
    let body = map(vec![
        ("ic_api_version", text(IC_API_VERSION)),
        ("impl_version", text(concat!("devnet-", env!("CARGO_PKG_VERSION")))),
        ("root_key", bytes(&state.root_key_der)),
        ("replica_health_status", text("healthy")),
    ]);
    cbor::response(StatusCode::OK, body)
}
