//! A 0-byte file, as people upload them (placeholders, `.gitkeep`, empty
//! logs): the CLI uploads it, the CLI downloads it, and curl fetches it
//! through devnet's verifying gateway as a certified empty 200, with HEAD,
//! ETag/304 and a 416 for any range.

use depot_api::directory::GetDownloadUrlReq;
use depot_cli::download::{DownloadOpts, download};
use depot_cli::upload::{UploadOpts, upload};
use depot_tests::env::{DepotEnv, EnvOpts};
use sha2::{Digest, Sha256};
use std::process::Command;

fn curl(args: &[&str]) -> (String, Vec<u8>) {
    let headers = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("curl")
        .args(["-s", "-S", "-D", headers.path().to_str().unwrap()])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (std::fs::read_to_string(headers.path()).unwrap().to_ascii_lowercase(), out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_file_uploads_and_downloads_with_the_cli_and_curl() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let path = dir.path().join(".gitkeep");
    std::fs::write(&path, b"").unwrap();
    let opts = UploadOpts {
        path,
        name: None,
        mime: None,
        parallel: 4,
        progress: true,
        stop_after: None,
        retention_days: None,
    };
    let out = upload(&alice, &dir.path().join("cfg"), opts).await.unwrap();
    assert_eq!((out.meta.size_bytes, out.meta.chunk_count, out.sent_chunks), (0, 0, 0));
    assert_eq!(out.meta.sha256.as_deref().map(|h| h.to_vec()), Some(Sha256::digest(b"").to_vec()));
    assert_eq!(alice.get_usage().await.unwrap().used_bytes, 0);

    let target = dir.path().join("back");
    download(&alice, out.meta.file_id.clone(), &target, &DownloadOpts::default()).await.unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"");

    let url = alice
        .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id, ttl_secs: None, disposition: None })
        .await
        .unwrap()
        .url;
    let (headers, body) = curl(&["-f", &url]);
    assert!(headers.starts_with("http/1.1 200"), "{headers}");
    assert!(headers.contains("\r\ncontent-length: 0\r\n"), "{headers}");
    assert!(body.is_empty());
    let etag = headers.lines().find_map(|l| l.strip_prefix("etag: ")).expect("an etag").trim().to_string();
    let (headers, _) = curl(&["-f", "-I", &url]);
    assert!(headers.starts_with("http/1.1 200") && headers.contains("\r\ncontent-length: 0\r\n"), "{headers}");
    let (headers, body) = curl(&["-H", &format!("If-None-Match: {etag}"), &url]);
    assert!(headers.starts_with("http/1.1 304"), "{headers}");
    assert!(body.is_empty());
    let (headers, _) = curl(&["-r", "0-", &url]);
    assert!(headers.starts_with("http/1.1 416") && headers.contains("\r\ncontent-range: bytes */0\r\n"), "{headers}");
}
