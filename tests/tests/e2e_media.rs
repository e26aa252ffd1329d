//! A `<video>` in headless Chromium seeks through a multi-chunk MP4 served
//! by a bucket through devnet's verifying gateway. Media elements get the
//! certified chunk that holds the first byte they ask for (docs/storage.md
//! §4), from the query: no update call, so no consensus round per seek on
//! mainnet. devnet's call counters prove it.

use depot_api::directory::GetDownloadUrlReq;
use depot_api::limits::CHUNK_SIZE;
use depot_cli::upload::upload;
use depot_devnet::CallKind;
use depot_tests::browser::{ensure_browser, mp4, run_script};
use depot_tests::env::{DepotEnv, EnvOpts};

const VIDEO_SECS: u32 = 60;
const SEEKS: [f64; 4] = [45.0, 12.0, 58.5, 30.2];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_seeks_with_certified_chunks_and_no_update_call() {
    ensure_browser();
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = mp4(dir.path(), "clip.mp4", VIDEO_SECS);
    let size = std::fs::metadata(&path).unwrap().len();
    let chunk = CHUNK_SIZE as u64;
    assert!(size > 4 * chunk, "several chunks: {size} bytes");
    let opts = depot_tests::clients::plain_upload(path);
    let file_id = upload(&alice, &dir.path().join("cfg"), opts).await.unwrap().meta.file_id;
    let url = alice.get_download_url(GetDownloadUrlReq { file_id, ttl_secs: None, disposition: None }).await.unwrap();

    env.with_devnet(|d| d.reset_call_counts());
    let input = serde_json::json!({ "video": url.url, "seeks": SEEKS });
    let seen = tokio::task::spawn_blocking(move || run_script("seek.mjs", "DEPOT_MEDIA_CASE", &input)).await.unwrap();
    eprintln!("the browser saw: {seen:#}");

    assert!((seen["duration"].as_f64().unwrap() - VIDEO_SECS as f64).abs() < 0.1, "duration {}", seen["duration"]);
    for (s, to) in seen["seeks"].as_array().unwrap().iter().zip(SEEKS) {
        assert!(s.get("error").is_none(), "seek to {to}: {s}");
        assert!((s["current_time"].as_f64().unwrap() - to).abs() < 0.01, "seek to {to}: {s}");
        assert!(s["ready_state"].as_u64().unwrap() >= 2, "a frame to show at {to}: {s}");
    }
    // Every answer to the video's requests is a certified chunk: a 206 that
    // starts on a chunk boundary and ends at that chunk's end. An exact
    // answer to the browser's unaligned ranges would have needed an update
    // call (`http_request_update`).
    let requests = seen["requests"].as_array().unwrap();
    assert!(requests.len() > SEEKS.len(), "the browser fetched as it seeked: {requests:?}");
    let mut unaligned_asks = 0;
    for r in requests {
        assert_eq!(r["dest"], "video", "{r}");
        assert_eq!(r["status"], 206, "{r}");
        let range = r["content_range"].as_str().unwrap().strip_prefix("bytes ").unwrap();
        let (span, total) = range.split_once('/').unwrap();
        let (a, b) = span.split_once('-').unwrap();
        let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
        assert_eq!(total, size.to_string(), "{r}");
        assert_eq!(a % chunk, 0, "answer starts on a chunk boundary: {r}");
        assert_eq!(b, (a + chunk).min(size) - 1, "answer is that whole chunk: {r}");
        let asked: u64 =
            r["range"].as_str().unwrap().strip_prefix("bytes=").unwrap().split('-').next().unwrap().parse().unwrap();
        assert!(a <= asked && asked <= b, "the chunk holds the first byte asked for: {r}");
        unaligned_asks += usize::from(!asked.is_multiple_of(chunk));
    }
    assert!(unaligned_asks > 0, "the browser asked for unaligned ranges: {requests:?}");
    // devnet's counters: the bucket answered queries only.
    let (bucket, counts) = (url.bucket, env.with_devnet(|d| d.call_counts()));
    let count = |method: &str, kind| env.with_devnet(|d| d.call_count(bucket, method, kind));
    assert_eq!(count("http_request_update", CallKind::Update), 0, "{counts:?}");
    assert_eq!(count("http_request_streaming_callback", CallKind::Query), 0, "{counts:?}");
    // At least one query per response seen (a media element also aborts
    // requests when it seeks, whose responses the page never sees).
    assert!(count("http_request", CallKind::Query) >= requests.len() as u64, "{counts:?}");
}
