//! The JS agent `@icp-sdk/core` makes update calls (sync and polling) and
//! signature-verified queries against a devnet server: under Node
//! (`node --test` in `tests/js`) and inside headless Chromium from a page
//! on another origin (`browser_agent.mjs`, bundled with esbuild). The JS
//! packages are installed on first use; Chromium by `scripts/test.sh`.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use depot_devnet::http::ApiConfig;
use support::fake_ic::{FakeIc, canister, start};
use support::wat_canister::start_devnet;

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Installs the JS packages if needed. `Err`: npm is missing or failed.
fn ensure_node_modules() -> Result<(), String> {
    // Tests run in parallel, as threads (cargo test) or as processes
    // (nextest): only one may install, and none may run node meanwhile
    // (`npm ci` empties node_modules first). A file lock covers both.
    let dir = js_dir();
    let lock = std::fs::File::create(dir.join(".install.lock")).map_err(|e| format!("lock file: {e}"))?;
    lock.lock().map_err(|e| format!("locking the JS install: {e}"))?;
    let installed = ["@icp-sdk/core", "esbuild", "playwright-core"];
    if installed.iter().all(|p| dir.join("node_modules").join(p).exists()) {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("npm ci failed with {status}")) }
}

/// Runs `node --test agent.test.js` against `url`; panics with its output on failure.
async fn run_node_tests(url: String, canister: String, query_method: &'static str) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "agent.test.js"])
            .current_dir(js_dir())
            .env("DEVNET_URL", url)
            .env("DEVNET_CANISTER", canister)
            .env("DEVNET_QUERY_METHOD", query_method)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "node --test failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("# pass 6"), "expected 6 passing JS tests:\n{stdout}");
}

/// Installs the JS packages or fails the test: a JS test that cannot run
/// is a failure, never a silent pass.
fn require_node_modules() {
    if let Err(why) = ensure_node_modules() {
        panic!(
            "the @icp-sdk/core tests cannot run: {why} (npm must be installed and `npm ci` must succeed in {})",
            js_dir().display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_agent_against_wasm_canister() {
    require_node_modules();
    let (_devnet, canister, server) = start_devnet().await;
    run_node_tests(server.url(), canister.to_text(), "echo_query").await;
    server.stop().await.unwrap();
}

/// The canister on a subnet other than the root: every certificate the JS
/// agent checks carries a delegation, and query signatures come from that
/// subnet's node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_agent_against_a_delegated_subnet() {
    use depot_devnet::{Devnet, DevnetConfig, InstallMode};
    require_node_modules();
    let mut devnet = Devnet::new(DevnetConfig { debug_print: false, subnets: 2, ..DevnetConfig::default() });
    let anonymous = candid::Principal::anonymous();
    let canister = devnet.create_canister_on_subnet(1, anonymous, 1_000_000_000_000_000).unwrap();
    devnet.install_code(anonymous, canister, &support::wat_canister::wasm(), &[], InstallMode::Install).unwrap();
    assert_ne!(devnet.subnet_of(canister), devnet.subnet_id());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server =
        depot_devnet::http::server::spawn(listener, Arc::new(Mutex::new(devnet)), ApiConfig::default()).await.unwrap();
    run_node_tests(server.url(), canister.to_text(), "echo_query").await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_agent_against_scripted_backend() {
    require_node_modules();
    let server = start(Arc::new(Mutex::new(FakeIc::new())), ApiConfig::default()).await;
    run_node_tests(server.url(), canister().to_text(), "echo").await;
    server.stop().await.unwrap();
}

const CHROMIUM: &str = "/usr/bin/chromium";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_agent_in_chromium_from_another_origin() {
    assert!(std::path::Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing: scripts/test.sh installs it");
    require_node_modules();
    let (_devnet, canister, server) = start_devnet().await;
    let (url, id) = (server.url(), canister.to_text());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("browser_agent.mjs")
            .current_dir(js_dir())
            .env("DEVNET_URL", url)
            .env("DEVNET_CANISTER", id)
            .env("DEVNET_QUERY_METHOD", "echo_query")
            .env("CHROMIUM", CHROMIUM)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "browser_agent.mjs failed\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let seen: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("one JSON line");
    assert!(seen.get("error").is_none(), "the browser run failed: {seen:#}");
    let hello = "68656c6c6f";
    assert_eq!(seen["root_key_len"], 133, "{seen:#}");
    assert_eq!(seen["secure_context"], true, "a page on *.localhost is a secure context");
    assert_eq!((&seen["sync"], &seen["polled"]), (&hello.into(), &hello.into()), "{seen:#}");
    assert_eq!((&seen["query_status"], &seen["query"]), (&"replied".into(), &hello.into()), "{seen:#}");
    server.stop().await.unwrap();
}
