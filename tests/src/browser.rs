//! Headless Chromium for the browser tests: Debian's `chromium` (installed
//! by `scripts/test.sh`) driven by the `playwright-core` npm package of
//! `tests/browser/`, installed on first use from its lock file; and the
//! other Node scripts there (DFINITY's JS ledger clients).

use std::path::{Path, PathBuf};
use std::process::Command;

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub fn browser_dir() -> PathBuf {
    crate::wasm::workspace_root().join("tests/browser")
}

/// Checks that Chromium is there and installs the npm packages.
pub fn ensure_browser() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: scripts/test.sh installs it (apt-get install chromium)"
    );
    ensure_node_packages();
}

/// The packages of `tests/browser/package.json` that the scripts import.
const NODE_PACKAGES: [&str; 4] = ["playwright-core", "@icp-sdk/core", "@icp-sdk/canisters", "axe-core"];

/// Runs `npm ci` once, when a package is missing; a file lock keeps
/// parallel test processes out of each other's way (`npm ci` empties
/// node_modules first).
pub fn ensure_node_packages() {
    let dir = browser_dir();
    let lock = std::fs::File::create(dir.join(".install.lock")).expect("lock file");
    lock.lock().expect("locking the npm install");
    if NODE_PACKAGES.iter().all(|p| dir.join("node_modules").join(p).exists()) {
        return;
    }
    let status =
        Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).status().expect("npm runs");
    assert!(status.success(), "npm ci in tests/browser failed: {status}");
}

/// Runs `script` (in `tests/browser/`) with its input as JSON in the
/// environment variable `var`; returns the one JSON line it prints.
pub fn run_script(script: &str, var: &str, input: &serde_json::Value) -> serde_json::Value {
    let output = Command::new("node")
        .arg(script)
        .current_dir(browser_dir())
        .env(var, input.to_string())
        .env("CHROMIUM", CHROMIUM)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{script} failed\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let seen: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("one JSON line");
    assert!(seen.get("error").is_none(), "the browser run failed: {}", seen["error"]);
    seen
}

/// An H.264 MP4 of `secs` seconds (ffmpeg's test pattern at 640x360, a
/// keyframe every second, 1.5 Mbit/s: about 190 kB a second) with its index
/// at the front (`+faststart`, as web video is published), written to
/// `dir/name`.
pub fn mp4(dir: &Path, name: &str, secs: u32) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=duration={secs}:size=640x360:rate=25"))
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-b:v", "1500k", "-pix_fmt", "yuv420p"])
        .args(["-movflags", "+faststart"])
        .arg(&path)
        .status()
        .expect("ffmpeg runs: scripts/test.sh installs it");
    assert!(status.success(), "ffmpeg failed: {status}");
    path
}

/// `run_script` for a script that asks the test for something mid-run: each
/// stdout line `{"ask": …}` is passed to `answer`, whose reply is written
/// back as one JSON line on the script's stdin; the last line is the result.
pub fn run_script_asking(
    script: &str,
    var: &str,
    input: &serde_json::Value,
    mut answer: impl FnMut(&serde_json::Value) -> serde_json::Value,
) -> serde_json::Value {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(browser_dir())
        .env(var, input.to_string())
        .env("CHROMIUM", CHROMIUM)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().expect("piped");
    let mut last = String::new();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line.expect("node's stdout");
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(v) if v.get("ask").is_some() => {
                writeln!(stdin, "{}", answer(&v)).expect("node's stdin");
            }
            _ => last = line,
        }
    }
    let status = child.wait().expect("node exits");
    assert!(status.success(), "{script} failed: {last}");
    let seen: serde_json::Value = serde_json::from_str(&last).expect("one JSON line");
    assert!(seen.get("error").is_none(), "the browser run failed: {}", seen["error"]);
    seen
}
