//! Turns a `Plan` into the HTTP response, reading bodies from the store and
//! attaching the certificate.

use super::certs::{CertTree, FALLBACK_PATH};
use super::responses::{FallbackResponse, FileResponse, FileView, fallback_shape, file_shape};
use super::serve::{Plan, RequestView, plan};
use crate::model::BucketStore;
use candid::Principal;
use depot_api::FileKey;
use ic_http_certification::{HttpCertificationPath, HttpResponse, StatusCode};
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
    let keys = &cx.store.config().keys;
    let (plan, file) = plan(&req, false, |k| cx.store.file_view(k), |s| s.verify(keys, cx.this_bucket, cx.now_secs));
    // A file not yet back in the tree after an upgrade: its 403 is the
    // wildcard one (no exact path exists yet); anything else is answered by
    // `http_request_update`, whose reply needs no tree.
    let plan = match (plan, &file) {
        (Plan::File(FileResponse::Forbidden), Some(f)) if !cx.certs.is_certified(&f.key) => {
            Plan::Fallback(FallbackResponse::Forbidden)
        }
        (Plan::File(FileResponse::Preflight), Some(f)) if !cx.certs.is_certified(&f.key) => {
            Plan::Fallback(FallbackResponse::Preflight)
        }
        (Plan::File(_), Some(f)) if !cx.certs.is_certified(&f.key) => Plan::Upgrade,
        (plan, _) => plan,
    };
    (plan, file)
}

/// Whether the query answers this request with `upgrade`.
pub fn query_upgrades<M: Memory>(cx: &Context<M>, method: &str, url: &str, headers: &[(String, String)]) -> bool {
    query_plan(cx, method, url, headers).0 == Plan::Upgrade
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
    let Some(cert) = data_certificate else {
        return plain(503, "certificate unavailable: call http_request as a query\n");
    };
    match (plan, file) {
        (Plan::File(r), Some(f)) => {
            let shape = file_shape(&f, r, |i| chunk_hash(cx.store, &f.key, i));
            let body = match shape.fixed_body {
                Some(b) => b.to_vec(),
                None => body_of(cx.store, &f, r),
            };
            let mut resp = shape.to_response(body);
            match cx.certs.certify(&mut resp, &shape, HttpCertificationPath::exact(f.path()), url, cert) {
                Ok(()) => resp,
                Err(_) => plain(400, "400 Bad Request: malformed URL\n"),
            }
        }
        (Plan::Fallback(r), _) => {
            let shape = fallback_shape(r);
            let mut resp = shape.to_response(shape.fixed_body.unwrap_or_default().to_vec());
            match cx.certs.certify(&mut resp, &shape, HttpCertificationPath::wildcard(FALLBACK_PATH), url, cert) {
                Ok(()) => resp,
                Err(_) => plain(400, "400 Bad Request: malformed URL\n"),
            }
        }
        (Plan::Upgrade, _) => HttpResponse::builder().with_upgrade(true).build(),
        (Plan::RawRedirect { location }, _) => HttpResponse::builder()
            .with_status_code(StatusCode::PERMANENT_REDIRECT)
            .with_headers(vec![("location".into(), location), ("cache-control".into(), "no-store".into())])
            .build(),
        (Plan::File(_) | Plan::Exact { .. }, _) => plain(500, "internal error: no file for a file plan\n"),
    }
}

/// The answer to `http_request_update`: exact ranges. Replies of update
/// calls are certified by consensus, so no certificate header is needed.
pub fn answer_update<M: Memory>(
    cx: &Context<M>,
    method: &str,
    url: &str,
    headers: &[(String, String)],
) -> HttpResponse<'static> {
    let req = RequestView { method, url, headers };
    let keys = &cx.store.config().keys;
    let (plan, file) = plan(&req, true, |k| cx.store.file_view(k), |s| s.verify(keys, cx.this_bucket, cx.now_secs));
    match (plan, file) {
        (Plan::Exact { start, end, attachment }, Some(f)) => {
            let index = (start / f.chunk_size) as u32;
            let (chunk_start, _) = f.chunk_span(index);
            let r = cx.store.chunk_ref(&f.key, index).expect("committed files have every chunk");
            let body = cx.store.read_chunk_part(&r, start - chunk_start, end - start + 1);
            let mut shape = file_shape(&f, FileResponse::Chunk { index, attachment }, |_| [0; 32]);
            for (k, v) in shape.headers.iter_mut() {
                match k.as_str() {
                    "content-length" => *v = body.len().to_string(),
                    "content-range" => *v = format!("bytes {start}-{end}/{}", f.size),
                    _ => {}
                }
            }
            shape.to_response(body)
        }
        (Plan::File(r), Some(f)) => {
            let shape = file_shape(&f, r, |i| chunk_hash(cx.store, &f.key, i));
            let body = shape.fixed_body.map(<[u8]>::to_vec).unwrap_or_else(|| body_of(cx.store, &f, r));
            shape.to_response(body)
        }
        (Plan::Fallback(r), _) => {
            let shape = fallback_shape(r);
            shape.to_response(shape.fixed_body.unwrap_or_default().to_vec())
        }
        (Plan::RawRedirect { location }, _) => HttpResponse::builder()
            .with_status_code(StatusCode::PERMANENT_REDIRECT)
            .with_headers(vec![("location".into(), location)])
            .build(),
        _ => plain(500, "internal error: unexpected plan in update\n"),
    }
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
