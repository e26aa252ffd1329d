//! Checks a bucket's answer to one chunk request before a byte of it is
//! written. A query reply is signed by the one replica that answered, which
//! could lie; response verification (v2) checks the response against the
//! subnet's certified data instead: the certificate is signed by the IC's
//! root key, names this bucket, is recent, and its tree holds this exact
//! response (status, certified headers, body hash) at the requested path.
//!
//! On top of that, the certified `Content-Range` must be the chunk asked
//! for, so a replica cannot answer one chunk's request with another
//! certified chunk of the same file.

use candid::Principal;
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateResponse};

/// How far a certificate's time may be from the local clock: the figure
/// HTTP gateways and ic-agent allow.
pub const MAX_CERT_TIME_OFFSET_NS: u128 = 5 * 60 * 1_000_000_000;

/// What a response is checked against.
#[derive(Clone, Debug)]
pub struct Trust {
    /// The bucket named in the directory's certified `get_download_url` reply.
    pub bucket: Principal,
    /// The IC root key (DER), as the agent holds it.
    pub root_key: Vec<u8>,
    pub max_cert_time_offset_ns: u128,
}

/// The verified bytes `start..=end` of a file of `total` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedChunk {
    pub start: u64,
    pub end: u64,
    pub total: u64,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// The response does not match the IC's certified data: a replica (or
    /// something between it and us) altered it. Never retried.
    Unverified(String),
    /// A verified answer that is not the chunk: 403 (URL expired or
    /// invalid), 404, 416, …
    Status(u16),
    /// Verified, but not the range asked for (or malformed).
    WrongRange(String),
}

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChunkError::Unverified(e) => write!(
                f,
                "response verification failed, the reply does not match the IC's certified data \
                 (a replica or the network altered it): {e}"
            ),
            ChunkError::Status(403) => write!(f, "the bucket refused the signed URL (403: expired or invalid)"),
            ChunkError::Status(s) => write!(f, "the bucket answered HTTP {s} instead of the chunk"),
            ChunkError::WrongRange(e) => write!(f, "the certified response is not the chunk asked for: {e}"),
        }
    }
}

impl std::error::Error for ChunkError {}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// `bytes a-b/t` → (a, b, t).
pub fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let (range, total) = v.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b, t) = (a.parse().ok()?, b.parse().ok()?, total.parse().ok()?);
    (a <= b && b < t).then_some((a, b, t))
}

/// A 206 whose `Content-Range` starts at `start` and whose body is exactly
/// that range. `status` and `headers` must be ones the IC certified.
fn chunk_of(status: u16, headers: &[(String, String)], body: Vec<u8>, start: u64) -> Result<VerifiedChunk, ChunkError> {
    if status != 206 {
        return Err(ChunkError::Status(status));
    }
    let cr = header(headers, "content-range").ok_or_else(|| ChunkError::WrongRange("no Content-Range".into()))?;
    let (a, b, total) =
        parse_content_range(cr).ok_or_else(|| ChunkError::WrongRange(format!("bad Content-Range {cr:?}")))?;
    if a != start {
        return Err(ChunkError::WrongRange(format!("asked for bytes from {start}, got {cr:?}")));
    }
    if body.len() as u64 != b - a + 1 {
        return Err(ChunkError::WrongRange(format!("{} body bytes for {cr:?}", body.len())));
    }
    Ok(VerifiedChunk { start: a, end: b, total, bytes: body })
}

/// Verifies a query `http_request` reply to `request` (a `Range` of one
/// chunk from `start`) and returns the chunk. `now_ns` is the local clock.
pub fn verify_chunk_response(
    trust: &Trust,
    request: &HttpRequest<'_>,
    response: HttpResponse<'_>,
    now_ns: u128,
    start: u64,
) -> Result<VerifiedChunk, ChunkError> {
    let info = ic_response_verification::verify_request_response_pair(
        request.clone(),
        response,
        trust.bucket.as_slice(),
        now_ns,
        trust.max_cert_time_offset_ns,
        &trust.root_key,
        2,
    )
    .map_err(|e| ChunkError::Unverified(e.to_string()))?;
    if info.verification_version < 2 {
        return Err(ChunkError::Unverified(format!("verification version {}", info.verification_version)));
    }
    // Only what the certificate covers: status, certified headers, body.
    let verified = info.response.ok_or_else(|| ChunkError::Unverified("no verified response".into()))?;
    let status = verified.status_code.ok_or_else(|| ChunkError::Unverified("status not certified".into()))?;
    chunk_of(status, &verified.headers, verified.body, start)
}

/// Verifies the reply to a plain GET of an empty file: a certified 200
/// with no body.
pub fn verify_empty_response(
    trust: &Trust,
    request: &HttpRequest<'_>,
    response: HttpResponse<'_>,
    now_ns: u128,
) -> Result<(), ChunkError> {
    let info = ic_response_verification::verify_request_response_pair(
        request.clone(),
        response,
        trust.bucket.as_slice(),
        now_ns,
        trust.max_cert_time_offset_ns,
        &trust.root_key,
        2,
    )
    .map_err(|e| ChunkError::Unverified(e.to_string()))?;
    let verified = info.response.ok_or_else(|| ChunkError::Unverified("no verified response".into()))?;
    match verified.status_code {
        Some(200) if verified.body.is_empty() => Ok(()),
        Some(200) => Err(ChunkError::WrongRange(format!("{} body bytes for an empty file", verified.body.len()))),
        Some(s) => Err(ChunkError::Status(s)),
        None => Err(ChunkError::Unverified("status not certified".into())),
    }
}

/// Checks an `http_request_update` reply. An update's reply is certified by
/// consensus (ic-agent checks the certificate it came in against the root
/// key), so only its content is checked here.
pub fn check_update_chunk(response: HttpUpdateResponse<'_>, start: u64) -> Result<VerifiedChunk, ChunkError> {
    chunk_of(response.status_code().as_u16(), response.headers(), response.body().to_vec(), start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_http_certification::StatusCode;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("bytes 0-99/100"), Some((0, 99, 100)));
        assert_eq!(parse_content_range(" bytes 100-199/250 "), Some((100, 199, 250)));
        for bad in ["bytes 0-100/100", "bytes 5-4/10", "bytes */10", "0-1/2", "bytes 0-1", "bytes a-b/c", ""] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    fn update(status: u16, cr: Option<&str>, body: &[u8]) -> HttpUpdateResponse<'static> {
        let headers = cr.map(|v| vec![("Content-Range".to_string(), v.to_string())]).unwrap_or_default();
        HttpResponse::builder()
            .with_status_code(StatusCode::from_u16(status).unwrap())
            .with_headers(headers)
            .with_body(body.to_vec())
            .build_update()
    }

    #[test]
    fn a_chunk_must_be_the_range_asked_for() {
        let ok = check_update_chunk(update(206, Some("bytes 4-7/10"), b"abcd"), 4).unwrap();
        assert_eq!((ok.start, ok.end, ok.total, ok.bytes.as_slice()), (4, 7, 10, &b"abcd"[..]));
        assert_eq!(check_update_chunk(update(403, None, b"no"), 4), Err(ChunkError::Status(403)));
        assert_eq!(check_update_chunk(update(200, None, b"abcd"), 0), Err(ChunkError::Status(200)));
        for (cr, body, start) in [
            (Some("bytes 0-3/10"), &b"abcd"[..], 4u64),
            (Some("bytes 4-7/10"), b"abc", 4),
            (Some("bytes 4-7/10"), b"abcde", 4),
            (None, b"abcd", 4),
            (Some("bytes 4-7/7"), b"abcd", 4),
        ] {
            let r = check_update_chunk(update(206, cr, body), start);
            assert!(matches!(r, Err(ChunkError::WrongRange(_))), "{cr:?} {body:?}: {r:?}");
        }
    }

    #[test]
    fn an_uncertified_response_is_refused() {
        let trust = Trust { bucket: Principal::anonymous(), root_key: vec![0; 133], max_cert_time_offset_ns: 1 };
        let req = HttpRequest::get("/f/00?exp=1").build();
        let resp = HttpResponse::builder()
            .with_status_code(StatusCode::PARTIAL_CONTENT)
            .with_headers(vec![("content-range".into(), "bytes 0-1/2".into())])
            .with_body(b"ab".to_vec())
            .build();
        let r = verify_chunk_response(&trust, &req, resp, 0, 0);
        assert!(matches!(r, Err(ChunkError::Unverified(_))), "{r:?}");
    }
}
