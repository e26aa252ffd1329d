//! The representation-independent hash (interface spec, "Request ids").
//!
//! It names requests (`request_id`), signs envelopes and query responses.
//! We hash the decoded CBOR *as received*, every field included: a client
//! computes the id over everything it sent (newer agents add fields such
//! as `sender_info`), and an id that drops one makes it poll forever.

use ciborium::Value;
use sha2::{Digest, Sha256};

/// A 32-byte request id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub [u8; 32]);

impl RequestId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequestId({})", hex::encode(self.0))
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Values the spec gives no hashing rule for.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RiHashError {
    #[error("cannot hash a CBOR {0} (only integers, bytes, text, arrays and maps are allowed)")]
    Unsupported(&'static str),
    #[error("map keys must be text, found a CBOR {0}")]
    NonTextKey(&'static str),
    #[error("integer out of range")]
    IntegerRange,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) => "integer",
        Value::Bytes(_) => "byte string",
        Value::Float(_) => "float",
        Value::Text(_) => "text",
        Value::Bool(_) => "bool",
        Value::Null => "null",
        Value::Tag(..) => "tag",
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        _ => "unknown value",
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Hash of one value; nested maps hash as `hash_of_map`.
pub fn representation_independent_hash(v: &Value) -> Result<[u8; 32], RiHashError> {
    match v {
        Value::Integer(i) => {
            let n: i128 = (*i).into();
            let mut buf = Vec::with_capacity(10);
            if n >= 0 {
                let n = u64::try_from(n).map_err(|_| RiHashError::IntegerRange)?;
                leb128::write::unsigned(&mut buf, n).map_err(|_| RiHashError::IntegerRange)?;
            } else {
                let n = i64::try_from(n).map_err(|_| RiHashError::IntegerRange)?;
                leb128::write::signed(&mut buf, n).map_err(|_| RiHashError::IntegerRange)?;
            }
            Ok(sha256(&buf))
        }
        Value::Bytes(b) => Ok(sha256(b)),
        Value::Text(s) => Ok(sha256(s.as_bytes())),
        Value::Array(items) => {
            let mut h = Sha256::new();
            for item in items {
                h.update(representation_independent_hash(item)?);
            }
            Ok(h.finalize().into())
        }
        Value::Map(entries) => hash_of_map(entries),
        // The self-describe tag (55799) and other tags only annotate.
        Value::Tag(_, inner) => representation_independent_hash(inner),
        other => Err(RiHashError::Unsupported(kind(other))),
    }
}

/// `hash_of_map`: sort the (hash(key) || hash(value)) pairs, hash the concatenation.
pub fn hash_of_map(entries: &[(Value, Value)]) -> Result<[u8; 32], RiHashError> {
    let mut pairs = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let key = match k {
            Value::Text(s) => s.as_bytes(),
            other => return Err(RiHashError::NonTextKey(kind(other))),
        };
        let mut pair = [0u8; 64];
        pair[..32].copy_from_slice(&sha256(key));
        pair[32..].copy_from_slice(&representation_independent_hash(v)?);
        pairs.push(pair);
    }
    pairs.sort_unstable();
    let mut h = Sha256::new();
    for p in &pairs {
        h.update(p);
    }
    Ok(h.finalize().into())
}

impl RequestId {
    /// The request id of an envelope's `content` map.
    pub fn of_content(content: &Value) -> Result<Self, RiHashError> {
        match content {
            Value::Map(entries) => hash_of_map(entries).map(RequestId),
            Value::Tag(_, inner) => Self::of_content(inner),
            other => Err(RiHashError::Unsupported(kind(other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the interface spec ("Request ids"): a call to
    /// `hello` on canister 00000000000004D2 from sender 04 with arg "DIDL\0\xfd\x2a".
    #[test]
    fn spec_example() {
        let content = Value::Map(vec![
            (Value::Text("request_type".into()), Value::Text("call".into())),
            (Value::Text("sender".into()), Value::Bytes(vec![0x04])),
            (Value::Text("ingress_expiry".into()), Value::Integer(1685570400000000000u64.into())),
            (Value::Text("canister_id".into()), Value::Bytes(vec![0, 0, 0, 0, 0, 0, 0x04, 0xD2])),
            (Value::Text("method_name".into()), Value::Text("hello".into())),
            (Value::Text("arg".into()), Value::Bytes(b"DIDL\x00\xFD*".to_vec())),
        ]);
        let id = RequestId::of_content(&content).unwrap();
        assert_eq!(id.to_string(), "1d1091364d6bb8a6c16b203ee75467d59ead468f523eb058880ae8ec80e2b101");
    }

    #[test]
    fn rejects_floats() {
        assert!(representation_independent_hash(&Value::Float(1.0)).is_err());
    }
}
