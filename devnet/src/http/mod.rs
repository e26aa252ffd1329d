//! The IC's public HTTP interface (`/api/v2|v3|v4/…`), as ic-agent and the
//! JS agent use it. Handlers decode and authenticate envelopes, then talk to
//! a [`Backend`] (the state machine) under a lock on a blocking thread.

mod auth;
pub mod backend;
mod call;
mod cbor;
mod devnet_backend;
mod devnet_calls;
mod envelope;
mod error;
mod keys;
mod query;
mod read_state;
mod request;
pub mod server;
mod state;
mod state_tree;
mod status;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::cors::{Any, CorsLayer};

pub use auth::delegation_signable;
pub use backend::Backend;
pub use error::ApiError;
pub use state::{ApiConfig, ApiState};
pub use state_tree::canister_range;
pub use status::IC_API_VERSION;

/// The `/api/…` routes.
pub fn api_router(state: Arc<ApiState>) -> Router {
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .route("/api/v2/status", get(status::status))
        .route("/_/devnet/calls", get(devnet_calls::calls))
        .route("/api/v2/canister/{id}/call", post(call::call_v2))
        .route("/api/v3/canister/{id}/call", post(call::call_sync))
        .route("/api/v4/canister/{id}/call", post(call::call_sync))
        .route("/api/v3/subnet/{id}/call", post(call::call_subnet_sync))
        .route("/api/v4/subnet/{id}/call", post(call::call_subnet_sync))
        .route("/api/v2/canister/{id}/query", post(query::query_canister))
        .route("/api/v3/canister/{id}/query", post(query::query_canister))
        .route("/api/v3/subnet/{id}/query", post(query::query_subnet))
        .route("/api/v2/canister/{id}/read_state", post(read_state::read_state_canister))
        .route("/api/v3/canister/{id}/read_state", post(read_state::read_state_canister))
        .route("/api/v2/subnet/{id}/read_state", post(read_state::read_state_subnet))
        .route("/api/v3/subnet/{id}/read_state", post(read_state::read_state_subnet))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(cors())
        .with_state(state)
}

/// Browsers call the API from other origins (e.g. `<id>.localhost`).
pub fn cors() -> CorsLayer {
    CorsLayer::new().allow_origin(Any).allow_methods(Any).allow_headers(Any)
}
