//! The bucket's seal on the streaming tokens it gives out.
//!
//! A streaming callback used to check the directory's Ed25519 signature of
//! the URL the token came from: 2.14 M instructions, most of a callback's
//! cost (2.55 M per MiB served). The bucket already checked that signature
//! when it answered the update that began the stream, so the tokens it
//! gives out after that carry an HMAC-SHA256 under a secret of its own
//! (`Config::stream_key`, from `raw_rand`), over every field of the token
//! and the bucket's id, which costs thousands of instructions.
//!
//! The secret sits in the bucket's state, which the subnet's nodes can
//! read; so do the files it seals access to, so nothing is exposed that was
//! not already. It never leaves the bucket, and a token sealed by one
//! bucket is refused by every other. A token without a seal (given out
//! before the secret arrived) is checked by its signature, as before.

use super::stream::StreamingToken;
use candid::Principal;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Domain separator: this MAC authorises nothing else.
const DOMAIN: &[u8] = b"depot-stream-token-v1";

/// Bytes of a seal (HMAC-SHA256).
pub const MAC_BYTES: usize = 32;

fn mac_of(key: &[u8; 32], bucket: Principal, t: &StreamingToken) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    // Every variable-length field is length-prefixed, so no two tokens
    // share an input.
    let bucket = bucket.as_slice();
    m.update(DOMAIN);
    m.update(&[bucket.len() as u8]);
    m.update(bucket);
    m.update(&(t.file.len() as u32).to_be_bytes());
    m.update(&t.file);
    m.update(&t.exp.to_be_bytes());
    m.update(&t.kid.to_be_bytes());
    m.update(&(t.sig.len() as u32).to_be_bytes());
    m.update(&t.sig);
    m.update(&[t.attachment as u8]);
    m.update(&t.next.to_be_bytes());
    m.update(&t.end.to_be_bytes());
    m
}

/// The seal of `t` (its own `mac` field aside) for `bucket`.
pub fn seal(key: &[u8; 32], bucket: Principal, t: &StreamingToken) -> [u8; MAC_BYTES] {
    mac_of(key, bucket, t).finalize().into_bytes().into()
}

/// Whether `mac` is `t`'s seal for `bucket` (compared in constant time).
pub fn is_sealed(key: &[u8; 32], bucket: Principal, t: &StreamingToken, mac: &[u8]) -> bool {
    mac_of(key, bucket, t).verify_slice(mac).is_ok()
}
