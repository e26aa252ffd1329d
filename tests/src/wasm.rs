//! The canisters' release wasm, built once per checkout.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// `depot_<name>.wasm` from `target/wasm32-unknown-unknown/release`,
/// built there first when absent (`scripts/test.sh` builds it beforehand).
pub fn canister_wasm(name: &str) -> Result<Vec<u8>> {
    package_wasm(&format!("depot-{name}"))
}

/// The gzipped bucket wasm `scripts/build-wasm.sh` embedded in the
/// directory (built first when absent).
pub fn embedded_bucket_wasm() -> Result<Vec<u8>> {
    let path = target_dir().join("canisters/bucket-embedded.wasm.gz");
    if !path.exists() {
        build_all()?;
    }
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// A devnet test-only canister (`devnet/test-canisters/<name>`, package
/// `test-<name>`): the stand-in ledgers and the wallet.
pub fn test_canister_wasm(name: &str) -> Result<Vec<u8>> {
    package_wasm(&format!("test-{name}"))
}

fn package_wasm(package: &str) -> Result<Vec<u8>> {
    let file = format!("{}.wasm", package.replace('-', "_"));
    let path = target_dir().join("wasm32-unknown-unknown/release").join(file);
    if !path.exists() || std::env::var_os("DEPOT_REBUILD_WASM").is_some() {
        build_all()?;
    }
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// Where the `bench` variant of the bucket is built: its own target dir, so
/// it never replaces the release wasm that the tests and `depot-local` deploy.
pub fn bench_target_dir() -> PathBuf {
    target_dir().join("bench-wasm")
}

/// The bucket's release wasm with the `bench` feature (its extra
/// `bench_sha256` endpoint, for `depot-bench`), built in
/// [`bench_target_dir`]. Cargo runs every time: a no-op when up to date.
pub fn bench_bucket_wasm() -> Result<Vec<u8>> {
    bench_variant("depot-bucket")
}

/// The directory's release wasm with the `bench` feature
/// (`bench_add_buckets`), built in [`bench_target_dir`] without an embedded
/// bucket (the routing benchmark creates none).
pub fn bench_directory_wasm() -> Result<Vec<u8>> {
    bench_variant("depot-directory")
}

fn bench_variant(package: &str) -> Result<Vec<u8>> {
    let target = bench_target_dir();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("DEPOT_BUCKET_WASM_GZ")
        .args(["build", "--locked", "--release", "--target", "wasm32-unknown-unknown", "-p", package])
        .args(["--features", "bench"])
        .status()
        .with_context(|| format!("running cargo to build the bench {package} wasm"))?;
    if !status.success() {
        bail!("building {package} --features bench for wasm32 failed");
    }
    let path = target.join("wasm32-unknown-unknown/release").join(format!("{}.wasm", package.replace('-', "_")));
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// `scripts/build-wasm.sh`: the bucket, then the directory embedding it
/// (a directory built alone would embed no bucket), then the test canisters.
fn build_all() -> Result<()> {
    let status = Command::new("bash")
        .arg(workspace_root().join("scripts/build-wasm.sh"))
        .status()
        .context("running scripts/build-wasm.sh")?;
    if !status.success() {
        bail!("scripts/build-wasm.sh failed");
    }
    Ok(())
}
