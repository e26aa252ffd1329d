//! Certified static responses, through `ic-asset-certification`'s
//! `AssetRouter`: for now one page, the 404 every path without a route
//! gets (a share path with a malformed id included), certified at the
//! wildcard `/` so the verifying gateway accepts it. The web app's files
//! (issue 12) join it here.

use crate::pages::{escape, plain_csp};
use ic_asset_certification::{Asset, AssetConfig, AssetFallbackConfig, AssetRouter};
use ic_http_certification::{HttpRequest, HttpResponse, StatusCode};
use std::cell::RefCell;

const NOT_FOUND_PATH: &str = "404.html";

thread_local! {
    static ROUTER: RefCell<AssetRouter<'static>> = RefCell::new(AssetRouter::default());
}

fn not_found_page() -> Vec<u8> {
    let title = "Not found";
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
<body><main><h1>{}</h1><p>There is nothing here. Share links look like /s/ followed by 32 letters and digits.</p></main></body></html>",
        escape(title),
        escape(title)
    )
    .into_bytes()
}

fn configs() -> Vec<AssetConfig> {
    vec![AssetConfig::File {
        path: NOT_FOUND_PATH.to_string(),
        content_type: Some("text/html; charset=utf-8".to_string()),
        headers: vec![
            ("content-security-policy".to_string(), plain_csp()),
            ("cache-control".to_string(), "no-cache".to_string()),
            ("x-content-type-options".to_string(), "nosniff".to_string()),
            ("referrer-policy".to_string(), "no-referrer".to_string()),
        ],
        fallback_for: vec![AssetFallbackConfig { scope: "/".to_string(), status_code: Some(StatusCode::NOT_FOUND) }],
        aliased_by: vec![],
        encodings: vec![],
    }]
}

/// Certifies every asset; returns the root hash to publish as the
/// canister's certified data.
pub fn certify() -> [u8; 32] {
    ROUTER.with_borrow_mut(|router| {
        let assets = vec![Asset::new(NOT_FOUND_PATH, not_found_page())];
        router.certify_assets(assets, configs()).expect("the built-in assets certify");
        router.root_hash()
    })
}

/// The certified response for `req`.
pub fn serve(data_certificate: &[u8], req: &HttpRequest) -> HttpResponse<'static> {
    ROUTER.with_borrow(|router| match router.serve_asset(data_certificate, req) {
        Ok(r) => r,
        // Unreachable while the wildcard fallback exists: said plainly.
        Err(e) => HttpResponse::builder()
            .with_status_code(StatusCode::INTERNAL_SERVER_ERROR)
            .with_body(format!("no certified response: {e}").into_bytes())
            .build(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_without_a_route_gets_the_certified_404() {
        certify();
        for path in ["/", "/index.html", "/s/abc", "/a/b/c?x=1"] {
            let req = HttpRequest::get(path).build();
            let r = serve(b"certificate", &req);
            assert_eq!(r.status_code(), StatusCode::NOT_FOUND, "{path}");
            assert!(String::from_utf8_lossy(r.body()).contains("Not found"));
            let certified = r
                .headers()
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case("ic-certificate") && v.contains("certificate=:"));
            assert!(certified, "{path}: {:?}", r.headers());
        }
    }
}
