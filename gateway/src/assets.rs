//! Certified static responses, through `ic-asset-certification`'s
//! `AssetRouter`: the web app embedded at build time (`build.rs`), each file
//! with its gzip and Brotli variants, `config.json` written at install from
//! `GatewayInit`, and a certified 404 page.
//!
//! - `index.html` answers `/` and, as the SPA fallback, every path the app
//!   routes itself (200); it is `no-cache`, so a new deploy is seen at once.
//! - Vite's content-hashed files under `assets/` are `immutable` for a year.
//! - `/assets/…` and `/s/…` paths with no file or share get the 404 page,
//!   not the app: a missing script must not come back as HTML, and a
//!   malformed share id is an error, not an app screen.
//! - Without an embedded app (a native build, or a wasm built without
//!   `DEPOT_WWW_DIST`), every such path gets the 404 page saying so.

use crate::head::Heads;
use crate::pages::{escape, plain_csp};
use crate::state::Settings;
use depot_api::gateway::local_network_port;
use ic_asset_certification::{Asset, AssetConfig, AssetEncoding, AssetFallbackConfig, AssetRouter};
use ic_http_certification::{HttpCertificationTree, HttpRequest, HttpResponse, StatusCode};
use std::cell::RefCell;
use std::rc::Rc;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/www_files.rs"));
}

const NOT_FOUND_PATH: &str = "404.html";
const INDEX_PATH: &str = "index.html";
const CONFIG_PATH: &str = "config.json";
/// Vite's output folder for content-hashed files.
const HASHED_DIR: &str = "assets/";

/// Where mainnet's API is reached (the agent's default host) and where its
/// canisters, the buckets included, are served.
const MAINNET_API: &str = "https://icp-api.io https://icp0.io https://*.icp0.io https://ic0.app https://*.ic0.app";
const MAINNET_MEDIA: &str = "https://*.icp0.io https://*.ic0.app";

/// The router, the `HEAD` answers (`head.rs`) and the one tree both
/// certify into.
#[derive(Default)]
struct Certified {
    tree: Rc<RefCell<HttpCertificationTree>>,
    router: AssetRouter<'static>,
    heads: Heads,
}

thread_local! {
    static CERTIFIED: RefCell<Certified> = RefCell::new(Certified::default());
}

/// Whether this wasm carries the web app.
pub fn app_embedded() -> bool {
    embedded::FILES.iter().any(|(p, _)| *p == INDEX_PATH)
}

/// (`connect-src` for the IC API, the origins media and frames load from).
fn origins(init: &Settings) -> (String, String) {
    match init.local_network.as_deref().and_then(local_network_port) {
        Some(p) => (
            format!("http://localhost:{p} http://127.0.0.1:{p} http://*.localhost:{p}"),
            format!("http://*.localhost:{p} http://127.0.0.1:{p}"),
        ),
        None => (MAINNET_API.to_string(), MAINNET_MEDIA.to_string()),
    }
}

/// The app's Content-Security-Policy: its own scripts and styles only, the
/// IC API for the agent, the buckets for previews (`<img>`, `<video>`,
/// `<audio>`, the PDF `<iframe>`) and the text preview's `fetch`.
pub fn app_csp(init: &Settings) -> String {
    let (api, media) = origins(init);
    // The text preview fetches from the buckets too; each origin once.
    let mut connect: Vec<&str> = vec!["'self'"];
    for o in api.split(' ').chain(media.split(' ')) {
        if !connect.contains(&o) {
            connect.push(o);
        }
    }
    let connect = connect.join(" ");
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: {media}; \
media-src {media}; frame-src {media}; connect-src {connect}; font-src 'self'; manifest-src 'self'; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
    )
}

/// What the app reads at start (`/config.json`).
pub fn app_config(init: &Settings) -> Vec<u8> {
    let local = match init.local_network.as_deref().filter(|o| local_network_port(o).is_some()) {
        Some(o) => format!("\"{o}\""),
        None => "null".to_string(),
    };
    format!("{{\"directory\":\"{}\",\"local_network\":{local}}}", init.directory.to_text()).into_bytes()
}

fn not_found_page() -> Vec<u8> {
    let title = "Not found";
    let why = if app_embedded() {
        "There is nothing here. Share links look like /s/ followed by 32 letters and digits."
    } else {
        "There is nothing here, and this gateway was built without the web app \
(scripts/build-wasm.sh builds it into the wasm). Share links look like /s/ followed by 32 letters and digits."
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
<body><main><h1>{}</h1><p>{}</p></main></body></html>",
        escape(title),
        escape(title),
        escape(why)
    )
    .into_bytes()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn common_headers(cache: &str) -> Vec<(String, String)> {
    vec![
        ("cache-control".to_string(), cache.to_string()),
        ("x-content-type-options".to_string(), "nosniff".to_string()),
        ("referrer-policy".to_string(), "no-referrer".to_string()),
    ]
}

fn is_variant(path: &str) -> bool {
    path.ends_with(".gz") || path.ends_with(".br")
}

fn not_found_fallback(scope: &str) -> AssetFallbackConfig {
    AssetFallbackConfig { scope: scope.to_string(), status_code: Some(StatusCode::NOT_FOUND) }
}

fn configs(init: &Settings) -> Vec<AssetConfig> {
    let app = app_embedded();
    let mut not_found_headers = common_headers("no-cache");
    not_found_headers.push(("content-security-policy".to_string(), plain_csp()));
    let not_found_scopes: &[&str] = if app { &["/assets", "/s"] } else { &["/"] };
    let mut out = vec![
        AssetConfig::File {
            path: NOT_FOUND_PATH.to_string(),
            content_type: Some(content_type(NOT_FOUND_PATH).to_string()),
            headers: not_found_headers,
            fallback_for: not_found_scopes.iter().map(|s| not_found_fallback(s)).collect(),
            aliased_by: vec![],
            encodings: vec![],
        },
        AssetConfig::File {
            path: CONFIG_PATH.to_string(),
            content_type: Some(content_type(CONFIG_PATH).to_string()),
            headers: common_headers("no-cache"),
            fallback_for: vec![],
            aliased_by: vec![],
            encodings: vec![],
        },
    ];
    for (path, _) in embedded::FILES.iter().filter(|(p, _)| !is_variant(p)) {
        let encodings = [AssetEncoding::Brotli, AssetEncoding::Gzip]
            .into_iter()
            .map(AssetEncoding::default_config)
            .filter(|(_, ext)| embedded::FILES.iter().any(|(p, _)| *p == format!("{path}{ext}")))
            .collect();
        let index = *path == INDEX_PATH;
        let cache = if path.starts_with(HASHED_DIR) { "public, max-age=31536000, immutable" } else { "no-cache" };
        let mut headers = common_headers(cache);
        if path.ends_with(".html") {
            headers.push(("content-security-policy".to_string(), app_csp(init)));
        }
        out.push(AssetConfig::File {
            path: path.to_string(),
            content_type: Some(content_type(path).to_string()),
            headers,
            fallback_for: if index {
                vec![AssetFallbackConfig { scope: "/".to_string(), status_code: Some(StatusCode::OK) }]
            } else {
                vec![]
            },
            aliased_by: if index { vec!["/".to_string()] } else { vec![] },
            encodings,
        });
    }
    out
}

/// Certifies every asset; returns the root hash to publish as the
/// canister's certified data.
pub fn certify(init: &Settings) -> [u8; 32] {
    CERTIFIED.with_borrow_mut(|c| {
        let tree = Rc::new(RefCell::new(HttpCertificationTree::default()));
        let mut router = AssetRouter::with_tree(tree.clone());
        let mut assets = vec![Asset::new(NOT_FOUND_PATH, not_found_page()), Asset::new(CONFIG_PATH, app_config(init))];
        assets.extend(embedded::FILES.iter().map(|(p, bytes)| Asset::new(*p, *bytes)));
        let configs = configs(init);
        let (mut urls, mut scopes) = (vec![], vec![]);
        for config in &configs {
            if let AssetConfig::File { path, fallback_for, aliased_by, .. } = config {
                urls.push(format!("/{}", path.trim_start_matches('/')));
                urls.extend(aliased_by.iter().cloned());
                scopes.extend(fallback_for.iter().map(|f| f.scope.clone()));
            }
        }
        router.certify_assets(assets, configs).expect("the built-in assets certify");
        let heads = Heads::certify(&router, &mut tree.borrow_mut(), &urls, &scopes);
        let root = tree.borrow().root_hash();
        *c = Certified { tree, router, heads };
        root
    })
}

/// The certified response for `req` (a `GET`, or a `HEAD`; the routes
/// send no other method here).
pub fn serve(data_certificate: &[u8], req: &HttpRequest) -> HttpResponse<'static> {
    CERTIFIED.with_borrow(|c| {
        let result = if req.method().as_str().eq_ignore_ascii_case("HEAD") {
            req.get_path()
                .ok()
                .and_then(|path| c.heads.serve(&c.tree.borrow(), data_certificate, &path))
                .ok_or_else(|| "no HEAD answer certified for this path".to_string())
        } else {
            c.router.serve_asset(data_certificate, req).map_err(|e| e.to_string())
        };
        match result {
            Ok(r) => r,
            // Unreachable while the wildcard fallback exists: said plainly.
            Err(e) => HttpResponse::builder()
                .with_status_code(StatusCode::INTERNAL_SERVER_ERROR)
                .with_body(format!("no certified response: {e}").into_bytes())
                .build(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candid::Principal;

    fn init(local: Option<&str>) -> Settings {
        Settings { directory: Principal::from_slice(&[1; 10]), local_network: local.map(String::from) }
    }

    fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
        r.headers().iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    #[test]
    fn without_the_app_every_path_gets_the_certified_404_saying_so() {
        // Native builds embed no app (build.rs without DEPOT_WWW_DIST).
        assert!(!app_embedded());
        certify(&init(None));
        for path in ["/", "/index.html", "/s/abc", "/a/b/c?x=1"] {
            let req = HttpRequest::get(path).build();
            let r = serve(b"certificate", &req);
            assert_eq!(r.status_code(), StatusCode::NOT_FOUND, "{path}");
            let body = String::from_utf8_lossy(r.body());
            assert!(body.contains("Not found") && body.contains("built without the web app"));
            assert!(header(&r, "ic-certificate").is_some_and(|v| v.contains("certificate=:")), "{path}");
        }
    }

    #[test]
    fn config_names_the_directory_and_only_a_well_formed_local_network() {
        certify(&init(Some("http://localhost:4943")));
        let r = serve(b"certificate", &HttpRequest::get("/config.json").build());
        assert_eq!(r.status_code(), StatusCode::OK);
        let v: serde_json::Value = serde_json::from_slice(r.body()).expect("config.json is JSON");
        assert_eq!(v["directory"], Principal::from_slice(&[1; 10]).to_text());
        assert_eq!(v["local_network"], "http://localhost:4943");
        assert_eq!(header(&r, "cache-control"), Some("no-cache"));
        let hostile: serde_json::Value =
            serde_json::from_slice(&app_config(&init(Some("http://localhost:4943\",\"x\":\"")))).unwrap();
        assert_eq!(hostile["local_network"], serde_json::Value::Null);
    }

    #[test]
    fn the_csp_allows_the_local_network_or_mainnet_never_both() {
        let local = app_csp(&init(Some("http://127.0.0.1:8080")));
        assert!(
            local.contains("connect-src 'self' http://localhost:8080 http://127.0.0.1:8080 http://*.localhost:8080;")
        );
        assert!(local.contains("media-src http://*.localhost:8080 http://127.0.0.1:8080;"));
        assert!(!local.contains("icp0.io"));
        let main = app_csp(&init(None));
        assert!(main.contains(
            "connect-src 'self' https://icp-api.io https://icp0.io https://*.icp0.io https://ic0.app https://*.ic0.app;"
        ));
        assert!(main.contains("frame-src https://*.icp0.io https://*.ic0.app;"));
        assert!(!main.contains("localhost") && !main.contains("unsafe"));
        // A malformed local origin falls back to mainnet's policy, not to a hole.
        assert_eq!(app_csp(&init(Some("http://evil.com:1"))), main);
        for csp in [local, main] {
            assert!(csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"));
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("assets/index-abc.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    /// `HEAD` gets the `GET` answer's status and headers (its length too)
    /// and no body, certified for `HEAD` rather than with the `GET`'s
    /// request certification (devnet's verifying gateway checks the whole
    /// answer end to end: `tests/tests/e2e_webapp.rs`).
    #[test]
    fn head_answers_like_get_without_the_body() {
        certify(&init(Some("http://localhost:4943")));
        for path in ["/config.json", "/", "/s/abc", "/a/b/c?x=1"] {
            let get = serve(b"certificate", &HttpRequest::get(path).build());
            let head_req =
                HttpRequest::builder().with_method(ic_http_certification::Method::HEAD).with_url(path).build();
            let head = serve(b"certificate", &head_req);
            assert_eq!(head.status_code(), get.status_code(), "{path}");
            assert!(head.body().is_empty(), "{path}");
            assert_eq!(header(&head, "content-length"), Some(get.body().len().to_string().as_str()), "{path}");
            for name in ["content-type", "cache-control", "content-security-policy"] {
                assert_eq!(header(&head, name), header(&get, name), "{path}: {name}");
            }
            let expr = |r| header(r, "ic-certificateexpression").unwrap_or_default().to_string();
            assert!(expr(&head).contains("no_request_certification"), "{path}: {}", expr(&head));
            assert!(!expr(&get).contains("no_request_certification"), "GET stays request-certified");
            let cert = header(&head, "ic-certificate").unwrap_or_default();
            assert!(cert.contains("certificate=:") && cert.contains("expr_path=:"), "{path}: {cert}");
        }
    }
}
