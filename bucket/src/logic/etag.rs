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
/// Written into one buffer: every certified response makes it twice (the
/// plan's `If-None-Match` check and the header), and `format!` with
/// `hex::encode` cost ~6 k instructions each time.
pub fn etag_text(etag: &[u8; 32]) -> String {
    let mut quoted = [b'"'; 66];
    hex::encode_to_slice(etag, &mut quoted[1..65]).expect("64 hex digits fit");
    String::from_utf8(quoted.to_vec()).expect("hex digits and quotes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_text_is_quoted_lowercase_hex() {
        let etag: [u8; 32] = std::array::from_fn(|i| (i * 37) as u8);
        assert_eq!(etag_text(&etag), format!("\"{}\"", hex::encode(etag)));
    }
}
