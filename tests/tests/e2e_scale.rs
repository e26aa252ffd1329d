//! A large file, several clients at once across buckets, and a tampered
//! reply that the verifying gateway must refuse.

use depot_api::directory::GetDownloadUrlReq;
use depot_cli::upload::{UploadOpts, upload};
use depot_devnet::Fault;
use depot_tests::env::{DepotEnv, EnvOpts};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2654435761) >> 9) as u8 ^ salt).collect()
}

fn opts(path: std::path::PathBuf) -> UploadOpts {
    UploadOpts { path, name: None, mime: None, parallel: 4, progress: false, stop_after: None, retention_days: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_file_round_trips_byte_exact() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(50 * 1000 * 1000 + 3, 7);
    let path = dir.path().join("large.bin");
    std::fs::write(&path, &data).unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let out = upload(&alice, &dir.path().join("cfg"), opts(path)).await.unwrap();
    assert_eq!(out.meta.sha256.as_deref().map(|h| h.to_vec()), Some(Sha256::digest(&data).to_vec()));
    // Through the verifying gateway: one GET, reassembled from certified 206s.
    let url = alice
        .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id.clone(), ttl_secs: None, disposition: None })
        .await
        .unwrap();
    let body = env.http().get(&url.url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(body.len(), data.len());
    assert!(body[..] == data[..]);
    // And through the CLI's download path (each chunk verified against the
    // certified data, then the SHA-256).
    let dl = dir.path().join("back.bin");
    let opts = depot_cli::download::DownloadOpts::default();
    let r = depot_cli::download::download(&alice, out.meta.file_id, &dl, &opts).await.unwrap();
    assert!(r.sha256_checked);
    assert!(std::fs::read(&dl).unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_clients_upload_at_once_across_buckets() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut jobs = vec![];
    for user in 1..=3u8 {
        for f in 0..2u8 {
            let data = pattern(1_500_000 + user as usize * 1000 + f as usize, user * 16 + f);
            let path = dir.path().join(format!("u{user}f{f}.bin"));
            std::fs::write(&path, &data).unwrap();
            let client = env.client(DepotEnv::identity(user)).await.unwrap();
            let cfg = dir.path().join(format!("cfg{user}"));
            jobs.push(async move {
                let out = upload(&client, &cfg, opts(path)).await.unwrap();
                (client, out, data)
            });
        }
    }
    let results = futures::future::join_all(jobs).await;
    let buckets: BTreeSet<_> = results.iter().map(|(_, out, _)| out.meta.bucket).collect();
    assert_eq!(buckets.len(), 2, "files spread over both buckets");
    for (client, out, data) in results {
        let plan = client.get_download_plan(out.meta.file_id.clone()).await.unwrap();
        let mut back = vec![];
        for i in 0..plan.chunk_count {
            back.extend(client.get_chunk(out.meta.bucket, out.meta.file_id.clone(), i).await.unwrap());
        }
        assert!(back == data);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refuses_a_tampered_reply() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.txt");
    std::fs::write(&path, b"certified bytes").unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let out = upload(&alice, &dir.path().join("cfg"), opts(path)).await.unwrap();
    let url = alice
        .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id.clone(), ttl_secs: None, disposition: None })
        .await
        .unwrap();
    let http = env.http();
    assert_eq!(http.get(&url.url).send().await.unwrap().status(), 200);
    let bucket = out.meta.bucket;
    env.with_devnet(|d| d.inject_fault(Fault::TamperQueryReply { canister: bucket, method: "http_request".into() }));
    let r = http.get(&url.url).send().await.unwrap();
    assert_eq!(r.status(), 500, "a reply that does not match its certificate never reaches the client");
    let body = String::from_utf8_lossy(&r.bytes().await.unwrap()).to_string();
    assert!(body.contains("verification failed"), "{body}");
    env.with_devnet(|d| d.clear_faults());
    assert_eq!(http.get(&url.url).send().await.unwrap().status(), 200);
}
