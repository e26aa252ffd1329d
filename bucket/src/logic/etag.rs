//! The strong ETag of a committed file.

use sha2::{Digest, Sha256};

/// SHA-256 over the chunk hashes in order: it changes with any byte of the
/// file and needs no pass over the bytes.
pub fn strong_etag(chunk_hashes: &[[u8; 32]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for c in chunk_hashes {
        h.update(c);
    }
    h.finalize().into()
}

/// The ETag as sent in `ETag` headers and in `CommitFileOk`: quoted hex.
pub fn etag_text(etag: &[u8; 32]) -> String {
    format!("\"{}\"", hex::encode(etag))
}
