//! Headless Chromium (Debian's `chromium`, driven by `playwright-core`)
//! uses Depot files the way web pages do, through devnet's verifying
//! gateway: an `<img>` of several chunks, an `<audio>` element that seeks
//! (the browser's own Range requests), a cross-origin `fetch` with and
//! without Range (CORS), and an attachment download with a non-ASCII name.
//!
//! `scripts/test.sh` installs Chromium; the npm package is installed on
//! first use from `tests/browser/package-lock.json`.

use depot_api::FileId;
use depot_api::directory::GetDownloadUrlReq;
use depot_api::limits::CHUNK_SIZE;
use depot_api::url::Disposition;
use depot_cli::client::Depot;
use depot_cli::upload::upload;
use depot_tests::browser::{ensure_browser, run_script};
use depot_tests::env::{DepotEnv, EnvOpts};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

const IMAGE_WIDTH: u32 = 1000;
const IMAGE_HEIGHT: u32 = 750;
const SAMPLE_RATE: u32 = 44_100;
const AUDIO_SECS: u32 = 80;
const SEEK_TO_SECS: f64 = 33.0;

/// A 24-bit BMP (uncompressed, bottom-up rows): needs no encoder.
fn bmp(width: u32, height: u32) -> Vec<u8> {
    let row = (width * 3).div_ceil(4) * 4;
    let pixels = row * height;
    let mut f = Vec::with_capacity(54 + pixels as usize);
    f.extend_from_slice(b"BM");
    f.extend_from_slice(&(54 + pixels).to_le_bytes());
    f.extend_from_slice(&[0; 4]);
    f.extend_from_slice(&54u32.to_le_bytes());
    f.extend_from_slice(&40u32.to_le_bytes());
    f.extend_from_slice(&width.to_le_bytes());
    f.extend_from_slice(&height.to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&24u16.to_le_bytes());
    f.extend_from_slice(&[0; 24]); // BI_RGB, sizes and palette left to defaults
    for y in 0..height {
        for x in 0..width {
            f.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]);
        }
        f.resize(f.len() + (row - width * 3) as usize, 0);
    }
    f
}

/// 16-bit mono PCM WAV of a 440 Hz tone.
fn wav(secs: u32) -> Vec<u8> {
    let samples = SAMPLE_RATE * secs;
    let data_len = samples * 2;
    let mut f = Vec::with_capacity(44 + data_len as usize);
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(36 + data_len).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes()); // PCM
    f.extend_from_slice(&1u16.to_le_bytes()); // mono
    f.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    f.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&16u16.to_le_bytes());
    f.extend_from_slice(b"data");
    f.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let t = i as f64 / SAMPLE_RATE as f64;
        let v = ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16;
        f.extend_from_slice(&v.to_le_bytes());
    }
    f
}

async fn put(client: &Depot, dir: &Path, name: &str, bytes: &[u8]) -> FileId {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let opts = depot_tests::clients::plain_upload(path);
    upload(client, &dir.join("cfg"), opts).await.unwrap().meta.file_id
}

async fn url(client: &Depot, file_id: FileId, disposition: Option<Disposition>) -> String {
    client.get_download_url(GetDownloadUrlReq { file_id, ttl_secs: None, disposition }).await.unwrap().url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_plays_fetches_and_downloads_depot_files() {
    ensure_browser();
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    let image = bmp(IMAGE_WIDTH, IMAGE_HEIGHT);
    let audio = wav(AUDIO_SECS);
    let data: Vec<u8> = (0..CHUNK_SIZE as usize + 100).map(|i| (i % 239) as u8).collect();
    let text = "Ceci est un rapport.\n".repeat(100);
    assert!(image.len() > CHUNK_SIZE as usize && audio.len() > 3 * CHUNK_SIZE as usize, "several chunks each");

    let ids = [
        put(&alice, dir.path(), "picture.bmp", &image).await,
        put(&alice, dir.path(), "tone.wav", &audio).await,
        put(&alice, dir.path(), "data.bin", &data).await,
        put(&alice, dir.path(), "rapport été.txt", text.as_bytes()).await,
    ];
    let input = serde_json::json!({
        "image": url(&alice, ids[0].clone(), None).await,
        "audio": url(&alice, ids[1].clone(), None).await,
        "seek_to": SEEK_TO_SECS,
        "fetch": url(&alice, ids[2].clone(), None).await,
        "download": url(&alice, ids[3].clone(), Some(Disposition::Attachment)).await,
    });

    let seen =
        tokio::task::spawn_blocking(move || run_script("observe.mjs", "DEPOT_BROWSER_CASE", &input)).await.unwrap();
    eprintln!("the browser saw: {seen:#}");

    // <img>: decoded at its size, so every byte of both chunks arrived.
    assert_eq!(seen["image"], serde_json::json!({"complete": true, "width": IMAGE_WIDTH, "height": IMAGE_HEIGHT}));

    // <audio preload=metadata>: the header read, then a seek that the
    // browser serves with a Range request of its own from near the seek
    // point: not chunk-aligned, answered with the certified chunk that
    // holds its first byte (a media element's request).
    let a = &seen["audio"];
    assert!(a.get("error").is_none(), "media error {a}");
    assert!((a["duration"].as_f64().unwrap() - AUDIO_SECS as f64).abs() < 0.01, "{a}");
    assert!((a["current_time"].as_f64().unwrap() - SEEK_TO_SECS).abs() < 0.01, "{a}");
    let key = ids[1].key().unwrap().to_hex();
    let audio_requests: Vec<&Value> =
        seen["requests"].as_array().unwrap().iter().filter(|r| r["url"].as_str().unwrap().contains(&key)).collect();
    let seek_offset = 44 + (SEEK_TO_SECS * (SAMPLE_RATE * 2) as f64) as u64;
    let seek_request = audio_requests.iter().find_map(|r| {
        let start = r["range"].as_str()?.strip_prefix("bytes=")?.split('-').next()?.parse::<u64>().ok()?;
        (start + CHUNK_SIZE as u64 > seek_offset && start <= seek_offset).then_some((start, r["status"].clone()))
    });
    let (start, status) =
        seek_request.unwrap_or_else(|| panic!("no Range request near byte {seek_offset}: {audio_requests:?}"));
    assert_eq!(status, 206);
    assert_ne!(start % CHUNK_SIZE as u64, 0, "the seek's range starts mid-chunk");

    // Cross-origin fetch (CORS), whole and ranged.
    let f = &seen["fetch"];
    assert_eq!((f["status"].as_u64(), f["length"].as_u64()), (Some(200), Some(data.len() as u64)), "{f}");
    assert_eq!(f["sha256"], hex::encode(Sha256::digest(&data)));
    assert_eq!(f["range_status"], 206);
    assert_eq!(f["range_bytes"], serde_json::json!(data[5..10]));

    // Attachment: saved under its own name (RFC 6266 filename*), intact.
    let d = &seen["download"];
    assert_eq!(d["suggested_name"], "rapport été.txt");
    assert_eq!(d["sha256"], hex::encode(Sha256::digest(text.as_bytes())));
}

/// A share link opened in a fresh browser context (no sign-in): the page
/// served by the gateway canister shows the file, its `<audio>` plays and
/// seeks (Range requests to the bucket, allowed by the page's CSP), the
/// Download button saves the exact bytes under the file's name, and the
/// browser reports no Content-Security-Policy violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_opens_a_share_page_plays_seeks_and_downloads() {
    ensure_browser();
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let alice = env.client(DepotEnv::identity(2)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audio = wav(AUDIO_SECS);
    let file_id = put(&alice, dir.path(), "tone été.wav", &audio).await;
    let req = depot_api::share::CreateShareReq { file_id, expires_in_secs: None, download_only: false, max_uses: None };
    let share = alice.create_share(req).await.unwrap();
    let input = serde_json::json!({"page": share.url.unwrap(), "seek_to": SEEK_TO_SECS});

    let seen = tokio::task::spawn_blocking(move || run_script("share.mjs", "DEPOT_SHARE_CASE", &input)).await.unwrap();
    eprintln!("the browser saw: {seen:#}");
    assert_eq!(seen["status"], 200);
    assert_eq!((seen["title"].as_str(), seen["heading"].as_str()), (Some("tone été.wav"), Some("tone été.wav")));
    let m = &seen["media"];
    assert!(m.get("error").is_none(), "media error {m}");
    assert!((m["duration"].as_f64().unwrap() - AUDIO_SECS as f64).abs() < 0.01, "{m}");
    assert!((m["current_time"].as_f64().unwrap() - SEEK_TO_SECS).abs() < 0.01, "{m}");
    let d = &seen["download"];
    assert_eq!(d["suggested_name"], "tone été.wav");
    assert_eq!(d["sha256"], hex::encode(Sha256::digest(&audio)));
    assert_eq!(seen["console_errors"], serde_json::json!([]), "no CSP violation or other error");
}
