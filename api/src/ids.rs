//! Identifiers of files, uploads, buckets and users.

use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};
use std::fmt;

pub type UserId = Principal;
pub type BucketId = Principal;

/// Length of the random part of a file id and of an upload id.
pub const ID_BYTES: usize = 16;

/// The random part of a file id. Buckets key files by it alone: it is
/// unique across the system because the directory draws it from `raw_rand`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileKey(pub [u8; ID_BYTES]);

impl FileKey {
    /// Lowercase hex, the form used in URLs and by the CLI.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(ID_BYTES * 2);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        // Lower-case hex digits only: one spelling per key, so a URL path
        // names exactly one certified path (`from_str_radix` alone would
        // also take upper case and a `+` sign).
        if s.len() != ID_BYTES * 2 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut out = [0u8; ID_BYTES];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }

    pub fn from_slice(b: &[u8]) -> Option<Self> {
        <[u8; ID_BYTES]>::try_from(b).ok().map(Self)
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileKey({})", self.to_hex())
    }
}

impl fmt::Display for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// `record { owner: principal; id: blob }`: the owner and a 16-byte key
/// drawn by the directory.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId {
    pub owner: Principal,
    #[serde(with = "serde_bytes")]
    pub id: Vec<u8>,
}

impl FileId {
    pub fn new(owner: Principal, key: FileKey) -> Self {
        Self { owner, id: key.0.to_vec() }
    }

    /// The 16-byte key, or `None` when `id` has the wrong length.
    pub fn key(&self) -> Option<FileKey> {
        FileKey::from_slice(&self.id)
    }
}

/// Random 16 bytes drawn by the directory.
pub type UploadId = serde_bytes::ByteBuf;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects() {
        let k = FileKey([0xab; ID_BYTES]);
        assert_eq!(FileKey::from_hex(&k.to_hex()), Some(k));
        assert_eq!(FileKey::from_hex("ab"), None);
        assert_eq!(FileKey::from_hex(&"zz".repeat(16)), None);
        assert_eq!(FileKey::from_hex(&"é".repeat(16)), None);
        // one spelling per key
        assert_eq!(FileKey::from_hex(&"AB".repeat(16)), None);
        assert_eq!(FileKey::from_hex(&format!("+{}", "a".repeat(31))), None);
        assert_eq!(FileKey::from_hex(&format!("-{}", "a".repeat(31))), None);
        assert_eq!(FileKey::from_hex(&format!(" {}", "a".repeat(31))), None);
        assert!(FileId::new(Principal::anonymous(), k).key() == Some(k));
        assert!(FileId { owner: Principal::anonymous(), id: vec![1, 2] }.key().is_none());
    }
}
