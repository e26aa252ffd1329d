//! Share links on devnet, through the IC's HTTP interface as real clients
//! call it: the owner shares with the CLI's client, a stranger (anonymous,
//! no identity at all) resolves the share to a signed URL, and curl fetches
//! the exact bytes through devnet's verifying gateway. Revoked, spent and
//! junk ids are refused.

use candid::Encode;
use depot_api::directory::DirectoryInit;
use depot_api::share::{CreateShareReq, ShareError};
use depot_cli::client::{CallError, Depot};
use depot_tests::clients::plain_upload;
use depot_tests::env::{DepotEnv, EnvOpts};
use ic_agent::identity::AnonymousIdentity;
use std::sync::Arc;

const TEMPLATE: &str = "http://gateway.localhost:4943/s/{share}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_opens_a_share_and_gets_the_exact_bytes_until_it_is_revoked() {
    let init = DirectoryInit { share_url_template: Some(TEMPLATE.into()), ..DirectoryInit::default() };
    let env = DepotEnv::start(EnvOpts { buckets: 1, directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("poster.png");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let alice = env.client(DepotEnv::identity(31)).await.unwrap();
    let meta = depot_cli::upload::upload(&alice, &tmp.path().join("cfg"), plain_upload(path)).await.unwrap().meta;

    let req = |max_uses| CreateShareReq {
        file_id: meta.file_id.clone(),
        expires_in_secs: None,
        download_only: false,
        max_uses,
    };
    let share = alice.create_share(req(None)).await.unwrap();
    assert_eq!(share.url.as_deref(), Some(format!("http://gateway.localhost:4943/s/{}", share.share_id).as_str()));

    // A stranger with no identity resolves it and curl fetches the file.
    let stranger = Depot::connect(&env.url(), true, Arc::new(AnonymousIdentity), env.directory()).await.unwrap();
    let resolved = stranger.resolve_share(&share.share_id).await.unwrap();
    assert_eq!(
        (resolved.name.as_str(), resolved.size_bytes, resolved.mime.as_str()),
        ("poster.png", 3_000_000, "image/png")
    );
    let out = tmp.path().join("got.png");
    depot_tests::clients::run("curl", &["-sf", "-o", out.to_str().unwrap(), &resolved.url]);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);

    // A junk id is refused before the directory pays for it; an unknown
    // one answers NotFound.
    let junk = stranger.resolve_share("../../etc/passwd").await;
    assert!(matches!(junk, Err(CallError::Failed(ref m)) if m.contains("share id")), "{junk:?}");
    let unknown = stranger.resolve_share("00112233445566778899aabbccddeeff").await;
    assert!(matches!(unknown, Err(CallError::Share(ShareError::NotFound))), "{unknown:?}");

    // A stranger cannot list or revoke; the owner lists, then revokes.
    assert!(stranger.list_shares(Default::default()).await.is_err());
    let listed = alice.list_shares(Default::default()).await.unwrap();
    assert_eq!((listed.shares.len(), listed.shares[0].uses), (1, 1));
    assert!(alice.revoke_share(&share.share_id).await.unwrap());
    let r = stranger.resolve_share(&share.share_id).await;
    assert!(matches!(r, Err(CallError::Share(ShareError::NotFound))), "{r:?}");

    // A share good for one use.
    let once = alice.create_share(req(Some(1))).await.unwrap();
    stranger.resolve_share(&once.share_id).await.unwrap();
    let r = stranger.resolve_share(&once.share_id).await;
    assert!(matches!(r, Err(CallError::Share(ShareError::Gone { .. }))), "{r:?}");
}

/// The gateway canister through devnet's verifying HTTP gateway, as a
/// browser or curl meets it: the share page, the `/raw` redirect curl -L
/// follows to the exact bytes, 404 for a revoked share, 410 for an expired
/// one, and the certified 404 for paths with no share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_links_through_the_gateway_show_redirect_and_refuse() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, ..EnvOpts::default() }).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("clip <1>.mp4");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2246822519) >> 11) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let alice = env.client(DepotEnv::identity(32)).await.unwrap();
    let meta = depot_cli::upload::upload(&alice, &tmp.path().join("cfg"), plain_upload(path)).await.unwrap().meta;
    let req = |expires_in_secs| CreateShareReq {
        file_id: meta.file_id.clone(),
        expires_in_secs,
        download_only: false,
        max_uses: None,
    };
    let share = alice.create_share(req(None)).await.unwrap();
    let gateway = format!("http://{}.localhost:{}", env.deployment.gateway, env.port());
    assert_eq!(share.url.as_deref(), Some(format!("{gateway}/s/{}", share.share_id).as_str()));
    let (page_url, raw_url) = (share.url.unwrap(), share.raw_url.unwrap());

    // The stable link: curl -L follows the 307 to the file, byte-exact.
    let out = tmp.path().join("got.mp4");
    depot_tests::clients::run("curl", &["-sfL", "-o", out.to_str().unwrap(), &raw_url]);
    assert_eq!(std::fs::read(&out).unwrap(), bytes);

    // The page: the escaped name, size, a video of the signed URL, a strict CSP.
    let http = env.http();
    let page = http.get(&page_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    let bucket_origin = format!("http://{}.localhost:{}", env.deployment.buckets[0], env.port());
    assert!(csp.contains(&format!("media-src {bucket_origin};")) && !csp.contains("script-src"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>clip &lt;1&gt;.mp4</h1>"), "{html}");
    assert!(html.contains("2.9 MiB · video/mp4"), "{html}");
    assert!(html.contains(&format!("<video controls preload=\"metadata\" src=\"{bucket_origin}/f/")), "{html}");
    let listed = alice.list_shares(Default::default()).await.unwrap();
    assert_eq!(listed.shares[0].uses, 2, "the redirect and the page each resolved the share once");

    // A malformed share id, or a missing app file: the certified 404 (the
    // verifying gateway passed it). The app's own paths get the app.
    for p in ["/s/not-a-share", "/assets/missing.js"] {
        let r = http.get(format!("{gateway}{p}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{p}");
        assert!(r.text().await.unwrap().contains("Not found"));
    }
    for p in ["/", "/index.html", "/files/any/path"] {
        let r = http.get(format!("{gateway}{p}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{p}");
        assert!(r.text().await.unwrap().contains("<title>Depot</title>"), "{p}");
    }

    // Updates for anything but a share are refused before the gateway pays.
    let gw = env.deployment.gateway;
    let junk = ic_http_certification::HttpRequest::get("/index.html").build_update();
    let oversized = ic_http_certification::HttpRequest::get(format!("/s/{}/raw", share.share_id))
        .with_headers(vec![("x-pad".into(), "a".repeat(70 * 1024))])
        .build_update();
    for arg in [Encode!(&junk).unwrap(), b"not candid".to_vec(), Encode!(&oversized).unwrap()] {
        let r = alice.raw_update(gw, "http_request_update", arg).await;
        assert!(matches!(r, Err(CallError::Failed(ref m)) if m.contains("only share links")), "{r:?}");
    }
    let r = alice.raw_update(gw, "init", Encode!().unwrap()).await;
    assert!(matches!(r, Err(CallError::Failed(_))), "{r:?}");

    // Revoked: 404. Expired: 410.
    assert!(alice.revoke_share(&share.share_id).await.unwrap());
    let r = http.get(&raw_url).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let short = alice.create_share(req(Some(60))).await.unwrap();
    env.with_devnet(|d| d.advance_time(std::time::Duration::from_secs(61)));
    let r = http.get(short.url.unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("the share expired"));
}
