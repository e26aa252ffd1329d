//! From an HTTP request to the response the bucket gives.

use super::range::{self, RangeDecision};
use super::responses::{FallbackResponse, FileResponse, FileView};
use crate::limits::{MAX_MULTIPART_BODY_BYTES, MAX_RANGES_PER_REQUEST};
use depot_api::FileKey;
use depot_api::url::{Disposition, SignedUrl, UrlError, file_key_of_path};

/// What to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// A certified response at the file's exact path.
    File(FileResponse),
    /// A certified response at the wildcard path.
    Fallback(FallbackResponse),
    /// An exact answer: the query asks the gateway to upgrade to an update.
    Upgrade,
    /// `bytes=<chunk start>-` past chunk 0: byte for byte both the HTTP
    /// gateway's own request for the next chunk of a plain GET (which must
    /// get that chunk's certified 206, without streaming) and a client
    /// resuming a download that broke at a chunk boundary (which must get
    /// every byte to the end). The query answers the chunk's certified 206
    /// *with* `upgrade`: the gateway's chunk fetches read the query's reply
    /// and ignore `upgrade` (ic-http-gateway-protocol 0.6,
    /// `response_handler::create_206_stream`), while a client's request is
    /// upgraded, and the update answers it as `Exact` to the end.
    Resume { index: u32, start: u64, end: u64, attachment: bool },
    /// Bytes `start..=end` of the file, answered by `http_request_update`:
    /// the part up to the end of the chunk holding `start` in the reply,
    /// the rest through streaming callbacks. `whole`: a 200 with the whole
    /// file (a Range the answer ignores), otherwise a 206.
    Exact { start: u64, end: u64, whole: bool, attachment: bool },
    /// Several ranges in one `multipart/byteranges` 206, from the update.
    Multipart { ranges: Vec<(u64, u64)>, attachment: bool },
    /// A request on the raw (unverified) domain: send it to the verified one.
    RawRedirect { location: String },
}

pub struct RequestView<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
}

impl RequestView<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A request that can only be the HTTP gateway's fetch of the next
    /// chunk of a plain GET: ic-gateway gives every request an
    /// `x-request-id`, and ic-http-gateway-protocol strips it from the
    /// requests it forwards for clients but not from its chunk fetches.
    fn is_gateway_chunk_fetch(&self) -> bool {
        self.header("x-request-id").is_some()
    }

    /// A request from a media element (`<video>`, `<audio>`, `<track>`):
    /// browsers mark them with `Sec-Fetch-Dest`, and they accept a 206 that
    /// starts before the byte they asked for.
    fn is_media(&self) -> bool {
        self.header("sec-fetch-dest")
            .is_some_and(|d| MEDIA_DESTINATIONS.iter().any(|m| d.trim().eq_ignore_ascii_case(m)))
    }
}

/// `Sec-Fetch-Dest` values of media elements (Fetch standard).
pub const MEDIA_DESTINATIONS: [&str; 3] = ["video", "audio", "track"];

/// `If-None-Match` against our strong ETag (weak comparison, RFC 9110 §13.1.2).
fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// `<id>.raw.icp0.io` → `<id>.icp0.io`; `None` when not a raw host.
fn verified_host(host: &str) -> Option<String> {
    let lower = host.to_ascii_lowercase();
    let (id, rest) = lower.split_once('.')?;
    let rest = rest.strip_prefix("raw.")?;
    Some(format!("{id}.{rest}"))
}

/// Decides the answer. `file` finds a committed, served file; `suspended`
/// tells whether a file is held back for non-payment; `verify` checks a
/// signed URL for this bucket at the current time.
pub fn plan(
    req: &RequestView,
    is_update: bool,
    file: impl FnOnce(&FileKey) -> Option<FileView>,
    suspended: impl FnOnce(&FileKey) -> bool,
    verify: impl FnOnce(&SignedUrl) -> Result<(), UrlError>,
) -> (Plan, Option<FileView>) {
    if let Some(host) = req.header("host").and_then(verified_host) {
        // Protocol-relative: keeps http on a local network, https on mainnet.
        return (Plan::RawRedirect { location: format!("//{host}{}", req.url) }, None);
    }
    let Some(key) = file_key_of_path(req.url) else { return (Plan::Fallback(FallbackResponse::NotFound), None) };
    match file(&key) {
        Some(f) => {
            let plan = plan_file(req, is_update, &f, verify);
            (plan, Some(f))
        }
        // Preflights and answers without a valid signature are the same
        // whether or not the file exists, so they cannot be used to probe
        // for file ids (the certificate's path still differs: see
        // docs/security.md).
        None if req.method.eq_ignore_ascii_case("OPTIONS") => (Plan::Fallback(FallbackResponse::Preflight), None),
        // A suspended file answers 402 to a valid URL only: without one it
        // is as absent as any other.
        None => match SignedUrl::parse(req.url).and_then(|s| verify(&s)) {
            Ok(()) if suspended(&key) => (Plan::Fallback(FallbackResponse::PaymentRequired), None),
            Ok(()) => (Plan::Fallback(FallbackResponse::NotFound), None),
            Err(_) => (Plan::Fallback(FallbackResponse::Forbidden), None),
        },
    }
}

fn plan_file(
    req: &RequestView,
    is_update: bool,
    f: &FileView,
    verify: impl FnOnce(&SignedUrl) -> Result<(), UrlError>,
) -> Plan {
    let method = req.method.to_ascii_uppercase();
    match method.as_str() {
        "OPTIONS" => return Plan::File(FileResponse::Preflight),
        "GET" | "HEAD" => {}
        _ => return Plan::File(FileResponse::MethodNotAllowed),
    }
    let signed = match SignedUrl::parse(req.url).and_then(|s| verify(&s).map(|_| s)) {
        Ok(s) => s,
        Err(_) => return Plan::File(FileResponse::Forbidden),
    };
    let attachment = signed.disposition == Disposition::Attachment;
    // Made only for a request with a validator to compare.
    let etag = || crate::logic::etag::etag_text(&f.etag);
    if req.header("if-none-match").is_some_and(|h| etag_matches(h, &etag())) {
        return Plan::File(FileResponse::NotModified);
    }
    if method == "HEAD" {
        return Plan::File(FileResponse::Head { attachment });
    }
    let plan = plan_get(req, f, attachment, etag);
    match plan {
        Plan::Exact { .. } | Plan::Multipart { .. } if !is_update => Plan::Upgrade,
        Plan::Resume { start, end, attachment, .. } if is_update => {
            Plan::Exact { start, end, whole: false, attachment }
        }
        plan => plan,
    }
}

/// The answer to a signed GET of a committed file. See `http/mod.rs` for
/// the rules and why.
fn plan_get(req: &RequestView, f: &FileView, attachment: bool, etag: impl Fn() -> String) -> Plan {
    let range = req.header("range");
    let if_range = req.header("if-range");
    // If-Range with another validator: the client's partial copy is stale,
    // so the whole file is sent (RFC 9110 §13.1.5).
    let decision = match range {
        Some(r) if if_range.is_none_or(|v| v.trim() == etag()) => range::resolve(r, f.size),
        _ => RangeDecision::Ignore,
    };
    let chunk = |index: u32| Plan::File(FileResponse::Chunk { index, attachment: attachment && index == 0 });
    let chunk_of = |byte: u64| (byte / f.chunk_size) as u32;
    // A client that sent Range or If-Range gets the gateway's pass-through:
    // whatever we answer is what it receives, so it must be exact.
    let client_ranged = range.is_some() || if_range.is_some();
    match decision {
        RangeDecision::Ignore if f.chunk_count <= 1 => Plan::File(FileResponse::Full { attachment }),
        // No Range: chunk 0, and the gateway fetches and verifies the rest.
        RangeDecision::Ignore if !client_ranged || req.is_media() => chunk(0),
        RangeDecision::Ignore => Plan::Exact { start: 0, end: f.size - 1, whole: true, attachment },
        RangeDecision::Unsatisfiable => Plan::File(FileResponse::RangeNotSatisfiable),
        RangeDecision::Bytes { start, .. } if req.is_media() => chunk(chunk_of(start)),
        RangeDecision::Multi(ranges) if req.is_media() => chunk(chunk_of(ranges[0].0)),
        RangeDecision::Bytes { start, end } => {
            let index = chunk_of(start);
            let (chunk_start, chunk_end) = f.chunk_span(index);
            let whole_chunk = start == chunk_start && end == chunk_end;
            let at_next_chunk = start > 0
                && start == chunk_start
                && if_range.is_none()
                && range.and_then(range::open_start) == Some(start);
            if whole_chunk || (at_next_chunk && req.is_gateway_chunk_fetch()) {
                chunk(index)
            } else if at_next_chunk {
                Plan::Resume { index, start, end, attachment }
            } else {
                Plan::Exact { start, end, whole: false, attachment }
            }
        }
        RangeDecision::Multi(ranges) => {
            let bytes: u64 = ranges.iter().map(|(a, b)| b - a + 1).sum();
            if ranges.len() <= MAX_RANGES_PER_REQUEST && bytes <= MAX_MULTIPART_BODY_BYTES {
                Plan::Multipart { ranges, attachment }
            } else if f.chunk_count <= 1 {
                Plan::File(FileResponse::Full { attachment })
            } else {
                Plan::Exact { start: 0, end: f.size - 1, whole: true, attachment }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(size: u64) -> FileView {
        FileView {
            key: FileKey([1; 16]),
            name: "v.mp4".into(),
            mime: "video/mp4".into(),
            size,
            chunk_size: 100,
            chunk_count: size.div_ceil(100) as u32,
            etag: [2; 32],
        }
    }

    fn run(method: &str, headers: &[(&str, &str)], size: u64, update: bool, sig_ok: bool) -> Plan {
        let headers: Vec<(String, String)> = headers.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let url = format!("/f/{}?exp=1&kid=1&sig=AA", "01".repeat(16));
        let req = RequestView { method, url: &url, headers: &headers };
        plan(&req, update, |_| Some(view(size)), |_| false, |_| if sig_ok { Ok(()) } else { Err(UrlError::Expired) }).0
    }

    #[test]
    fn plain_get() {
        assert_eq!(run("GET", &[], 50, false, true), Plan::File(FileResponse::Full { attachment: false }));
        assert_eq!(run("GET", &[], 100, false, true), Plan::File(FileResponse::Full { attachment: false }));
        assert_eq!(run("GET", &[], 101, false, true), Plan::File(FileResponse::Chunk { index: 0, attachment: false }));
    }

    #[test]
    fn ranges() {
        let r = |h: &str, update| run("GET", &[("Range", h)], 250, update, true);
        // At a chunk boundary: the chunk with `upgrade` (see `Plan::Resume`).
        assert_eq!(r("bytes=100-", false), Plan::Resume { index: 1, start: 100, end: 249, attachment: false });
        // The rest from the last chunk's start is that chunk: no upgrade.
        assert_eq!(r("bytes=200-", false), Plan::File(FileResponse::Chunk { index: 2, attachment: false }));
        assert_eq!(r("bytes=100-199", false), Plan::File(FileResponse::Chunk { index: 1, attachment: false }));
        assert_eq!(r("bytes=-50", false), Plan::File(FileResponse::Chunk { index: 2, attachment: false }));
        assert_eq!(r("bytes=0-99", false), Plan::File(FileResponse::Chunk { index: 0, attachment: false }));
        assert_eq!(r("bytes=100-150", false), Plan::Upgrade);
        assert_eq!(r("bytes=150-", false), Plan::Upgrade);
        assert_eq!(r("bytes=150-", true), Plan::Exact { start: 150, end: 249, whole: false, attachment: false });
        assert_eq!(r("bytes=-10", true), Plan::Exact { start: 240, end: 249, whole: false, attachment: false });
        assert_eq!(r("bytes=0-", false), Plan::Upgrade, "from 0 a client wants everything");
        assert_eq!(r("bytes=100-", true), Plan::Exact { start: 100, end: 249, whole: false, attachment: false });
        assert_eq!(r("bytes=100-249", true), Plan::Exact { start: 100, end: 249, whole: false, attachment: false });
        assert_eq!(r("bytes=250-", false), Plan::File(FileResponse::RangeNotSatisfiable));
        assert_eq!(r("bytes=x", true), Plan::Exact { start: 0, end: 249, whole: true, attachment: false });
    }

    #[test]
    fn the_gateways_chunk_fetch_is_told_apart_by_its_request_id() {
        let fetch = [("Range", "bytes=100-"), ("x-request-id", "0190f3a2-0000-7000-8000-000000000000")];
        let chunk = Plan::File(FileResponse::Chunk { index: 1, attachment: false });
        assert_eq!(run("GET", &fetch, 250, false, true), chunk);
        // Only at a chunk boundary: any other range is exact all the same.
        let off = [("Range", "bytes=150-"), ("x-request-id", "x")];
        assert_eq!(run("GET", &off, 250, false, true), Plan::Upgrade);
    }

    #[test]
    fn conditionals_and_methods() {
        let etag = format!("\"{}\"", "02".repeat(32));
        assert_eq!(run("GET", &[("If-None-Match", &etag)], 250, false, true), Plan::File(FileResponse::NotModified));
        assert_eq!(
            run("GET", &[("If-None-Match", &format!("W/{etag}"))], 250, false, true),
            Plan::File(FileResponse::NotModified)
        );
        assert_eq!(
            run("GET", &[("If-None-Match", "\"x\"")], 50, false, true),
            Plan::File(FileResponse::Full { attachment: false })
        );
        assert_eq!(run("HEAD", &[], 250, false, true), Plan::File(FileResponse::Head { attachment: false }));
        assert_eq!(run("POST", &[], 250, false, true), Plan::File(FileResponse::MethodNotAllowed));
        assert_eq!(run("OPTIONS", &[], 250, false, false), Plan::File(FileResponse::Preflight));
        assert_eq!(
            run("GET", &[("Range", "bytes=150-"), ("If-Range", "\"old\"")], 250, true, true),
            Plan::Exact { start: 0, end: 249, whole: true, attachment: false }
        );
    }

    #[test]
    fn bad_signature_is_403_and_unknown_is_404() {
        assert_eq!(run("GET", &[], 250, false, false), Plan::File(FileResponse::Forbidden));
        let req = RequestView { method: "GET", url: "/nope", headers: &[] };
        assert_eq!(plan(&req, false, |_| None, |_| false, |_| Ok(())).0, Plan::Fallback(FallbackResponse::NotFound));
        let url = format!("/f/{}?exp=1&kid=1&sig=AA", "01".repeat(16));
        let req = RequestView { method: "GET", url: &url, headers: &[] };
        assert_eq!(plan(&req, false, |_| None, |_| false, |_| Ok(())).0, Plan::Fallback(FallbackResponse::NotFound));
        // an unknown file with a bad or missing signature is 403, not 404
        assert_eq!(
            plan(&req, false, |_| None, |_| false, |_| Err(UrlError::Expired)).0,
            Plan::Fallback(FallbackResponse::Forbidden)
        );
        // a preflight is the same answer whether the file exists or not
        let req = RequestView { method: "OPTIONS", url: &url, headers: &[] };
        assert_eq!(
            plan(&req, false, |_| None, |_| false, |_| Err(UrlError::Expired)).0,
            Plan::Fallback(FallbackResponse::Preflight)
        );
        let bare = format!("/f/{}", "01".repeat(16));
        let req = RequestView { method: "GET", url: &bare, headers: &[] };
        assert_eq!(plan(&req, false, |_| None, |_| false, |_| Ok(())).0, Plan::Fallback(FallbackResponse::Forbidden));
    }

    #[test]
    fn raw_domain_redirects() {
        let headers = vec![("Host".to_string(), "aaaaa-aa.raw.icp0.io".to_string())];
        let req = RequestView { method: "GET", url: "/f/x?y=1", headers: &headers };
        assert_eq!(
            plan(&req, false, |_| None, |_| false, |_| Ok(())).0,
            Plan::RawRedirect { location: "//aaaaa-aa.icp0.io/f/x?y=1".into() }
        );
    }
}
