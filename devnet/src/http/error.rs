//! Errors of the HTTP interface and the status codes replicas use for them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed envelope, bad signature, expired request, …
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed but not allowed (e.g. reading another sender's request status).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("request body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    /// A part of the IC interface that devnet does not implement.
    #[error("not implemented in devnet: {0}")]
    NotImplemented(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Replicas answer errors as plain text; clients show the body.
        (self.status(), [("content-type", "text/plain; charset=utf-8")], self.to_string()).into_response()
    }
}
