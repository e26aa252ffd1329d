//! Replies whose body goes out straight from its buffer.
//!
//! Candid-encoding a reply copies its body into the encoder's buffer, and a
//! copy costs an instruction per byte in wasm: ~1 M per MiB, a fifth of a
//! certified 206. Here the reply is appended in pieces: the encoding of
//! everything before the body, the body's length, the body itself from
//! where it already lies, and the encoding of everything after it.
//! - `http_request`'s replies: always, with the pieces `http::wire` writes.
//! - The streaming replies of `http_request_update` and its callbacks:
//!   from `SPLIT_FROM_BYTES` up, with pieces found by candid (the split
//!   costs two extra encodings of the rest, ~190 k instructions measured,
//!   more than the copies save below ~100 KB).

use candid::CandidType;
use ic_http_certification::HttpResponse;
use serde_bytes::ByteBuf;

/// Streaming replies' bodies from this size up are appended in place.
pub const SPLIT_FROM_BYTES: usize = 128 * 1024;

/// The Candid encoding (one argument) of `make(blob)`, split around the blob:
/// the bytes before its length, and the bytes after its last byte. Found by
/// encoding the value with an empty and a one-byte blob and taking where
/// they first differ, so it holds for any position of the blob.
pub fn encode_around_blob<T: CandidType>(make: impl Fn(Vec<u8>) -> T) -> (Vec<u8>, Vec<u8>) {
    let empty = candid::encode_one(make(Vec::new())).expect("reply types encode");
    let marked = candid::encode_one(make(vec![0xAB])).expect("reply types encode");
    let at = empty.iter().zip(&marked).position(|(a, b)| a != b).expect("the blob's length byte differs");
    assert_eq!((empty[at], marked[at], marked[at + 1]), (0, 1, 0xAB), "the blob is where the encodings differ");
    (empty[..at].to_vec(), empty[at + 1..].to_vec())
}

/// The pieces that make the encoding of the value with `blob` in place.
pub fn pieces<'a>(before: &'a [u8], blob: &'a [u8], after: &'a [u8], len_buf: &'a mut Vec<u8>) -> [&'a [u8]; 4] {
    len_buf.clear();
    leb128::write::unsigned(len_buf, blob.len() as u64).expect("writing to a Vec");
    [before, len_buf.as_slice(), blob, after]
}

/// `make(blob)` as the reply, `blob` appended in place.
pub(crate) fn reply_with_blob<T: CandidType>(make: impl Fn(Vec<u8>) -> T, blob: &[u8]) {
    let (before, after) = encode_around_blob(make);
    let mut len_buf = Vec::new();
    for piece in pieces(&before, blob, &after, &mut len_buf) {
        append(piece);
    }
    ic_cdk::api::call::reply_raw(&[]);
}

fn append(bytes: &[u8]) {
    use std::io::Write;
    ic_cdk::api::call::CallReplyWriter.write_all(bytes).expect("appending to the reply");
}

/// Replies to `http_request` with `resp`, encoded by `http::wire`, its
/// body appended from where it lies.
pub fn reply_http(resp: &HttpResponse<'_>) {
    let encoded = super::wire::encode_response(resp);
    for piece in [encoded.head.as_slice(), resp.body(), &encoded.tail] {
        append(piece);
    }
    ic_cdk::api::call::reply_raw(&[]);
}

/// Replies with `value`, whose `body` field is `body_of(value)`.
pub fn reply_owned<T: CandidType + Clone>(mut value: T, body_of: fn(&mut T) -> &mut ByteBuf) {
    if body_of(&mut value).len() < SPLIT_FROM_BYTES {
        ic_cdk::api::call::reply((value,));
        return;
    }
    let body = std::mem::take(body_of(&mut value));
    reply_with_blob(
        |b| {
            let mut v = value.clone();
            *body_of(&mut v) = ByteBuf::from(b);
            v
        },
        &body,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::stream::{HttpStreamingResponse, StreamingCallbackHttpResponse, StreamingToken, strategy};
    use candid::Encode;

    /// Body lengths around the LEB128 length's byte boundaries and the split.
    const LENGTHS: [usize; 8] = [0, 1, 127, 128, 16_383, 16_384, SPLIT_FROM_BYTES, 1 << 20];

    fn body(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn assembled<T: CandidType>(make: impl Fn(Vec<u8>) -> T, blob: &[u8]) -> Vec<u8> {
        let (before, after) = encode_around_blob(make);
        let mut len_buf = Vec::new();
        pieces(&before, blob, &after, &mut len_buf).concat()
    }

    fn token() -> StreamingToken {
        // Blobs of their own, encoded before the body (smaller field hash).
        let (file, sig) = (ByteBuf::from(vec![7; 16]), ByteBuf::from(vec![9; 64]));
        StreamingToken {
            file,
            exp: 1,
            kid: 2,
            sig,
            attachment: true,
            next: 3,
            end: 4,
            mac: Some(ByteBuf::from(vec![5; 32])),
        }
    }

    #[test]
    fn streaming_replies_pieces_are_their_candid_encoding() {
        let bucket = candid::Principal::from_slice(&[1, 2, 3]);
        for (n, with_token) in LENGTHS.into_iter().flat_map(|n| [(n, false), (n, true)]) {
            let update = HttpStreamingResponse {
                status_code: 206,
                headers: vec![("content-length".into(), n.to_string())],
                body: ByteBuf::from(body(n)),
                streaming_strategy: with_token.then(|| strategy(bucket, token())),
                upgrade: None,
            };
            let mut head = update.clone();
            head.body = ByteBuf::new();
            let bytes = assembled(|b| HttpStreamingResponse { body: ByteBuf::from(b), ..head.clone() }, &update.body);
            assert_eq!(bytes, Encode!(&update).unwrap(), "update reply, body of {n} B");

            let token = with_token.then(token);
            let callback = StreamingCallbackHttpResponse { body: ByteBuf::from(body(n)), token: token.clone() };
            let make = |b| StreamingCallbackHttpResponse { body: ByteBuf::from(b), token: token.clone() };
            let bytes = assembled(make, &callback.body);
            assert_eq!(bytes, Encode!(&callback).unwrap(), "callback reply, body of {n} B");
        }
    }
}
