//! Depot's figures on devnet, not asserts:
//! `cargo run -p depot-tests --bin depot-bench` (the dev profile already
//! optimises wasmtime). Sections (code in `depot_tests::bench`):
//!
//! 1. bucket `put_chunk` per MiB beside a bare SHA-256 of the same bytes in
//!    the same canister (a bucket built with its `bench` feature);
//! 2. bucket `http_request` per certified chunk (206) and per whole small file (200),
//!    and instructions per served MiB on each serving path (plain GET, media
//!    seek, upgraded exact range, each streaming callback);
//! 3. directory `start_upload`, `commit_upload`, `list_files` and stable
//!    memory per file with 1,000 and 100,000 files stored (seeding takes minutes);
//! 4. MB/s of `depot upload` and of a verified gateway download, 256 MiB;
//! 5. the bucket's `post_upgrade` rebuild per file and per chunk;
//! 6. time to first byte of a seek (media query vs exact update) with
//!    devnet's update latency at 0 and 1,500 ms;
//! 7. billing: a paid `start_upload` against a free one, the
//!    storage-charging job per account (1,000 users; more with
//!    `DEPOT_BENCH_BILLING_USERS`), Depot's price per GiB-month beside the IC's;
//! 8. provisioning: cycles and instructions to create and install one
//!    bucket, devnet's time from an empty pool to a ready bucket, and
//!    `start_upload` with 10 and 1,000 buckets registered (a directory
//!    built with its `bench` feature);
//! 9. the web app: its assets' size (gzipped), the time from opening it
//!    to an interactive list, and a 100 MiB upload from headless Chromium
//!    beside the CLI's.

//!
//! `depot-bench 1 4` runs only the sections named (1 and 2 run together).

use anyhow::{Result, bail};
use depot_tests::bench;

const SECTIONS: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

fn main() -> Result<()> {
    let chosen: Vec<String> = std::env::args().skip(1).collect();
    if let Some(bad) = chosen.iter().find(|a| !SECTIONS.contains(&a.as_str())) {
        bail!("unknown section {bad:?}: choose among {SECTIONS:?} (none: all)");
    }
    let run = |s: &str| chosen.is_empty() || chosen.iter().any(|c| c == s);
    println!("Depot benchmark on devnet (instructions as devnet counts them)");
    // Sections 1 and 2 share one deployment.
    if run("1") || run("2") {
        bench::bucket::run()?;
    }
    if run("3") {
        bench::directory::run()?;
    }
    if run("4") {
        tokio::runtime::Runtime::new()?.block_on(bench::transfer::run())?;
    }
    if run("5") {
        bench::upgrade::run()?;
    }
    if run("6") {
        tokio::runtime::Runtime::new()?.block_on(bench::seek::run())?;
    }
    if run("7") {
        bench::billing::run()?;
    }
    if run("8") {
        bench::provisioning::run()?;
    }
    if run("9") {
        tokio::runtime::Runtime::new()?.block_on(bench::webapp::run())?;
    }
    Ok(())
}
