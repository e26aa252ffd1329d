//! The JS agent `@icp-sdk/core` (Node) makes update calls (sync and
//! polling) and signature-verified queries against a devnet server.
//! Runs `node --test` in `tests/js`, installing its packages on first use.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use depot_devnet::http::ApiConfig;
use support::wat_canister::start_devnet;
use support::{FakeIc, canister, start};

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Installs the JS packages if needed. `Err` = npm unusable (reported loudly).
fn ensure_node_modules() -> Result<(), String> {
    // Tests run in parallel, as threads (cargo test) or as processes
    // (nextest): only one may install, and none may run node meanwhile
    // (`npm ci` empties node_modules first). A file lock covers both.
    let dir = js_dir();
    let lock = std::fs::File::create(dir.join(".install.lock")).map_err(|e| format!("lock file: {e}"))?;
    lock.lock().map_err(|e| format!("locking the JS install: {e}"))?;
    if dir.join("node_modules/@icp-sdk/core").exists() {
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

fn npm_ready() -> bool {
    match ensure_node_modules() {
        Ok(()) => true,
        Err(why) => {
            eprintln!("\n!!!!!!!! SKIPPING the @icp-sdk/core test: {why} !!!!!!!!\n");
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_agent_against_wasm_canister() {
    if !npm_ready() {
        return;
    }
    let (_devnet, canister, server) = start_devnet().await;
    run_node_tests(server.url(), canister.to_text(), "echo_query").await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_agent_against_scripted_backend() {
    if !npm_ready() {
        return;
    }
    let server = start(Arc::new(Mutex::new(FakeIc::new())), ApiConfig::default()).await;
    run_node_tests(server.url(), canister().to_text(), "echo").await;
    server.stop().await.unwrap();
}
