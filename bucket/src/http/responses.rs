//! Every response the bucket serves, as a pure function of the file's
//! metadata and chunk hashes. The certification tree is built from the same
//! function, so a served response always matches its certified entry, and
//! the tree can be rebuilt after an upgrade without reading any body.

use super::headers::*;
use crate::logic::etag::etag_text;
use ic_http_certification::{
    CERTIFICATE_EXPRESSION_HEADER_NAME, DefaultCelBuilder, DefaultResponseCertification,
    DefaultResponseOnlyCelExpression, HttpResponse, StatusCode,
};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Response headers certified (v2); only these reach a browser through a
/// verifying gateway.
pub const CERTIFIED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-range",
    "content-disposition",
    "content-security-policy",
    "etag",
    "cache-control",
    "accept-ranges",
    "x-content-type-options",
    "cross-origin-resource-policy",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "allow",
];

/// One CEL expression for every response: response-only certification,
/// so the signed query string (`exp`, `kid`, `sig`) does not enter the tree.
pub static CEL: LazyLock<DefaultResponseOnlyCelExpression<'static>> = LazyLock::new(|| {
    DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::certified_response_headers(CERTIFIED_HEADERS))
        .build()
});
pub static CEL_STRING: LazyLock<String> = LazyLock::new(|| CEL.to_string());

pub use crate::model::FileView;

/// The responses certified under a file's exact path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileResponse {
    /// 200 with the whole file: files of at most one chunk (an empty file
    /// has none: its body is empty).
    Full {
        attachment: bool,
    },
    /// 206 with one whole chunk. The disposition varies only on chunk 0,
    /// which is what a plain GET is answered with (the gateway keeps the
    /// first response's headers).
    Chunk {
        index: u32,
        attachment: bool,
    },
    /// 200 to HEAD, no body, the file's length.
    Head {
        attachment: bool,
    },
    NotModified,
    Forbidden,
    RangeNotSatisfiable,
    Preflight,
    MethodNotAllowed,
}

/// Responses certified under the wildcard `/`, for paths with no file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FallbackResponse {
    NotFound,
    /// A file URL with a bad signature for a file this bucket does not hold
    /// (e.g. another bucket's URL).
    Forbidden,
    /// The CORS preflight of a file path this bucket does not hold: the
    /// same answer as for a file it holds, so `OPTIONS` tells nothing.
    Preflight,
    /// A valid URL of a file whose owner's account is suspended for
    /// non-payment (the file's own responses are out of the tree meanwhile).
    PaymentRequired,
}

/// A response without its body, plus the body's hash.
#[derive(Clone, Debug)]
pub struct ResponseShape {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body_hash: [u8; 32],
    /// Body for responses whose body is fixed text (errors); `None` for
    /// bodies read from chunks.
    pub fixed_body: Option<&'static [u8]>,
}

impl ResponseShape {
    /// `upgrade`: also ask the gateway to upgrade to an update call.
    pub fn to_response(&self, body: Vec<u8>, upgrade: bool) -> HttpResponse<'static> {
        self.clone().into_response(body, upgrade)
    }

    /// `to_response` without copying the headers (~5 k instructions for a
    /// file's dozen).
    pub fn into_response(self, body: Vec<u8>, upgrade: bool) -> HttpResponse<'static> {
        let builder = HttpResponse::builder()
            .with_status_code(StatusCode::from_u16(self.status).expect("our status codes are valid"))
            .with_headers(self.headers)
            .with_body(body);
        if upgrade { builder.with_upgrade(true).build() } else { builder.build() }
    }
}

/// SHA-256 of the empty body (a constant: hashing it cost ~5 k
/// instructions in every file response's shape).
const EMPTY_SHA256: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41,
    0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn h(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_string(), value.into())
}

fn cel_header() -> (String, String) {
    h(CERTIFICATE_EXPRESSION_HEADER_NAME, CEL_STRING.as_str())
}

fn error_shape(status: u16, body: &'static [u8], extra: Vec<(String, String)>) -> ResponseShape {
    let mut headers = vec![
        h("content-type", "text/plain; charset=utf-8"),
        h("content-length", body.len().to_string()),
        h("cache-control", CACHE_NONE),
        h("x-content-type-options", "nosniff"),
        h("content-security-policy", ACTIVE_CONTENT_CSP),
        h("access-control-allow-origin", "*"),
        cel_header(),
    ];
    headers.extend(extra);
    ResponseShape { status, headers, body_hash: sha(body), fixed_body: Some(body) }
}

pub const BODY_FORBIDDEN: &[u8] = b"403 Forbidden: this link is invalid or has expired\n";
pub const BODY_NOT_FOUND: &[u8] = b"404 Not Found\n";
pub const BODY_RANGE: &[u8] = b"416 Range Not Satisfiable\n";
pub const BODY_METHOD: &[u8] = b"405 Method Not Allowed\n";
pub const BODY_PAYMENT_REQUIRED: &[u8] =
    b"402 Payment Required: the storage of this file is unpaid, so it is not served. \
It is kept for now and served again as soon as its owner adds credit (depot balance, depot deposit).\n";

pub fn fallback_shape(r: FallbackResponse) -> ResponseShape {
    match r {
        FallbackResponse::NotFound => error_shape(404, BODY_NOT_FOUND, vec![]),
        FallbackResponse::Forbidden => error_shape(403, BODY_FORBIDDEN, vec![]),
        FallbackResponse::Preflight => preflight_shape(),
        FallbackResponse::PaymentRequired => error_shape(402, BODY_PAYMENT_REQUIRED, vec![]),
    }
}

/// The CORS preflight answer, the same for every file path.
fn preflight_shape() -> ResponseShape {
    ResponseShape {
        status: 204,
        headers: vec![
            h("access-control-allow-origin", "*"),
            h("access-control-allow-methods", ALLOWED_METHODS),
            h("access-control-allow-headers", ALLOWED_REQUEST_HEADERS),
            h("access-control-max-age", "86400"),
            h("cache-control", CACHE_IMMUTABLE),
            cel_header(),
        ],
        body_hash: EMPTY_SHA256,
        fixed_body: Some(b""),
    }
}

/// Headers every successful file response carries.
fn content_headers(f: &FileView, attachment: bool) -> Vec<(String, String)> {
    let ct = content_type(&f.mime, &f.name);
    let mut v = vec![
        h("content-type", ct.clone()),
        h("content-disposition", content_disposition(attachment, &f.name)),
        h("etag", etag_text(&f.etag)),
        h("cache-control", CACHE_FILE),
        h("accept-ranges", "bytes"),
        h("x-content-type-options", "nosniff"),
        h("cross-origin-resource-policy", "cross-origin"),
        h("access-control-allow-origin", "*"),
        h("access-control-expose-headers", EXPOSED_HEADERS),
    ];
    v.push(h("content-security-policy", content_security_policy(&ct)));
    v.push(cel_header());
    v
}

/// The shape of `r` for file `f`; `chunk_hash(i)` gives chunk i's SHA-256.
pub fn file_shape(f: &FileView, r: FileResponse, chunk_hash: impl Fn(u32) -> [u8; 32]) -> ResponseShape {
    let empty = EMPTY_SHA256;
    match r {
        FileResponse::Full { attachment } => {
            let mut headers = content_headers(f, attachment);
            headers.push(h("content-length", f.size.to_string()));
            let body_hash = if f.chunk_count == 0 { empty } else { chunk_hash(0) };
            ResponseShape { status: 200, headers, body_hash, fixed_body: None }
        }
        FileResponse::Chunk { index, attachment } => {
            let (start, end) = f.chunk_span(index);
            let mut headers = content_headers(f, attachment);
            headers.push(h("content-length", (end - start + 1).to_string()));
            headers.push(h("content-range", format!("bytes {start}-{end}/{}", f.size)));
            ResponseShape { status: 206, headers, body_hash: chunk_hash(index), fixed_body: None }
        }
        FileResponse::Head { attachment } => {
            let mut headers = content_headers(f, attachment);
            headers.push(h("content-length", f.size.to_string()));
            ResponseShape { status: 200, headers, body_hash: empty, fixed_body: Some(b"") }
        }
        FileResponse::NotModified => ResponseShape {
            status: 304,
            headers: vec![
                h("etag", etag_text(&f.etag)),
                h("cache-control", CACHE_FILE),
                h("access-control-allow-origin", "*"),
                h("access-control-expose-headers", EXPOSED_HEADERS),
                cel_header(),
            ],
            body_hash: empty,
            fixed_body: Some(b""),
        },
        FileResponse::Forbidden => error_shape(403, BODY_FORBIDDEN, vec![]),
        FileResponse::RangeNotSatisfiable => {
            error_shape(416, BODY_RANGE, vec![h("content-range", format!("bytes */{}", f.size))])
        }
        FileResponse::MethodNotAllowed => error_shape(405, BODY_METHOD, vec![h("allow", ALLOWED_METHODS)]),
        FileResponse::Preflight => preflight_shape(),
    }
}

/// The responses every file has, whatever its size: first in
/// `file_response_at`'s numbering.
const COMMON_RESPONSES: [FileResponse; 5] = [
    FileResponse::Forbidden,
    FileResponse::Preflight,
    FileResponse::NotModified,
    FileResponse::RangeNotSatisfiable,
    FileResponse::MethodNotAllowed,
];

/// Responses per disposition: the whole file (at most one chunk), chunk 0
/// (at least one chunk), and the HEAD answer.
fn per_disposition(f: &FileView) -> usize {
    (f.chunk_count <= 1) as usize + (f.chunk_count >= 1) as usize + 1
}

/// How many responses are certified for a file.
pub fn file_response_count(f: &FileView) -> usize {
    COMMON_RESPONSES.len() + 2 * per_disposition(f) + f.chunk_count.saturating_sub(1) as usize
}

/// Response `i` of a file (`i < file_response_count(f)`): the common ones,
/// then inline and attachment each as [whole file] [chunk 0] HEAD, then
/// chunks 1 and up (inline only: see `FileResponse::Chunk`).
pub fn file_response_at(f: &FileView, i: usize) -> FileResponse {
    if let Some(r) = COMMON_RESPONSES.get(i) {
        return *r;
    }
    let g = per_disposition(f);
    let j = i - COMMON_RESPONSES.len();
    if j >= 2 * g {
        return FileResponse::Chunk { index: (j - 2 * g + 1) as u32, attachment: false };
    }
    let attachment = j >= g;
    let full = f.chunk_count <= 1;
    match (j % g, full, f.chunk_count >= 1) {
        (0, true, _) => FileResponse::Full { attachment },
        (0, false, true) | (1, true, true) => FileResponse::Chunk { index: 0, attachment },
        _ => FileResponse::Head { attachment },
    }
}

/// Where `r` is in `file_response_at`'s numbering; `None` when `r` is not
/// certified for this file.
pub fn file_response_index(f: &FileView, r: FileResponse) -> Option<usize> {
    let g = per_disposition(f);
    let base = COMMON_RESPONSES.len();
    let group = |attachment: bool| base + if attachment { g } else { 0 };
    let full = f.chunk_count <= 1;
    let i = match r {
        FileResponse::Full { attachment } if full => group(attachment),
        FileResponse::Chunk { index: 0, attachment } if f.chunk_count >= 1 => group(attachment) + full as usize,
        FileResponse::Head { attachment } => group(attachment) + g - 1,
        FileResponse::Chunk { index, attachment: false } if index >= 1 && index < f.chunk_count => {
            base + 2 * g + index as usize - 1
        }
        FileResponse::Full { .. } | FileResponse::Chunk { .. } => return None,
        common => COMMON_RESPONSES.iter().position(|c| *c == common).expect("the rest are common"),
    };
    Some(i)
}

/// Every response certified for a file, in order.
pub fn file_responses(f: &FileView) -> Vec<FileResponse> {
    (0..file_response_count(f)).map(|i| file_response_at(f, i)).collect()
}

/// Headers of an exact answer from `http_request_update` (never in the
/// tree: update replies are certified by consensus): bytes `start..=end`
/// as a 206, or the whole file as a 200 when `whole`.
pub fn exact_headers(f: &FileView, start: u64, end: u64, whole: bool, attachment: bool) -> Vec<(String, String)> {
    let mut headers = content_headers(f, attachment);
    headers.push(h("content-length", (end - start + 1).to_string()));
    if !whole {
        headers.push(h("content-range", format!("bytes {start}-{end}/{}", f.size)));
    }
    headers
}

/// A `multipart/byteranges` body (RFC 9110 §14.6) of `parts`, each
/// `(start, end, bytes)`, and its headers. The boundary is derived from the
/// ETag: it cannot occur in a part header, and a part body that contained
/// it would only confuse a client of this one answer.
pub fn multipart(f: &FileView, parts: &[(u64, u64, Vec<u8>)], attachment: bool) -> (Vec<(String, String)>, Vec<u8>) {
    let boundary = format!("depot-{}", &hex::encode(f.etag)[..32]);
    let ct = content_type(&f.mime, &f.name);
    let mut body = Vec::new();
    for (start, end, bytes) in parts {
        body.extend_from_slice(
            format!("\r\n--{boundary}\r\ncontent-type: {ct}\r\ncontent-range: bytes {start}-{end}/{}\r\n\r\n", f.size)
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut headers = content_headers(f, attachment);
    for (k, v) in headers.iter_mut() {
        if k == "content-type" {
            *v = format!("multipart/byteranges; boundary={boundary}");
        }
    }
    headers.push(h("content-length", body.len().to_string()));
    (headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use depot_api::FileKey;

    fn view(chunk_count: u32) -> FileView {
        FileView {
            key: FileKey([1; 16]),
            name: "a".into(),
            mime: "text/plain".into(),
            size: chunk_count as u64 * 10,
            chunk_size: 10,
            chunk_count,
            etag: [2; 32],
        }
    }

    /// `file_response_index` inverts `file_response_at`, every response is
    /// distinct, and responses a file does not have have no index.
    #[test]
    fn the_empty_hash_is_sha256_of_nothing() {
        assert_eq!(EMPTY_SHA256, sha(b""));
    }

    #[test]
    fn response_numbering_is_a_bijection() {
        for cc in [0, 1, 2, 3, 10] {
            let f = view(cc);
            let all = file_responses(&f);
            assert_eq!(all.len(), file_response_count(&f));
            for (i, r) in all.iter().enumerate() {
                assert_eq!(file_response_index(&f, *r), Some(i), "{cc} chunks: {r:?}");
                assert!(!all[..i].contains(r), "{cc} chunks: {r:?} twice");
            }
            let absent = [
                FileResponse::Chunk { index: cc, attachment: false },
                FileResponse::Chunk { index: 1, attachment: true },
            ];
            for r in absent {
                assert_eq!(file_response_index(&f, r), None, "{cc} chunks: {r:?}");
            }
            assert_eq!(file_response_index(&f, FileResponse::Full { attachment: false }).is_some(), cc <= 1);
        }
        assert_eq!(file_response_count(&view(1)), 11, "a single-chunk file has eleven responses");
    }
}
