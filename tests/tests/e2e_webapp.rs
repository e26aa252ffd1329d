//! The web app (`www/`), served by the gateway canister through devnet's
//! verifying gateway and used in headless Chromium as a person would
//! (`tests/browser/app.mjs`): sign in, upload three files at once, search,
//! preview and play a video, download, share (opened signed out, fetched
//! with `curl -L`, revoked), delete, and resume a large upload after a
//! reload. Screenshots land in `target/test-artifacts/webapp/`.

use candid::Principal;
use depot_api::directory::DirectoryInit;
use depot_api::limits::CHUNK_SIZE;
use depot_tests::browser::{ensure_browser, mp4, run_script, run_script_asking};
use depot_tests::env::{DepotEnv, EnvOpts};
use depot_tests::ledgers::{Ledgers, TOKEN_SYMBOL, accept_test_token, deploy_ledgers, fund_newcomer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const VIDEO_SECS: u32 = 30;
const SEEK_TO_SECS: f64 = 21.0;
/// Chunks of the file uploaded across a reload: enough that the reload
/// lands while chunks are still missing.
const BIG_CHUNKS: usize = 24;
/// Distinct byte values a screenshot's pixel rows must hold to count as not
/// blank (a one-colour screen has a handful).
const MIN_DISTINCT_BYTES: u64 = 64;
/// The signed-in user's quota: room for everything the test keeps, not for
/// `OVER_QUOTA_BYTES` more.
const QUOTA_BYTES: u64 = 100 << 20;
const OVER_QUOTA_BYTES: usize = 60 << 20;
/// A file name that is markup: the app must show it, never run it.
const HOSTILE_NAME: &str = "<img src=x onerror=\"alert(document.title='pwned')\">.html";

/// A one-page PDF saying "Hello PDF" (objects, cross-reference table and
/// trailer written out: no PDF library needed).
fn pdf() -> Vec<u8> {
    let stream = "BT /F1 24 Tf 40 100 Td (Hello PDF) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1));
    for o in offsets {
        out.push_str(&format!("{o:010} 00000 n \n"));
    }
    out.push_str(&format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1));
    out.into_bytes()
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/webapp");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_uses_the_web_app_from_sign_in_to_resumed_upload() {
    ensure_browser();
    let directory_init = DirectoryInit { default_quota_bytes: Some(QUOTA_BYTES), ..Default::default() };
    let env = DepotEnv::start(EnvOpts { buckets: 1, directory_init, ..EnvOpts::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let video = mp4(dir.path(), "clip été.mp4", VIDEO_SECS);
    let video_bytes = std::fs::read(&video).unwrap();
    assert!(video_bytes.len() > CHUNK_SIZE as usize, "the video spans chunks");
    let text_bytes = "Depot notes\n".repeat(500).into_bytes();
    let text = dir.path().join("notes-2024.txt");
    std::fs::write(&text, &text_bytes).unwrap();
    let image = dir.path().join("pixel.svg");
    std::fs::write(&image, b"<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'/>").unwrap();
    let doc = dir.path().join("doc.pdf");
    std::fs::write(&doc, pdf()).unwrap();
    let big_bytes: Vec<u8> = (0..BIG_CHUNKS * CHUNK_SIZE as usize).map(|i| (i * 31 % 251) as u8).collect();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, &big_bytes).unwrap();
    let cancel = dir.path().join("cancel.bin");
    std::fs::write(&cancel, &big_bytes).unwrap();
    let over_quota = dir.path().join("over-quota.bin");
    std::fs::write(&over_quota, vec![7u8; OVER_QUOTA_BYTES]).unwrap();

    let app = format!("http://{}.localhost:{}/", env.deployment.gateway, env.port());
    let input = json!({
        "app": app,
        "files": [video, text, image, doc],
        "image": "pixel.svg",
        "pdf": "doc.pdf",
        "video": "clip été.mp4",
        "text": "notes-2024.txt",
        "seek_to": SEEK_TO_SECS,
        "big": big,
        "cancel": cancel,
        "over_quota": over_quota,
        "hostile_name": HOSTILE_NAME,
        "shots": artefacts(),
    });
    let seen = tokio::task::spawn_blocking(move || run_script("app.mjs", "DEPOT_APP_CASE", &input)).await.unwrap();
    eprintln!("the browser saw: {seen:#}");
    eprintln!(
        "webapp: {} ms to the sign-in screen, {} ms from sign-in to an interactive list",
        seen["ms_to_sign_in"], seen["ms_to_list"]
    );

    // Served by the gateway, certified, under the app's CSP; no error at all.
    assert_eq!(seen["status"], 200);
    let csp = seen["csp"].as_str().unwrap();
    assert!(csp.contains("script-src 'self';") && csp.contains(&format!("http://*.localhost:{}", env.port())), "{csp}");
    assert_eq!(seen["console_errors"], json!([]), "no CSP violation or other error");

    // Four files picked at once, each with visible progress.
    let uploads = seen["uploads"].as_array().unwrap();
    assert_eq!(uploads.len(), 4);
    assert!(uploads.iter().all(|u| u["state"] == "done"), "{uploads:?}");
    let video_progress = &seen["progress"]["clip été.mp4"];
    assert_eq!(video_progress["max"], video_progress["max_of"], "the bar reached the end");
    assert_eq!(video_progress["rate_shown"], true, "bytes per second and time left were shown");
    let mut listed: Vec<&str> = seen["listed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    listed.sort();
    assert_eq!(listed, ["clip été.mp4", "doc.pdf", "notes-2024.txt", "pixel.svg"]);
    assert_eq!(seen["search"], json!(["notes-2024.txt"]), "search is by name, case-insensitive");

    // The image previews; the PDF opens in Chrome's viewer inside the panel
    // (not "blocked": the bucket's `sandbox` CSP does not stop it).
    assert_eq!(seen["image_width"], 8);
    assert_eq!(seen["pdf"]["viewer"], true, "{}", seen["pdf"]);
    assert!(seen["pdf"]["distinct"].as_u64().unwrap() >= MIN_DISTINCT_BYTES, "the PDF was drawn: {}", seen["pdf"]);

    // The video preview seeks, then plays on from there.
    let v = &seen["video"];
    assert!(v.get("error").is_none(), "video error {v}");
    assert!((v["duration"].as_f64().unwrap() - VIDEO_SECS as f64).abs() < 0.5, "{v}");
    assert!((v["seeked_to"].as_f64().unwrap() - SEEK_TO_SECS).abs() < 1.0, "{v}");
    assert!(v["played_to"].as_f64().unwrap() > v["seeked_to"].as_f64().unwrap(), "{v}");

    // The download is byte-exact, under the file's name.
    assert_eq!(seen["download"]["suggested_name"], "notes-2024.txt");
    assert_eq!(seen["download"]["sha256"], sha_hex(&text_bytes));

    // The share link works signed out and with curl -L, until revoked.
    assert_eq!(seen["focus_after_create"], "share-url", "focus moves to the new link");
    let row = seen["share_row"].as_str().unwrap();
    assert!(row.contains("clip été.mp4") && row.contains("of 3 times"), "the use limit is kept: {row}");
    let s = &seen["share"];
    assert!(s["url"].as_str().unwrap().contains("/s/") && s["raw_url"].as_str().unwrap().ends_with("/raw"), "{s}");
    assert_eq!(
        (s["page_status"].as_u64(), s["heading"].as_str(), s["has_video"].as_bool()),
        (Some(200), Some("clip été.mp4"), Some(true))
    );
    assert_eq!(s["download"]["sha256"], sha_hex(&video_bytes));
    assert_eq!(
        (s["curl"]["status"].as_u64(), s["curl"]["sha256"].as_str()),
        (Some(200), Some(sha_hex(&video_bytes).as_str()))
    );
    assert_eq!(s["page_status_after_revoke"], 404);
    assert_eq!(s["curl_after_revoke"]["status"], 404);

    // Delete removes the file (the list after a reload comes from the directory).
    let mut after: Vec<&str> =
        seen["listed_after_delete"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    after.sort();
    assert_eq!(after, ["clip été.mp4", "doc.pdf", "pixel.svg"]);

    // The reload interrupted the large upload; picking the file again resumed it.
    let before = &seen["big_before_reload"];
    let stored_chunks = before["max"].as_f64().unwrap() / CHUNK_SIZE as f64;
    assert!(stored_chunks >= 1.0 && stored_chunks < BIG_CHUNKS as f64, "reloaded mid-upload: {before}");
    let big_row = &seen["big"];
    assert_eq!(big_row["state"], "done", "{big_row}");
    let text = big_row["text"].as_str().unwrap();
    let resumed: f64 = text
        .split("Resumed: ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the second pick did not resume: {text}"));
    assert!(resumed >= stored_chunks.floor(), "every chunk stored before the reload was kept: {text}");
    // (The app itself refuses to call an upload done unless the bucket's
    // SHA-256 of the whole file equals the one it read.)
    assert!(seen["listed_at_end"].as_array().unwrap().contains(&json!("big.bin")));

    // Cancel ends the upload and frees what it held.
    assert_eq!(seen["cancelled"]["state"], "cancelled", "{}", seen["cancelled"]);
    assert!(!seen["usage_after_cancel"].as_str().unwrap().contains("in progress"));
    // Past the free tier: the price came first. Over the quota: the
    // directory's typed error, said with what to do.
    let price = seen["price"].as_str().unwrap();
    assert!(price.contains("60.0 MiB: this holds") && price.contains("credit does not cover"), "{price}");
    let over = &seen["over_quota"];
    assert_eq!(over["state"], "failed");
    assert!(
        over["text"].as_str().unwrap().contains("Not enough space")
            && over["text"].as_str().unwrap().contains("Delete files"),
        "{over}"
    );
    // A file dropped on the drop zone uploads like a picked one; its name,
    // markup, is shown as text, and its HTML previews as text.
    assert_eq!(seen["dropped"]["state"], "done", "{}", seen["dropped"]);
    let mut end: Vec<&str> = seen["listed_at_end"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    end.sort();
    assert_eq!(end, [HOSTILE_NAME, "big.bin", "clip été.mp4", "doc.pdf", "pixel.svg"]);
    assert_eq!(seen["hostile_preview"], "dropped on the zone\n");
    assert_eq!((seen.get("dialogs"), seen["title_after_hostile"].as_str()), (None, Some("Depot")));
    // The local sign-in key can sign but not be read.
    assert_eq!(seen["key_export"], "refused: InvalidAccessError");

    // Screens: kept as artefacts, none blank; no serious accessibility violation.
    for (name, shot) in seen["screens"].as_object().unwrap() {
        assert!(shot["distinct"].as_u64().unwrap() >= MIN_DISTINCT_BYTES, "screenshot {name} looks blank: {shot}");
    }
    for (screen, violations) in seen["axe"].as_object().unwrap() {
        assert_eq!(violations, &json!([]), "axe-core on {screen}");
    }
    assert_eq!(seen["phone_overflow"], false, "nothing wider than a 360 px screen");
}

/// Credit bought in the app: the new browser principal is funded on the test
/// ledgers, then deposits TUSD from the Account panel (an ICRC-2 approval,
/// then `deposit`), after a refused amount that is not a number and one
/// below the directory's minimum (its typed `BelowMinimum`, in words).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_buys_credit_with_a_token_from_the_web_app() {
    ensure_browser();
    let env = Arc::new(DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap());
    let admin = env.deployment.admin;
    let d = env.deployment.clone();
    let l: Ledgers = env
        .with_devnet(|dev| -> anyhow::Result<Ledgers> {
            let l = deploy_ledgers(dev, admin, admin, &[])?;
            accept_test_token(dev, &d, &l)?;
            Ok(l)
        })
        .unwrap();
    let app = format!("http://{}.localhost:{}/", env.deployment.gateway, env.port());
    let input = json!({"app": app, "token": TOKEN_SYMBOL, "amount": "5", "tiny": "0.000001", "shots": artefacts()});
    let funder = env.clone();
    let seen = tokio::task::spawn_blocking(move || {
        run_script_asking("deposit.mjs", "DEPOT_DEPOSIT_CASE", &input, |ask| {
            let p = Principal::from_text(ask["principal"].as_str().unwrap()).unwrap();
            funder.with_devnet(|dev| fund_newcomer(dev, admin, &l, p)).unwrap();
            json!({"funded": p.to_text()})
        })
    })
    .await
    .unwrap();
    eprintln!("the browser saw: {seen:#}");
    assert_eq!(seen["console_errors"], json!([]));
    let a = &seen["attempts"];
    assert!(a["not_a_number"]["error"].as_str().unwrap().starts_with("Write an amount of TUSD"), "{a}");
    assert!(a["below_minimum"]["error"].as_str().unwrap().starts_with("The least Depot accepts is"), "{a}");
    // 5 TUSD at 740,000 cycles per unit: 3.7 T cycles.
    assert_eq!(a["paid"]["error"], Value::Null, "{a}");
    assert!(a["paid"]["result"].as_str().unwrap().starts_with("Credited 3.7000 T cycles"), "{a}");
    assert_eq!(seen["credit"], "3.7000 T cycles");
    assert!(seen["screen"]["distinct"].as_u64().unwrap() >= MIN_DISTINCT_BYTES);
}

/// `curl -I` of the web app through devnet's verifying gateway: each
/// answer to `HEAD` is the `GET` answer's status and length, without the
/// body (the asset router certifies `GET` only; `gateway/src/head.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_heads_the_web_app_as_it_gets_it() {
    use depot_tests::clients::run;
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let app = format!("http://{}.localhost:{}", env.deployment.gateway, env.port());
    let index = run("curl", &["-s", "-S", &format!("{app}/")]).stdout;
    let index = String::from_utf8(index).unwrap();
    let script = index.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a script in index.html");
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    let paths = ["/", "/index.html", "/config.json", script, "/files/deep/link", "/assets/missing.js", "/s/nope"];
    for path in paths {
        let url = format!("{app}{path}");
        let get = run("curl", &["-s", "-S", "-o", body.to_str().unwrap(), "-w", "%{http_code}", &url]).stdout;
        let get_len = std::fs::metadata(&body).unwrap().len();
        let head = String::from_utf8(run("curl", &["-s", "-S", "-I", &url]).stdout).unwrap().to_ascii_lowercase();
        let status = head.split_whitespace().nth(1).unwrap_or_default();
        assert_eq!(status.as_bytes(), get.as_slice(), "{path}: HEAD {head}");
        assert!(
            head.contains(&format!("content-length: {get_len}\r\n")),
            "{path}: GET gave {get_len} bytes; HEAD {head}"
        );
        assert!(head.contains("ic-certificate:"), "{path}: {head}");
    }
}
