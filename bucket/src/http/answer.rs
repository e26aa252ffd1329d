//! Turns a `Plan` into the HTTP response, reading bodies from the store and
//! attaching the certificate.

use super::certs::{CertTree, Certified};
use super::responses::{
    FallbackResponse, FileResponse, FileView, exact_headers, fallback_shape, file_shape, multipart,
};
use super::serve::{Plan, RequestView, plan};
use super::stream::{self, HttpStreamingResponse};
use crate::model::BucketStore;
use crate::phases::mark;
use candid::Principal;
use depot_api::FileKey;
use depot_api::url::{SignedUrl, UrlError};
use ic_http_certification::{HttpResponse, StatusCode};
use ic_stable_structures::Memory;

pub struct Context<'a, M: Memory> {
    pub store: &'a BucketStore<M>,
    pub certs: &'a CertTree,
    pub this_bucket: Principal,
    pub now_secs: u64,
}

/// What the query `http_request` decides for a request, before any body
/// is read: also what `inspect_message` checks an `http_request_update`
/// against (only requests the query answered with `upgrade` may arrive).
pub fn query_plan<M: Memory>(
    cx: &Context<M>,
    method: &str,
    url: &str,
    headers: &[(String, String)],
) -> (Plan, Option<FileView>) {
    let req = RequestView { method, url, headers };
    let (plan, file) = plan(
        &req,
        false,
        |k| {
            let view = cx.store.file_view(k);
            mark("file lookup");
            view
        },
        |k| cx.store.is_suspended(k),
        |s| {
            let verified = verify_url(cx, s);
            mark("URL parsed and verified");
            verified
        },
    );
    // A file not yet in the tree (after an upgrade, or a large file being
    // certified) has no path in it: its 403 and preflight are the
    // wildcard ones (the same bytes), anything else is answered by
    // `http_request_update`, whose reply needs no tree.
    let plan = match (plan, &file) {
        (Plan::File(FileResponse::Forbidden), Some(f)) if !cx.certs.is_certified(&f.key) => {
            Plan::Fallback(FallbackResponse::Forbidden)
        }
        (Plan::File(FileResponse::Preflight), Some(f)) if !cx.certs.is_certified(&f.key) => {
            Plan::Fallback(FallbackResponse::Preflight)
        }
        (Plan::File(_) | Plan::Resume { .. }, Some(f)) if !cx.certs.is_certified(&f.key) => Plan::Upgrade,
        (plan, _) => plan,
    };
    (plan, file)
}

/// Checks a signed URL for this bucket now, with the MAC keys prepared
/// when the ring last changed.
fn verify_url<M: Memory>(cx: &Context<M>, url: &SignedUrl) -> Result<(), UrlError> {
    let ring = cx.store.config().ring();
    crate::state::with_prepared_macs(|prepared| url.verify_prepared(ring, prepared, cx.this_bucket, cx.now_secs))
}

/// Whether the query answers this request with `upgrade`.
pub fn query_upgrades<M: Memory>(cx: &Context<M>, method: &str, url: &str, headers: &[(String, String)]) -> bool {
    matches!(query_plan(cx, method, url, headers).0, Plan::Upgrade | Plan::Resume { .. })
}

/// The answer to a query `http_request`. `data_certificate` is `None` only
/// outside a non-replicated query, where nothing can be certified.
pub fn answer_query<M: Memory>(
    cx: &Context<M>,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    data_certificate: Option<&[u8]>,
) -> HttpResponse<'static> {
    let (plan, file) = query_plan(cx, method, url, headers);
    mark("plan");
    let Some(cert) = data_certificate else {
        return plain(503, "certificate unavailable: call http_request as a query\n");
    };
    match (plan, file) {
        (Plan::File(r), Some(f)) => certified_file(cx, &f, r, false, url, cert),
        // The chunk (past chunk 0, so never an attachment) for the
        // gateway's chunk fetch, and `upgrade` for a client resuming.
        (Plan::Resume { index, .. }, Some(f)) => {
            certified_file(cx, &f, FileResponse::Chunk { index, attachment: false }, true, url, cert)
        }
        (Plan::Fallback(r), _) => {
            let shape = fallback_shape(r);
            let body = shape.fixed_body.unwrap_or_default().to_vec();
            let mut resp = shape.into_response(body, false);
            match cx.certs.certify(cx.store, &mut resp, Certified::Fallback(r), url, cert) {
                Ok(()) => resp,
                Err(_) => plain(400, "400 Bad Request: malformed URL\n"),
            }
        }
        (Plan::Upgrade, _) => HttpResponse::builder().with_upgrade(true).build(),
        (Plan::RawRedirect { location }, _) => HttpResponse::builder()
            .with_status_code(StatusCode::PERMANENT_REDIRECT)
            .with_headers(vec![("location".into(), location), ("cache-control".into(), "no-store".into())])
            .build(),
        (Plan::File(_) | Plan::Resume { .. } | Plan::Exact { .. } | Plan::Multipart { .. }, _) => {
            plain(500, "internal error: no file for a file plan\n")
        }
    }
}

/// A file's certified response; `upgrade` also asks the gateway to upgrade
/// (see `Plan::Resume`).
fn certified_file<M: Memory>(
    cx: &Context<M>,
    f: &FileView,
    r: FileResponse,
    upgrade: bool,
    url: &str,
    cert: &[u8],
) -> HttpResponse<'static> {
    // The chunk whose bytes are the body, looked up once for its hash and
    // its bytes.
    let index = match r {
        FileResponse::Full { .. } => Some(0),
        FileResponse::Chunk { index, .. } => Some(index),
        _ => None,
    };
    let chunk = index.and_then(|i| Some((i, cx.store.chunk_ref(&f.key, i)?)));
    let hash_of = |i| match chunk {
        Some((at, c)) if at == i => c.sha256,
        _ => chunk_hash(cx.store, &f.key, i),
    };
    let shape = file_shape(f, r, hash_of);
    mark("headers");
    let body = match (shape.fixed_body, chunk) {
        (Some(b), _) => b.to_vec(),
        (None, Some((_, c))) => cx.store.read_chunk(&c),
        (None, None) => vec![],
    };
    mark("body read");
    let mut resp = shape.into_response(body, upgrade);
    mark("response built");
    let certified = cx.certs.certify(cx.store, &mut resp, Certified::File(f, r), url, cert);
    mark("witness and paths freed");
    match certified {
        Ok(()) => resp,
        Err(_) => plain(400, "400 Bad Request: malformed URL\n"),
    }
}

/// The answer to `http_request_update`: exact ranges, and files not yet
/// back in the tree after an upgrade. Replies of update calls are
/// certified by consensus, so no certificate header is needed.
pub fn answer_update<M: Memory>(
    cx: &Context<M>,
    method: &str,
    url: &str,
    headers: &[(String, String)],
) -> HttpStreamingResponse {
    let req = RequestView { method, url, headers };
    let (plan, file) = plan(&req, true, |k| cx.store.file_view(k), |k| cx.store.is_suspended(k), |s| verify_url(cx, s));
    match (plan, file) {
        (Plan::Exact { start, end, whole, attachment }, Some(f)) => {
            let signed = SignedUrl::parse(url).expect("a file plan has a verified URL");
            let (body, last) = stream::read_part(cx, &f, start, end);
            let token = stream::continuation(cx, &signed, last, end);
            let status = if whole { 200 } else { 206 };
            let mut resp = streaming(status, exact_headers(&f, start, end, whole, attachment), body);
            resp.streaming_strategy = token.map(|t| stream::strategy(cx.this_bucket, t));
            resp
        }
        (Plan::Multipart { ranges, attachment }, Some(f)) => {
            let parts: Vec<(u64, u64, Vec<u8>)> =
                ranges.iter().map(|&(a, b)| (a, b, read_range(cx.store, &f, a, b))).collect();
            let (headers, body) = multipart(&f, &parts, attachment);
            streaming(206, headers, body)
        }
        (Plan::File(r), Some(f)) => {
            let shape = file_shape(&f, r, |i| chunk_hash(cx.store, &f.key, i));
            let body = shape.fixed_body.map(<[u8]>::to_vec).unwrap_or_else(|| body_of(cx.store, &f, r));
            streaming(shape.status, shape.headers, body)
        }
        (Plan::Fallback(r), _) => {
            let shape = fallback_shape(r);
            streaming(shape.status, shape.headers, shape.fixed_body.unwrap_or_default().to_vec())
        }
        (Plan::RawRedirect { location }, _) => streaming(308, vec![("location".into(), location)], vec![]),
        _ => {
            let body = b"internal error: unexpected plan in update\n".to_vec();
            streaming(500, vec![("content-type".into(), "text/plain; charset=utf-8".into())], body)
        }
    }
}

fn streaming(status_code: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> HttpStreamingResponse {
    HttpStreamingResponse { status_code, headers, body: body.into(), streaming_strategy: None, upgrade: None }
}

/// Bytes `start..=end` of a file, across chunks (multipart parts are
/// bounded by `MAX_MULTIPART_BODY_BYTES`).
fn read_range<M: Memory>(store: &BucketStore<M>, f: &FileView, start: u64, end: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity((end - start + 1) as usize);
    let mut next = start;
    while next <= end {
        let index = (next / f.chunk_size) as u32;
        let (chunk_start, chunk_end) = f.chunk_span(index);
        let last = end.min(chunk_end);
        let r = store.chunk_ref(&f.key, index).expect("committed files have every chunk");
        out.extend(store.read_chunk_part(&r, next - chunk_start, last - next + 1));
        next = last + 1;
    }
    out
}

fn chunk_hash<M: Memory>(store: &BucketStore<M>, key: &FileKey, i: u32) -> [u8; 32] {
    store.chunk_ref(key, i).map(|r| r.sha256).unwrap_or_default()
}

fn body_of<M: Memory>(store: &BucketStore<M>, f: &FileView, r: FileResponse) -> Vec<u8> {
    let index = match r {
        FileResponse::Full { .. } => 0,
        FileResponse::Chunk { index, .. } => index,
        _ => return vec![],
    };
    store.chunk_ref(&f.key, index).map(|c| store.read_chunk(&c)).unwrap_or_default()
}

fn plain(status: u16, body: &str) -> HttpResponse<'static> {
    HttpResponse::builder()
        .with_status_code(StatusCode::from_u16(status).expect("valid status"))
        .with_headers(vec![("content-type".into(), "text/plain; charset=utf-8".into())])
        .with_body(body.as_bytes().to_vec())
        .build()
}
