//! Files with more chunks than a verifying gateway reassembles for one plain
//! GET (`VERIFIED_GET_MAX_CHUNKS`), and files above 1000 MiB.
//!
//! A plain GET of such a file ends after that many chunks, short of its
//! `Content-Length`, which clients report (curl exits 18); the CLI, range
//! requests and download managers read it whole. The CI test reaches the
//! limit with small chunks (64 KiB, 1003 of them); the ignored one uploads
//! a 1001 MiB file at the default chunk size:
//!
//!     cargo nextest run -p depot-tests --test e2e_large --run-ignored only

use depot_api::directory::{DirectoryInit, GetDownloadUrlReq};
use depot_api::limits::{MIN_CHUNK_SIZE, VERIFIED_GET_MAX_CHUNKS};
use depot_cli::client::Depot;
use depot_cli::download::{DownloadOpts, download_file};
use depot_cli::upload::upload;
use depot_tests::clients::{aria2c, run};
use depot_tests::env::{DepotEnv, EnvOpts};
use std::path::Path;

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2654435761) >> 11) as u8 ^ salt).collect()
}

async fn put_file(client: &Depot, dir: &Path, bytes: &[u8], name: &str) -> (depot_api::FileId, String) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let opts = depot_tests::clients::plain_upload(path);
    let out = upload(client, &dir.join("cfg"), opts).await.unwrap();
    let url = client
        .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id.clone(), ttl_secs: None, disposition: None })
        .await
        .unwrap();
    (out.meta.file_id, url.url)
}

/// The CLI's verified download of `file_id`, compared with `data`.
async fn cli_round_trip(client: &Depot, file_id: depot_api::FileId, out: &Path, data: &[u8]) {
    let (path, r) = download_file(client, file_id, Some(out), &DownloadOpts::default()).await.unwrap();
    assert_eq!((r.bytes, r.sha256_checked), (data.len() as u64, true));
    assert!(std::fs::read(&path).unwrap() == data, "CLI download differs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_past_the_gateways_chunk_limit_reads_whole_by_range_and_a_plain_get_ends_short() {
    let init = DirectoryInit { chunk_size: Some(MIN_CHUNK_SIZE), ..DirectoryInit::default() };
    let env = DepotEnv::start(EnvOpts { buckets: 1, directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let c = MIN_CHUNK_SIZE as usize;
    let limit = VERIFIED_GET_MAX_CHUNKS as usize;
    let size = (limit + 2) * c + 777;
    let data = pattern(size, 5);
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let (file_id, url) = put_file(&alice, src.path(), &data, "many-chunks.bin").await;

    // Plain GET: the gateway sends its `limit` verified chunks and ends the
    // body short of Content-Length; the HTTP server then drops the
    // connection (the last chunk may still sit unflushed in its buffer),
    // and curl says so (exit 18).
    let got = std::process::Command::new("curl").args(["-s", "-S", "-o", "-", &url]).output().unwrap();
    assert_eq!(got.status.code(), Some(18), "{}", String::from_utf8_lossy(&got.stderr));
    let n = got.stdout.len();
    assert!((limit - 1) * c <= n && n <= limit * c, "{n} bytes: the gateway's limit, give or take its last chunk");
    assert!(got.stdout[..] == data[..n], "what arrived is the file's start");

    // Ranges past the limit are exact: a whole chunk, one across chunk
    // boundaries from the last chunks, and a suffix.
    let r = |spec: &str| run("curl", &["-s", "-S", "-f", "-r", spec, &url]).stdout;
    let (a, b) = ((limit + 1) * c, (limit + 2) * c - 1);
    assert!(r(&format!("{a}-{b}")) == data[a..=b], "chunk {}", limit + 1);
    let (a, b) = (limit * c - 10, size - 5);
    assert!(r(&format!("{a}-{b}")) == data[a..=b], "across the last chunks");
    assert!(r("-1000") == data[size - 1000..], "suffix");
    // Resuming from past the limit reaches the end.
    let part = src.path().join("resumed.bin");
    std::fs::write(&part, &data[..limit * c + 123]).unwrap();
    run("curl", &["-s", "-S", "-f", "-C", "-", "-o", part.to_str().unwrap(), &url]);
    assert!(std::fs::read(&part).unwrap() == data, "curl -C - from past the limit");

    cli_round_trip(&alice, file_id, out.path(), &data).await;
    aria2c(&url, out.path(), "aria.bin");
    assert!(std::fs::read(out.path().join("aria.bin")).unwrap() == data, "aria2c -x 8");
}

/// Slow on devnet (~1 GiB through wasm SHA-256 and certification): run it
/// with the command in this file's header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn a_file_above_1000_mib_round_trips_through_the_cli_aria2c_and_curl() {
    let init = DirectoryInit { default_quota_bytes: Some(4 << 30), ..DirectoryInit::default() };
    let env = DepotEnv::start(EnvOpts { buckets: 1, directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let size = 1001 * 1024 * 1024 + 17;
    let data = pattern(size, 9);
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let started = std::time::Instant::now();
    let (file_id, url) = put_file(&alice, src.path(), &data, "large.bin").await;
    eprintln!("uploaded {size} bytes in {:.1?}", started.elapsed());
    cli_round_trip(&alice, file_id, out.path(), &data).await;
    aria2c(&url, out.path(), "aria.bin");
    assert!(std::fs::read(out.path().join("aria.bin")).unwrap() == data, "aria2c -x 8");
    // At the default chunk size a plain GET delivers it whole and verified.
    let plain = out.path().join("plain.bin");
    run("curl", &["-s", "-S", "-f", "-o", plain.to_str().unwrap(), &url]);
    assert!(std::fs::read(&plain).unwrap() == data, "plain GET");
    eprintln!("all done in {:.1?}", started.elapsed());
}
