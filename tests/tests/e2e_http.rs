//! Upload with the CLI's code path (ic-agent, query signatures verified),
//! then fetch through devnet's HTTP gateway (ic-http-gateway-protocol with
//! response verification) and with the real curl binary.

use depot_api::directory::GetDownloadUrlReq;
use depot_api::limits::CHUNK_SIZE;
use depot_cli::upload::{UploadOpts, upload};
use depot_tests::env::{DepotEnv, EnvOpts};
use std::path::Path;

const C: usize = CHUNK_SIZE as usize;

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2654435761) >> 13) as u8 ^ salt).collect()
}

async fn put_file(env: &DepotEnv, dir: &Path, user: u8, bytes: &[u8], name: &str) -> (depot_api::FileId, String) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let client = env.client(DepotEnv::identity(user)).await.unwrap();
    let cfg = dir.join(format!("cfg{user}"));
    let opts = UploadOpts { path, name: None, mime: None, parallel: 4, progress: false, stop_after: None };
    let out = upload(&client, &cfg, opts).await.unwrap();
    let url = client
        .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id.clone(), ttl_secs: None, disposition: None })
        .await
        .unwrap();
    (out.meta.file_id, url.url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_at_every_size_edge_round_trip_through_the_gateway() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let http = env.http();
    for (i, size) in [1usize, C - 1, C, C + 1, 3 * C + 7].into_iter().enumerate() {
        let data = pattern(size, i as u8);
        let (_, url) = put_file(&env, dir.path(), 1, &data, &format!("f{i}.bin")).await;
        let resp = http.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "size {size}: {url}");
        assert_eq!(resp.headers()["content-length"], size.to_string().as_str());
        let body = resp.bytes().await.unwrap();
        assert_eq!(body.len(), size);
        assert!(body[..] == data[..], "size {size}: bytes differ");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_conditionals_and_refusals() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let http = env.http();
    let size = 2 * C + 100;
    let data = pattern(size, 9);
    let (file_id, url) = put_file(&env, dir.path(), 1, &data, "video.mp4").await;

    let get = |range: Option<&str>| {
        let mut r = http.get(&url);
        if let Some(range) = range {
            r = r.header("Range", range);
        }
        r.send()
    };
    // Range at the start (a whole chunk: certified query)
    let r = get(Some("bytes=0-")).await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 0-{}/{size}", C - 1).as_str());
    assert!(r.bytes().await.unwrap()[..] == data[..C]);
    // Unaligned middle (exact, through http_request_update)
    let r = get(Some("bytes=1000-2999")).await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 1000-2999/{size}").as_str());
    assert!(r.bytes().await.unwrap()[..] == data[1000..3000]);
    // Suffix
    let r = get(Some("bytes=-50")).await.unwrap();
    assert_eq!(r.status(), 206);
    assert!(r.bytes().await.unwrap()[..] == data[size - 50..]);
    // Open-ended on a chunk boundary
    let r = get(Some(&format!("bytes={}-", C))).await.unwrap();
    assert_eq!(r.status(), 206);
    assert!(r.bytes().await.unwrap()[..] == data[C..2 * C]);
    // Beyond the end
    let r = get(Some(&format!("bytes={size}-"))).await.unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], format!("bytes */{size}").as_str());

    // HEAD
    let r = http.head(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], size.to_string().as_str());
    // ETag / If-None-Match
    let etag = get(None).await.unwrap().headers()["etag"].to_str().unwrap().to_string();
    let r = http.get(&url).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);

    // Altered signature
    let altered = url.replacen("sig=", "sig=AA", 1);
    assert_eq!(http.get(&altered).send().await.unwrap().status(), 403);
    // The same URL on the other bucket
    let (b0, b1) = (env.deployment.buckets[0].to_text(), env.deployment.buckets[1].to_text());
    let other = if url.contains(&b0) { url.replace(&b0, &b1) } else { url.replace(&b1, &b0) };
    assert_eq!(http.get(&other).send().await.unwrap().status(), 403);
    // Unknown file, valid shape
    let unknown = format!("http://{b0}.localhost:{}/f/{}?exp=1&kid=1&sig=AA", env.port(), "00".repeat(16));
    assert_eq!(http.get(&unknown).send().await.unwrap().status(), 403);
    let nothing = format!("http://{b0}.localhost:{}/nothing-here", env.port());
    assert_eq!(http.get(&nothing).send().await.unwrap().status(), 404);
    // Expired: a one-second URL, once that second has passed. (Moving
    // devnet's clock instead would put certificates in the future, which
    // the gateway rightly refuses.)
    let client = env.client(DepotEnv::identity(1)).await.unwrap();
    let short = client
        .get_download_url(GetDownloadUrlReq { file_id: file_id.clone(), ttl_secs: Some(1), disposition: None })
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(http.get(&short.url).send().await.unwrap().status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_gets_ranges_and_resumes() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let size = 2 * C + 321;
    let data = pattern(size, 3);
    let (_, url) = put_file(&env, dir.path(), 1, &data, "big.bin").await;
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl").args(["-s", "-S", "-f"]).args(args).output().unwrap();
        assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    assert!(curl(&[&url]) == data, "plain GET");
    assert!(curl(&["-r", "100-200", &url])[..] == data[100..=200], "curl -r");
    // curl -C - after a partial download: exact bytes from the offset to the
    // end of that chunk, then again from the chunk boundary (docs/storage.md).
    let out = dir.path().join("partial.bin");
    std::fs::write(&out, &data[..5000]).unwrap();
    let out_s = out.to_str().unwrap();
    for _ in 0..4 {
        if std::fs::metadata(&out).unwrap().len() as usize == size {
            break;
        }
        curl(&["-C", "-", "-o", out_s, &url]);
    }
    assert!(std::fs::read(&out).unwrap() == data, "curl -C - resumed to the whole file");
}
