//! Share links on devnet, through the IC's HTTP interface as real clients
//! call it: the owner shares with the CLI's client, a stranger (anonymous,
//! no identity at all) resolves the share to a signed URL, and curl fetches
//! the exact bytes through devnet's verifying gateway. Revoked, spent and
//! junk ids are refused.

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
