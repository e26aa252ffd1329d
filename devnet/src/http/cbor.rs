//! Building CBOR response bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ciborium::Value;

const SELF_DESCRIBE_TAG: u64 = 55799;

pub fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

pub fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

pub fn uint(n: u64) -> Value {
    Value::Integer(n.into())
}

/// A map with text keys.
pub fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

/// Encodes with the self-describe tag, as replicas do.
pub fn encode(value: Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a Value without floats into a Vec cannot fail.
    ciborium::into_writer(&Value::Tag(SELF_DESCRIBE_TAG, Box::new(value)), &mut out).expect("CBOR encoding");
    out
}

pub fn response(status: StatusCode, value: Value) -> Response {
    (status, [("content-type", "application/cbor")], encode(value)).into_response()
}
