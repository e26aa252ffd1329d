//! Typed errors inside reject messages. A canister that refuses a message
//! in `inspect_message` (so that it does not pay for it) cannot reply with
//! a Candid value: the client gets only a reject text. The text carries
//! the typed error as well, hex-encoded Candid between markers, so that a
//! client gets the same typed error it would have got from the method.

use crate::error::{BucketError, DirectoryError};
use candid::{CandidType, Encode};

const BUCKET_TAG: &str = "[depot-bucket-error:";
const DIRECTORY_TAG: &str = "[depot-directory-error:";
const MAX_ERROR_HEX_CHARS: usize = 8192;

fn embed<T: CandidType + std::fmt::Display>(tag: &str, e: &T) -> String {
    let bytes = Encode!(e).expect("encoding a typed error cannot fail");
    format!("{e} {tag}{}]", hex::encode(bytes))
}

fn extract(tag: &str, text: &str) -> Option<Vec<u8>> {
    let start = text.find(tag)? + tag.len();
    let end = start + text[start..].find(']')?;
    let hex = &text[start..end];
    // A reject text is outside input: a typed error is a few hundred bytes.
    if hex.len() > MAX_ERROR_HEX_CHARS {
        return None;
    }
    hex::decode(hex).ok()
}

/// The reject text for a refused bucket message: readable, then the error.
pub fn bucket_reject(e: &BucketError) -> String {
    embed(BUCKET_TAG, e)
}

pub fn directory_reject(e: &DirectoryError) -> String {
    embed(DIRECTORY_TAG, e)
}

/// Decodes a typed error with bounded work: a reject text is outside input,
/// and without a skipping quota 14 bytes of Candid can declare 2^32 values
/// to skip (about a minute of CPU; found by `depot-fuzz`).
fn decode_error<T: CandidType + serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let mut config = candid::de::DecoderConfig::new();
    config.set_decoding_quota(1_000_000).set_skipping_quota(10_000);
    candid::utils::decode_one_with_config(bytes, &config).ok()
}

/// The typed error inside a reject text, if there is one.
pub fn bucket_error_in(text: &str) -> Option<BucketError> {
    decode_error(&extract(BUCKET_TAG, text)?)
}

pub fn directory_error_in(text: &str) -> Option<DirectoryError> {
    decode_error(&extract(DIRECTORY_TAG, text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipping_bomb_is_refused_at_once() {
        // `vec reserved` with 2^32 - 1 elements: 14 bytes.
        let bomb = "4449444c016d700100ffffffff0f";
        let t = std::time::Instant::now();
        assert_eq!(bucket_error_in(&format!("x {BUCKET_TAG}{bomb}]")), None);
        assert_eq!(directory_error_in(&format!("x {DIRECTORY_TAG}{bomb}]")), None);
        assert!(t.elapsed() < std::time::Duration::from_secs(1), "{:?}", t.elapsed());
    }

    #[test]
    fn typed_errors_survive_a_reject_text() {
        let e = BucketError::ChunkSizeMismatch { index: 3, expected: 10, actual: 9 };
        let text = format!("IC0406: Canister rejected the message: put_chunk: {}", bucket_reject(&e));
        assert!(text.contains("chunk 3 has 9 bytes, expected 10"), "readable: {text}");
        assert_eq!(bucket_error_in(&text), Some(e));
        assert_eq!(directory_error_in(&text), None);
        let d = DirectoryError::Unauthorised;
        assert_eq!(directory_error_in(&directory_reject(&d)), Some(d));
    }

    #[test]
    fn texts_without_or_with_broken_markers_carry_nothing() {
        for t in ["", "plain reject", "[depot-bucket-error:", "[depot-bucket-error:zz]", "[depot-bucket-error:abc]"] {
            assert_eq!(bucket_error_in(t), None, "{t}");
        }
    }
}
