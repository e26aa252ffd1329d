//! Upload with the CLI's code path (ic-agent, query signatures verified),
//! then fetch through devnet's HTTP gateway (ic-http-gateway-protocol with
//! response verification) and with the real curl binary.

use depot_api::directory::GetDownloadUrlReq;
use depot_api::limits::CHUNK_SIZE;
use depot_cli::upload::upload;
use depot_tests::clients::{aria2c, loopback_url, run};
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
    let opts = depot_tests::clients::plain_upload(path);
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
    let range = |r: &str| get(Some(r));
    let exact = |status: u16, first: usize, last: usize| {
        let data = &data;
        move |r: reqwest::Response| async move {
            assert_eq!(r.status(), status);
            assert_eq!(r.headers()["content-range"], format!("bytes {first}-{last}/{size}").as_str());
            assert_eq!(r.headers()["content-length"], (last - first + 1).to_string().as_str());
            assert!(r.bytes().await.unwrap()[..] == data[first..=last], "bytes {first}-{last}");
        }
    };
    // From the start to the end: the whole file (an upgraded update call,
    // then streaming callbacks).
    exact(206, 0, size - 1)(range("bytes=0-").await.unwrap()).await;
    // Exactly one chunk: its certified answer, from the query.
    exact(206, 0, C - 1)(range(&format!("bytes=0-{}", C - 1)).await.unwrap()).await;
    exact(206, C, 2 * C - 1)(range(&format!("bytes={C}-{}", 2 * C - 1)).await.unwrap()).await;
    // Unaligned, inside one chunk and across a boundary.
    exact(206, 1000, 2999)(range("bytes=1000-2999").await.unwrap()).await;
    exact(206, C - 10, C + 10)(range(&format!("bytes={}-{}", C - 10, C + 10)).await.unwrap()).await;
    // Open-ended from inside a chunk: everything to the end.
    exact(206, C + 5, size - 1)(range(&format!("bytes={}-", C + 5)).await.unwrap()).await;
    // Suffix.
    exact(206, size - 50, size - 1)(range("bytes=-50").await.unwrap()).await;
    // Past the end of the file: clipped to it (RFC 9110 §14.1.2).
    exact(206, 2 * C, size - 1)(range(&format!("bytes={}-{}", 2 * C, 10 * C)).await.unwrap()).await;
    // `bytes=<chunk start>-` past chunk 0, byte for byte the gateway's own
    // request for the next chunk of a plain GET, is exact to the end too
    // (docs/storage.md §4, the one ambiguous request).
    exact(206, C, size - 1)(range(&format!("bytes={C}-")).await.unwrap()).await;
    // Several ranges: multipart/byteranges, each part exact.
    let r = range(&format!("bytes=0-9,{}-{}", C - 5, C + 5)).await.unwrap();
    assert_eq!(r.status(), 206);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let boundary = ct.strip_prefix("multipart/byteranges; boundary=").expect("multipart content type").to_string();
    let body = r.bytes().await.unwrap();
    let mut expected = Vec::new();
    for (a, b) in [(0, 9), (C - 5, C + 5)] {
        expected.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        expected.extend_from_slice(b"content-type: video/mp4\r\n");
        expected.extend_from_slice(format!("content-range: bytes {a}-{b}/{size}\r\n\r\n").as_bytes());
        expected.extend_from_slice(&data[a..=b]);
    }
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(String::from_utf8_lossy(&body), String::from_utf8_lossy(&expected), "multipart body");
    // Beyond the end
    let r = get(Some(&format!("bytes={size}-"))).await.unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], format!("bytes */{size}").as_str());

    // What shared caches are told: nothing may be served from a cache
    // without asking the bucket, which checks the URL's expiry and that the
    // file still exists (docs/storage.md §4, caching).
    let plain = get(None).await.unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["cache-control"], "private, no-cache");
    let etag = plain.headers()["etag"].to_str().unwrap().to_string();
    assert!(plain.bytes().await.unwrap()[..] == data[..], "plain GET");
    let r = range(&format!("bytes=0-{}", C - 1)).await.unwrap();
    assert_eq!(r.headers()["cache-control"], "private, no-cache");
    let r = range("bytes=1000-2999").await.unwrap();
    assert_eq!(r.headers()["cache-control"], "private, no-cache");
    let r = http.get(&url).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()["cache-control"], "private, no-cache");

    // HEAD
    let r = http.head(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], size.to_string().as_str());

    // Altered signature
    let altered = url.replacen("sig=", "sig=AA", 1);
    assert_eq!(http.get(&altered).send().await.unwrap().status(), 403);
    // The bucket holds its key ring, so the URL carries the bucket's MAC
    // (32 bytes, 43 base64url characters); one character changed at the
    // same length is refused too.
    let sig = url.split("sig=").nth(1).unwrap().split('&').next().unwrap().to_string();
    assert_eq!(sig.len(), 43, "{url}");
    let flipped = format!("{}{}", if sig.starts_with('A') { "B" } else { "A" }, &sig[1..]);
    assert_eq!(http.get(url.replace(&sig, &flipped)).send().await.unwrap().status(), 403);
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
async fn curl_and_wget_resume_once_to_the_end() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let small = pattern(3 * C + 7, 3);
    let (_, small_url) = put_file(&env, dir.path(), 1, &small, "small.bin").await;
    let big = pattern(11 * C + 4321, 4);
    let (_, big_url) = put_file(&env, dir.path(), 1, &big, "big.bin").await;

    assert!(run("curl", &["-s", "-S", "-f", &small_url]).stdout == small, "plain GET");
    // One `curl -C -` and one `wget -c` each, from a partial copy of
    // `offset` bytes: the file must be whole and exact afterwards.
    // Offsets on chunk boundaries are where downloads that broke between
    // two of the gateway's chunk fetches resume.
    let cases: [(&[u8], &str, usize); 9] = [
        (&small, &small_url, 5000),
        (&small, &small_url, C),
        (&small, &small_url, 2 * C),
        (&big, &big_url, 4 * C),
        (&small, &small_url, C + 12345),
        (&small, &small_url, 2 * C - 1),
        (&small, &small_url, 3 * C + 3),
        (&big, &big_url, 5 * C / 2 + 17),
        (&big, &big_url, 17),
    ];
    for (i, (data, url, offset)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("curl{i}.bin"));
        std::fs::write(&out, &data[..offset]).unwrap();
        run("curl", &["-s", "-S", "-f", "-C", "-", "-o", out.to_str().unwrap(), url]);
        assert!(std::fs::read(&out).unwrap() == data, "curl -C - from {offset} of {}", data.len());

        let out = dir.path().join(format!("wget{i}.bin"));
        std::fs::write(&out, &data[..offset]).unwrap();
        run("wget", &["-q", "-c", "-O", out.to_str().unwrap(), &loopback_url(url)]);
        assert!(std::fs::read(&out).unwrap() == data, "wget -c from {offset} of {}", data.len());
    }
    // curl -r: exact bytes, aligned or not, suffix, several ranges.
    let r = |spec: &str| run("curl", &["-s", "-S", "-f", "-r", spec, &big_url]).stdout;
    assert!(r("100-200")[..] == big[100..=200], "unaligned");
    assert!(r(&format!("{}-{}", 3 * C, 4 * C - 1))[..] == big[3 * C..4 * C], "one chunk");
    assert!(r(&format!("{}-{}", C - 7, 4 * C + 7))[..] == big[C - 7..=4 * C + 7], "spanning four chunks");
    assert!(r("-100")[..] == big[big.len() - 100..], "suffix");
    let multi = r(&format!("0-4,{}-{}", 7 * C, 7 * C + 4));
    for (a, b) in [(0, 4), (7 * C, 7 * C + 4)] {
        let part = format!("content-range: bytes {a}-{b}/{}\r\n\r\n", big.len());
        let at = multi.windows(part.len()).position(|w| w == part.as_bytes()).expect("part header");
        assert!(multi[at + part.len()..at + part.len() + 5] == big[a..=b], "part {a}-{b}");
    }

    // aria2c with 8 connections (its pieces are not chunk-aligned).
    aria2c(&big_url, dir.path(), "aria.bin");
    assert!(std::fs::read(dir.path().join("aria.bin")).unwrap() == big, "aria2c -x 8");
}
