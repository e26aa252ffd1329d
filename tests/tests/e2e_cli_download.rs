//! `depot download` on devnet: every chunk comes from the bucket's
//! `http_request` query with the directory's signed URL and is checked by
//! response verification v2 before it is written; a tampered reply aborts
//! the download and leaves no file; hostile stored names stay inside the
//! target directory.

use depot_api::directory::{GetDownloadUrlReq, StartUploadReq};
use depot_api::limits::CHUNK_SIZE;
use depot_api::{DirectoryError, FileId};
use depot_cli::client::{CallError, Depot};
use depot_cli::download::{DownloadOpts, download, download_file};
use depot_cli::upload::{UploadOpts, upload};
use depot_cli::verify::{ChunkError, MAX_CERT_TIME_OFFSET_NS, Trust, verify_chunk_response};
use depot_devnet::Fault;
use depot_tests::env::{DepotEnv, EnvOpts};
use ic_http_certification::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

const C: usize = CHUNK_SIZE as usize;

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2654435761) >> 9) as u8 ^ salt).collect()
}

async fn put(client: &Depot, dir: &Path, name: &str, bytes: &[u8]) -> FileId {
    let path = dir.join(format!("src-{}", hex::encode(Sha256::digest(name.as_bytes()))));
    std::fs::write(&path, bytes).unwrap();
    let opts = UploadOpts {
        path,
        name: Some(name.into()),
        mime: None,
        parallel: 4,
        progress: false,
        stop_after: None,
        retention_days: None,
    };
    upload(client, &dir.join("cfg"), opts).await.unwrap().meta.file_id
}

/// Files in `dir` other than the upload sources.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("src-") && n != "cfg")
        .collect();
    v.sort();
    v
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_download_of_multi_and_single_chunk_files() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    for (size, chunks) in [(3 * C + 5, 4u32), (2 * C, 2), (C, 1), (100, 1)] {
        let data = pattern(size, size as u8);
        let name = format!("f{size}.bin");
        let fid = put(&alice, src.path(), &name, &data).await;
        let opts = DownloadOpts { parallel: 3, ..DownloadOpts::default() };
        let (path, r) = download_file(&alice, fid, Some(out.path()), &opts).await.unwrap();
        assert_eq!(path, out.path().join(&name));
        assert_eq!((r.bytes, r.chunks, r.sha256_checked), (size as u64, chunks, true), "size {size}");
        assert!(std::fs::read(&path).unwrap() == data, "size {size}: bytes differ");
    }
    let mut want: Vec<String> = [3 * C + 5, 2 * C, C, 100].iter().map(|s| format!("f{s}.bin")).collect();
    want.sort();
    assert_eq!(listing(out.path()), want, "no temporary file is left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_file_is_replaced_only_when_asked() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let src = tempfile::tempdir().unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let data = pattern(C + 1, 7);
    let fid = put(&alice, src.path(), "x.bin", &data).await;
    let target = src.path().join("existing.bin");
    std::fs::write(&target, b"keep me").unwrap();
    let e = download(&alice, fid.clone(), &target, &DownloadOpts::default()).await.unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e:#}");
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    let opts = DownloadOpts { overwrite: true, ..DownloadOpts::default() };
    download(&alice, fid, &target, &opts).await.unwrap();
    assert!(std::fs::read(&target).unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_reply_aborts_the_download_and_leaves_no_file() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let bucket = env.deployment.buckets[0];
    for (size, name) in [(2 * C + 1, "multi.bin"), (10, "single.bin")] {
        let data = pattern(size, 3);
        let fid = put(&alice, src.path(), name, &data).await;
        // A replica that flips one body byte of every http_request reply
        // (after execution, before signing: the reply signature is valid).
        env.with_devnet(|d| {
            d.inject_fault(Fault::TamperQueryReply { canister: bucket, method: "http_request".into() })
        });
        let e = download_file(&alice, fid.clone(), Some(out.path()), &DownloadOpts::default()).await.unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("response verification failed"), "{msg}");
        assert!(listing(out.path()).is_empty(), "nothing written: {:?}", listing(out.path()));
        env.with_devnet(|d| d.clear_faults());
        let (path, r) = download_file(&alice, fid, Some(out.path()), &DownloadOpts::default()).await.unwrap();
        assert!(std::fs::read(&path).unwrap() == data && r.sha256_checked);
        std::fs::remove_file(path).unwrap();
    }
}

/// The verifier on real certified responses captured from devnet, and on
/// copies altered one way each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_accepts_real_responses_and_refuses_altered_ones() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let src = tempfile::tempdir().unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let data = pattern(2 * C + 9, 5);
    let fid = put(&alice, src.path(), "v.bin", &data).await;
    let url = alice
        .get_download_url(GetDownloadUrlReq { file_id: fid.clone(), ttl_secs: None, disposition: None })
        .await
        .unwrap();
    let path = url.url[url.url.find("/f/").unwrap()..].to_string();
    let trust = Trust {
        bucket: url.bucket,
        root_key: alice.agent.read_root_key(),
        max_cert_time_offset_ns: MAX_CERT_TIME_OFFSET_NS,
    };
    // Closed ranges of one chunk each, as the CLI asks for them.
    let total = data.len();
    let request = |p: &str, start: usize| {
        let end = (start + C).min(total) - 1;
        HttpRequest::get(p.to_string())
            .with_headers(vec![("range".into(), format!("bytes={start}-{end}"))])
            .with_certificate_version(2)
            .build()
    };
    let fetch = |start: usize| {
        let req = request(&path, start);
        let alice = &alice;
        async move { alice.http_request(url.bucket, req).await.unwrap() }
    };
    let rebuild = |r: &HttpResponse<'static>, headers: Vec<(String, String)>, body: Vec<u8>| {
        HttpResponse::builder().with_status_code(r.status_code()).with_headers(headers).with_body(body).build()
    };

    // Genuine: chunk 1, verified, exactly its bytes.
    let chunk1 = fetch(C).await;
    let ok = verify_chunk_response(&trust, &request(&path, C), chunk1.clone(), now_ns(), C as u64).unwrap();
    assert_eq!((ok.start, ok.end, ok.total), (C as u64, 2 * C as u64 - 1, data.len() as u64));
    assert!(ok.bytes[..] == data[C..2 * C]);

    let refused = |r: Result<_, ChunkError>, what: &str| {
        assert!(matches!(r, Err(ChunkError::Unverified(_))), "{what}: {r:?}");
    };
    // One body byte flipped.
    let mut body = chunk1.body().to_vec();
    body[C / 2] ^= 0x01;
    let flipped = rebuild(&chunk1, chunk1.headers().to_vec(), body);
    refused(verify_chunk_response(&trust, &request(&path, C), flipped, now_ns(), C as u64), "flipped body byte");
    // A certified header changed (Content-Range moved back by one byte).
    let headers: Vec<(String, String)> = chunk1
        .headers()
        .iter()
        .map(|(k, v)| {
            let v = if k.eq_ignore_ascii_case("content-range") {
                v.replacen(&C.to_string(), &(C - 1).to_string(), 1)
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    let moved = rebuild(&chunk1, headers, chunk1.body().to_vec());
    refused(verify_chunk_response(&trust, &request(&path, C), moved, now_ns(), C as u64), "altered header");
    // No certificate at all.
    let bare: Vec<(String, String)> =
        chunk1.headers().iter().filter(|(k, _)| !k.eq_ignore_ascii_case("ic-certificate")).cloned().collect();
    let bare = rebuild(&chunk1, bare, chunk1.body().to_vec());
    refused(verify_chunk_response(&trust, &request(&path, C), bare, now_ns(), C as u64), "no certificate");
    // Checked as another bucket's answer.
    let other = Trust { bucket: candid::Principal::management_canister(), ..trust.clone() };
    refused(verify_chunk_response(&other, &request(&path, C), chunk1.clone(), now_ns(), C as u64), "other bucket");
    // A certificate far from the local clock (a replayed old answer).
    let later = now_ns() + 2 * MAX_CERT_TIME_OFFSET_NS;
    refused(verify_chunk_response(&trust, &request(&path, C), chunk1.clone(), later, C as u64), "stale");
    // The answer for this file, presented as the answer for another file.
    let key = fid.key().unwrap().to_hex();
    let other_path = path.replace(&key, &"ab".repeat(16));
    refused(verify_chunk_response(&trust, &request(&other_path, C), chunk1.clone(), now_ns(), C as u64), "other path");
    // Chunk 0's genuine certified answer given to a request for chunk 1:
    // certified, but the certified Content-Range is not the one asked for.
    let chunk0 = fetch(0).await;
    let r = verify_chunk_response(&trust, &request(&path, C), chunk0, now_ns(), C as u64);
    assert!(matches!(r, Err(ChunkError::WrongRange(_))), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_stored_names_stay_inside_the_target_directory() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let src = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();

    // Names that would climb out of a folder are refused by the directory
    // at upload (relative paths like `a/b` are names, see below).
    for name in ["../evil", "/abs", "a/../b", "a//b", "a/", "..", "C:\\x"] {
        let req = StartUploadReq { name: name.into(), mime: None, size_bytes: 10, sha256: None, retention_days: None };
        let r = alice.start_upload(req).await;
        assert!(matches!(r, Err(CallError::Directory(DirectoryError::InvalidRequest { .. }))), "{name:?}: {r:?}");
    }
    // Names it accepts (today; a stricter directory may refuse some, which
    // is fine) still never leave the target directory or hide the file.
    let data = pattern(10, 1);
    let mut want = vec![];
    for (stored, written) in [
        (".bashrc", "_bashrc"),
        ("..hidden", "__hidden"),
        ("evil\u{202e}gpj.exe", "evil_gpj.exe"),
        ("a:b", "a_b"),
        ("dir/sub/b.txt", "b.txt"),
    ] {
        let path = src.path().join(format!("src-{written}"));
        std::fs::write(&path, &data).unwrap();
        let opts = UploadOpts {
            path,
            name: Some(stored.into()),
            mime: None,
            parallel: 1,
            progress: false,
            stop_after: None,
            retention_days: None,
        };
        let fid = match upload(&alice, &src.path().join("cfg"), opts).await {
            Ok(out) => out.meta.file_id,
            Err(e) => {
                let refused = e
                    .downcast_ref::<CallError>()
                    .is_some_and(|c| matches!(c, CallError::Directory(DirectoryError::InvalidRequest { .. })));
                assert!(refused, "{stored:?}: {e:#}");
                continue;
            }
        };
        let (path, _) = download_file(&alice, fid, Some(&out), &DownloadOpts::default()).await.unwrap();
        assert_eq!(path, out.join(written), "{stored:?}");
        assert!(std::fs::read(&path).unwrap() == data);
        want.push(written.to_string());
    }
    assert!(want.contains(&"_bashrc".to_string()), "dot files are ordinary names: {want:?}");
    want.sort();
    assert_eq!(listing(&out), want);
    assert_eq!(listing(root.path()), vec!["out"], "nothing written beside the target directory");
}
