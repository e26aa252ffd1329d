//! Decoding request envelopes: `{content, sender_pubkey?, sender_sig?,
//! sender_delegation?}` in CBOR. The request id is computed from the
//! decoded `content` map as sent, so fields we do not interpret still count.

use candid::Principal;
use ciborium::Value;

use crate::certification::RequestId;

use super::error::ApiError;

/// Upper bound on delegation chains (the interface spec allows 20).
const MAX_DELEGATIONS: usize = 20;

/// One `sender_delegation` entry.
#[derive(Debug, Clone)]
pub struct SignedDelegation {
    /// The `delegation` map as sent, hashed for the signature check.
    pub raw: Vec<(Value, Value)>,
    pub pubkey: Vec<u8>,
    pub expiration: u64,
    pub targets: Option<Vec<Principal>>,
    pub signature: Vec<u8>,
}

/// What the request asks for.
#[derive(Debug, Clone)]
pub enum Content {
    Call(CanisterRequest),
    Query(CanisterRequest),
    ReadState { paths: Vec<Vec<Vec<u8>>> },
}

/// The fields shared by calls and queries.
#[derive(Debug, Clone)]
pub struct CanisterRequest {
    pub canister_id: Principal,
    pub method_name: String,
    pub arg: Vec<u8>,
}

/// A decoded envelope.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub request_id: RequestId,
    pub sender: Principal,
    pub ingress_expiry: u64,
    pub content: Content,
    pub sender_pubkey: Option<Vec<u8>>,
    pub sender_sig: Option<Vec<u8>>,
    pub delegations: Vec<SignedDelegation>,
}

impl Envelope {
    pub fn request_type(&self) -> &'static str {
        match self.content {
            Content::Call(_) => "call",
            Content::Query(_) => "query",
            Content::ReadState { .. } => "read_state",
        }
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(msg.into())
}

/// Strips CBOR tags (the self-describe tag 55799 in particular).
fn untag(v: &Value) -> &Value {
    match v {
        Value::Tag(_, inner) => untag(inner),
        other => other,
    }
}

fn as_map<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<(Value, Value)>, ApiError> {
    match untag(v) {
        Value::Map(m) => Ok(m),
        _ => Err(bad(format!("{what} must be a CBOR map"))),
    }
}

fn field<'a>(map: &'a [(Value, Value)], name: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| matches!(untag(k), Value::Text(t) if t == name)).map(|(_, v)| untag(v))
}

fn bytes_field(map: &[(Value, Value)], name: &str) -> Result<Option<Vec<u8>>, ApiError> {
    match field(map, name) {
        None => Ok(None),
        Some(Value::Bytes(b)) => Ok(Some(b.clone())),
        Some(_) => Err(bad(format!("field `{name}` must be a byte string"))),
    }
}

fn required_bytes(map: &[(Value, Value)], name: &str) -> Result<Vec<u8>, ApiError> {
    bytes_field(map, name)?.ok_or_else(|| bad(format!("missing field `{name}`")))
}

fn required_text(map: &[(Value, Value)], name: &str) -> Result<String, ApiError> {
    match field(map, name) {
        Some(Value::Text(t)) => Ok(t.clone()),
        Some(_) => Err(bad(format!("field `{name}` must be text"))),
        None => Err(bad(format!("missing field `{name}`"))),
    }
}

fn required_u64(map: &[(Value, Value)], name: &str) -> Result<u64, ApiError> {
    match field(map, name) {
        Some(Value::Integer(i)) => u64::try_from(*i).map_err(|_| bad(format!("field `{name}` out of range"))),
        Some(_) => Err(bad(format!("field `{name}` must be an unsigned integer"))),
        None => Err(bad(format!("missing field `{name}`"))),
    }
}

fn principal(bytes: Vec<u8>, name: &str) -> Result<Principal, ApiError> {
    Principal::try_from_slice(&bytes).map_err(|e| bad(format!("field `{name}` is not a principal: {e}")))
}

/// Decodes an envelope from the request body.
pub fn decode(body: &[u8]) -> Result<Envelope, ApiError> {
    let value: Value = ciborium::from_reader(body).map_err(|e| bad(format!("request body is not valid CBOR: {e}")))?;
    let envelope = as_map(&value, "the envelope")?;
    let content_value = field(envelope, "content").ok_or_else(|| bad("missing field `content`"))?;
    let content = as_map(content_value, "`content`")?;
    let request_id = RequestId::of_content(content_value).map_err(|e| bad(format!("cannot hash `content`: {e}")))?;

    let sender = principal(required_bytes(content, "sender")?, "sender")?;
    let ingress_expiry = required_u64(content, "ingress_expiry")?;
    let request_type = required_text(content, "request_type")?;
    let body = match request_type.as_str() {
        "call" => Content::Call(canister_request(content)?),
        "query" => Content::Query(canister_request(content)?),
        "read_state" => Content::ReadState { paths: paths(content)? },
        other => return Err(bad(format!("unknown request_type `{other}`"))),
    };

    Ok(Envelope {
        request_id,
        sender,
        ingress_expiry,
        content: body,
        sender_pubkey: bytes_field(envelope, "sender_pubkey")?,
        sender_sig: bytes_field(envelope, "sender_sig")?,
        delegations: delegations(envelope)?,
    })
}

fn canister_request(content: &[(Value, Value)]) -> Result<CanisterRequest, ApiError> {
    let request = CanisterRequest {
        canister_id: principal(required_bytes(content, "canister_id")?, "canister_id")?,
        method_name: required_text(content, "method_name")?,
        arg: required_bytes(content, "arg")?,
    };
    // The nonce only makes the request id unique (the id is hashed over the
    // content as sent); it must still be a byte string when present.
    bytes_field(content, "nonce")?;
    Ok(request)
}

fn paths(content: &[(Value, Value)]) -> Result<Vec<Vec<Vec<u8>>>, ApiError> {
    let Some(Value::Array(paths)) = field(content, "paths") else {
        return Err(bad("field `paths` must be an array"));
    };
    paths
        .iter()
        .map(|p| match untag(p) {
            Value::Array(labels) => labels
                .iter()
                .map(|l| match untag(l) {
                    Value::Bytes(b) => Ok(b.clone()),
                    // Some clients send labels as text; the bytes are the same.
                    Value::Text(t) => Ok(t.as_bytes().to_vec()),
                    _ => Err(bad("path labels must be byte strings")),
                })
                .collect(),
            _ => Err(bad("each path must be an array of labels")),
        })
        .collect()
}

fn delegations(envelope: &[(Value, Value)]) -> Result<Vec<SignedDelegation>, ApiError> {
    let Some(value) = field(envelope, "sender_delegation") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(bad("`sender_delegation` must be an array"));
    };
    if items.len() > MAX_DELEGATIONS {
        return Err(bad(format!("at most {MAX_DELEGATIONS} delegations are allowed")));
    }
    items.iter().map(signed_delegation).collect()
}

fn signed_delegation(item: &Value) -> Result<SignedDelegation, ApiError> {
    let outer = as_map(item, "a signed delegation")?;
    let inner_value = field(outer, "delegation").ok_or_else(|| bad("signed delegation without `delegation`"))?;
    let inner = as_map(inner_value, "`delegation`")?;
    let targets = match field(inner, "targets") {
        None => None,
        Some(Value::Array(ts)) => Some(
            ts.iter()
                .map(|t| match untag(t) {
                    Value::Bytes(b) => principal(b.clone(), "targets"),
                    _ => Err(bad("delegation targets must be byte strings")),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(bad("delegation `targets` must be an array")),
    };
    Ok(SignedDelegation {
        raw: inner.clone(),
        pubkey: required_bytes(inner, "pubkey")?,
        expiration: required_u64(inner, "expiration")?,
        targets,
        signature: required_bytes(outer, "signature")?,
    })
}
