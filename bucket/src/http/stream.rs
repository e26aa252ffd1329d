//! Streaming: the update reply of an exact range carries the bytes up to the
//! end of the chunk holding its first byte, and a token the gateway hands to
//! `http_request_streaming_callback` for each following chunk.
//!
//! A token is an authorisation, not a bare `{file, offset}`: it carries the
//! signed URL's expiry, key id, signature and disposition, and the bucket's
//! own seal over all of it, range included (`token_mac`). A callback checks
//! the seal, that the URL's key is still one the bucket accepts, and the
//! expiry (with `STREAM_EXPIRY_GRACE_SECS` past it, so a download begun in
//! time can finish); a token without a seal, given out before the bucket
//! had its secret, is checked by the URL's signature instead.
//!
//! What a verifying gateway checks (ic-http-gateway-protocol 0.6,
//! `protocol/handler.rs`, `response/response_handler.rs`): the update reply
//! itself is certified by consensus (the agent verifies the call's
//! certificate). The callbacks are queries whose bodies carry no
//! certificate; the gateway follows at most 4 of them before answering,
//! and after that streams the rest (at most 1000 frames in all) without
//! verification. Clients that need every byte verified use plain GETs
//! (every chunk verified) or the CLI (verifies each chunk itself).

use super::answer::Context;
use super::token_mac;
use crate::limits::STREAM_EXPIRY_GRACE_SECS;
use crate::model::FileView;
use candid::{CandidType, Deserialize, Principal};
use depot_api::FileKey;
use depot_api::keys::{MAC_BYTES, SIGNATURE_BYTES, SignatureError};
use depot_api::url::{Disposition, SignedUrl, UrlError};
use ic_stable_structures::Memory;
use serde_bytes::ByteBuf;

/// The callback method, named in every streaming strategy.
pub const CALLBACK_METHOD: &str = "http_request_streaming_callback";

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StreamingToken {
    /// The file key (16 bytes).
    pub file: ByteBuf,
    /// The signed URL's `exp`, `kid`, `sig` and `dl`.
    pub exp: u64,
    pub kid: u32,
    pub sig: ByteBuf,
    pub attachment: bool,
    /// Next byte to send, and the last byte of the answer (inclusive).
    pub next: u64,
    pub end: u64,
    /// The bucket's seal over the fields above (`token_mac`); absent on
    /// tokens given out before the bucket had its secret.
    pub mac: Option<ByteBuf>,
}

candid::define_function!(pub StreamingCallback : (StreamingToken) -> (StreamingCallbackHttpResponse) query);

#[derive(CandidType, Deserialize, Clone, Debug)]
pub enum StreamingStrategy {
    Callback { callback: StreamingCallback, token: StreamingToken },
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StreamingCallbackHttpResponse {
    pub body: ByteBuf,
    pub token: Option<StreamingToken>,
}

/// `http_request_update`'s reply: the gateway protocol's `HttpResponse`
/// with its streaming strategy (ic-http-certification's type has none).
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct HttpStreamingResponse {
    pub status_code: u16,
    pub headers: Vec<(String, String)>,
    pub body: ByteBuf,
    pub streaming_strategy: Option<StreamingStrategy>,
    pub upgrade: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("malformed streaming token")]
    Malformed,
    #[error("streaming token refused: {0}")]
    Url(#[from] UrlError),
    #[error("the file is gone")]
    NotFound,
    #[error("streaming token out of the file's range")]
    OutOfRange,
    #[error("streaming token not sealed by this bucket")]
    BadSeal,
}

impl StreamingToken {
    /// The token continuing `url`'s answer at byte `next` up to `end`.
    pub fn new(url: &SignedUrl, next: u64, end: u64) -> Self {
        Self {
            file: ByteBuf::from(url.file.0.to_vec()),
            exp: url.expires_at_secs,
            kid: url.kid,
            sig: ByteBuf::from(url.sig.clone()),
            attachment: url.disposition == Disposition::Attachment,
            next,
            end,
            mac: None,
        }
    }

    /// This token sealed by `bucket` with `key`.
    fn sealed(mut self, key: &[u8; 32], bucket: Principal) -> Self {
        self.mac = Some(ByteBuf::from(token_mac::seal(key, bucket, &self).to_vec()));
        self
    }

    fn signed_url(&self) -> Result<SignedUrl, StreamError> {
        let key: [u8; 16] = self.file.as_slice().try_into().map_err(|_| StreamError::Malformed)?;
        Ok(SignedUrl {
            file: FileKey(key),
            expires_at_secs: self.exp,
            kid: self.kid,
            sig: self.sig.to_vec(),
            disposition: if self.attachment { Disposition::Attachment } else { Disposition::Inline },
        })
    }
}

/// Bytes `next..=min(end, end of next's chunk)`: one stored read.
pub fn read_part<M: Memory>(cx: &Context<M>, f: &FileView, next: u64, end: u64) -> (Vec<u8>, u64) {
    let index = (next / f.chunk_size) as u32;
    let (chunk_start, chunk_end) = f.chunk_span(index);
    let last = end.min(chunk_end);
    let r = cx.store.chunk_ref(&f.key, index).expect("committed files have every chunk");
    (cx.store.read_chunk_part(&r, next - chunk_start, last - next + 1), last)
}

/// The token for the bytes after `last`, if the answer goes on.
/// Sealed when the bucket has its secret.
pub fn continuation<M: Memory>(cx: &Context<M>, url: &SignedUrl, last: u64, end: u64) -> Option<StreamingToken> {
    (last < end).then(|| {
        let token = StreamingToken::new(url, last + 1, end);
        match &cx.store.config().stream_key {
            Some(key) => token.sealed(key, cx.this_bucket),
            None => token,
        }
    })
}

/// One streaming callback: checks the token, reads the next part.
pub fn callback<M: Memory>(
    cx: &Context<M>,
    token: &StreamingToken,
) -> Result<StreamingCallbackHttpResponse, StreamError> {
    let url = token.signed_url()?;
    let config = cx.store.config();
    let now_secs = cx.now_secs.saturating_sub(STREAM_EXPIRY_GRACE_SECS);
    match (&token.mac, &config.stream_key) {
        (Some(mac), Some(key)) => {
            // The bucket only seals tokens of checked URLs, whose signature
            // has 64 bytes (Ed25519) or 32 (MAC): any other length is
            // refused before it is hashed.
            let checked_length = matches!(token.sig.len(), SIGNATURE_BYTES | MAC_BYTES);
            if !checked_length || !token_mac::is_sealed(key, cx.this_bucket, token, mac) {
                return Err(StreamError::BadSeal);
            }
            // The bucket checked the signature when it gave the token out;
            // a key retired since then ends the stream, as it would have.
            if !config.ring().knows(token.kid) {
                return Err(StreamError::Url(UrlError::Signature(SignatureError::UnknownKey(token.kid))));
            }
            if now_secs >= token.exp {
                return Err(StreamError::Url(UrlError::Expired));
            }
        }
        // A seal this bucket cannot check is not a seal.
        (Some(_), None) => return Err(StreamError::BadSeal),
        (None, _) => url.verify(config.ring(), cx.this_bucket, now_secs)?,
    }
    let f = cx.store.file_view(&url.file).ok_or(StreamError::NotFound)?;
    if token.next > token.end || token.end >= f.size {
        return Err(StreamError::OutOfRange);
    }
    let (body, last) = read_part(cx, &f, token.next, token.end);
    Ok(StreamingCallbackHttpResponse { body: ByteBuf::from(body), token: continuation(cx, &url, last, token.end) })
}

/// The strategy naming this bucket's callback with `token`.
pub fn strategy(bucket: Principal, token: StreamingToken) -> StreamingStrategy {
    StreamingStrategy::Callback { callback: StreamingCallback::new(bucket, CALLBACK_METHOD.to_string()), token }
}
