//! Browsers on other origins (e.g. a frontend at `<id>.localhost:<port>` or
//! a dev server) may call the API: preflights pass and responses carry
//! `access-control-allow-origin`.

mod support;

use std::sync::{Arc, Mutex};

use depot_devnet::http::ApiConfig;
use support::fake_ic::{FakeIc, canister, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_and_simple_requests_allow_any_origin() {
    let server = start(Arc::new(Mutex::new(FakeIc::new())), ApiConfig::default()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v3/canister/{}/query", server.url(), canister());
    let preflight = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let h = preflight.headers();
    assert_eq!(h.get("access-control-allow-origin").unwrap(), "*");
    assert!(h.get("access-control-allow-headers").is_some());

    let status = client
        .get(format!("{}/api/v2/status", server.url()))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(status.headers().get("access-control-allow-origin").unwrap(), "*");
    server.stop().await.unwrap();
}
