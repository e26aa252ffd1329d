//! Ownership, resume, upgrades in the middle of an upload, deletion and
//! typed errors, on devnet through the CLI's client code.

use candid::Encode;
use depot_api::bucket::PutChunkArgs;
use depot_api::directory::{DirectoryInit, GetDownloadUrlReq, ListFilesReq, StartUploadReq};
use depot_api::limits::CHUNK_SIZE;
use depot_api::methods::bucket as bm;
use depot_api::{BucketError, DirectoryError, FileId};
use depot_cli::client::CallError;
use depot_cli::upload::{UploadOpts, upload};
use depot_devnet::InstallMode;
use depot_tests::env::{DepotEnv, EnvOpts};
use depot_tests::wasm::canister_wasm;

const C: usize = CHUNK_SIZE as usize;

fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2246822519) >> 11) as u8 ^ salt).collect()
}

fn opts(path: std::path::PathBuf, stop_after: Option<u32>) -> UploadOpts {
    UploadOpts { path, name: None, mime: None, parallel: 3, progress: false, stop_after, retention_days: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_users_cannot_touch_a_file() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.txt");
    std::fs::write(&path, b"alice's secret").unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let bob = env.client(DepotEnv::identity(2)).await.unwrap();
    let out = upload(&alice, &dir.path().join("a"), opts(path, None)).await.unwrap();
    let fid = out.meta.file_id.clone();

    let unauthorised = |r: Result<_, CallError>| matches!(r, Err(CallError::Directory(DirectoryError::Unauthorised)));
    assert!(unauthorised(bob.get_file_meta(fid.clone()).await.map(|_| ())));
    assert!(unauthorised(bob.get_download_plan(fid.clone()).await.map(|_| ())));
    let req = GetDownloadUrlReq { file_id: fid.clone(), ttl_secs: None, disposition: None };
    assert!(unauthorised(bob.get_download_url(req).await.map(|_| ())));
    assert!(unauthorised(bob.delete_file(fid.clone()).await.map(|_| ())));
    let bobs = bob.list_files(ListFilesReq { include_pending: Some(true), ..Default::default() }).await.unwrap();
    assert!(bobs.files.is_empty());
    // Straight to the bucket: Bob can read neither as himself nor as Alice.
    let r = bob.get_chunk(out.meta.bucket, fid.clone(), 0).await;
    assert!(matches!(r, Err(CallError::Bucket(BucketError::Unauthorised { .. }))), "{r:?}");
    let as_owner = FileId { owner: bob.me(), id: fid.id.clone() };
    assert!(matches!(bob.get_chunk(out.meta.bucket, as_owner, 0).await, Err(CallError::Bucket(BucketError::NotFound))));
    // Alice still can.
    assert_eq!(alice.get_chunk(out.meta.bucket, fid, 0).await.unwrap(), b"alice's secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_upload_resumes_across_upgrades_of_both_canisters() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let data = pattern(5 * C + 17, 4);
    let path = dir.path().join("movie.mp4");
    std::fs::write(&path, &data).unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();

    let e = upload(&alice, &cfg, opts(path.clone(), Some(2))).await.unwrap_err();
    assert!(e.to_string().contains("interrupted"), "{e}");

    // Upgrade every canister with the upload half done.
    let (admin, directory, buckets) = (env.deployment.admin, env.directory(), env.deployment.buckets.clone());
    let (dw, bw) = (canister_wasm("directory").unwrap(), canister_wasm("bucket").unwrap());
    env.with_devnet(|d| {
        d.install_code(admin, directory, &dw, &Encode!(&None::<DirectoryInit>).unwrap(), InstallMode::Upgrade).unwrap();
        for b in &buckets {
            d.install_code(admin, *b, &bw, &Encode!().unwrap(), InstallMode::Upgrade).unwrap();
        }
    });

    let out = upload(&alice, &cfg, opts(path, None)).await.unwrap();
    assert!(out.resumed);
    assert_eq!(out.skipped_chunks, 2, "the chunks sent before the interruption are not sent again");
    assert_eq!(out.sent_chunks, 4);
    // Bytes intact, through the gateway (certification rebuilt after the upgrade).
    let url = alice
        .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id.clone(), ttl_secs: None, disposition: None })
        .await
        .unwrap();
    let body = env.http().get(&url.url).send().await.unwrap().bytes().await.unwrap();
    assert!(body[..] == data[..]);

    // Upgrade again after the commit: downloads still verify.
    env.with_devnet(|d| {
        for b in &buckets {
            d.install_code(admin, *b, &bw, &Encode!().unwrap(), InstallMode::Upgrade).unwrap();
        }
    });
    let r = env.http().get(&url.url).header("Range", format!("bytes={C}-")).send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert!(r.bytes().await.unwrap()[..] == data[C..], "a client's open range is exact to the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_frees_usage_and_typed_errors_change_nothing() {
    let init = DirectoryInit { default_quota_bytes: Some(5 * C as u64), ..Default::default() };
    let env = DepotEnv::start(EnvOpts { directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let path = dir.path().join("two.bin");
    let data = pattern(2 * C, 1);
    std::fs::write(&path, &data).unwrap();
    let out = upload(&alice, &dir.path().join("c"), opts(path, None)).await.unwrap();
    let usage = alice.get_usage().await.unwrap();
    assert_eq!(usage.used_bytes, 2 * C as u64);

    // Quota: one byte more than what is left.
    let req = |size: u64| StartUploadReq {
        name: "x".into(),
        mime: None,
        size_bytes: size,
        sha256: None,
        retention_days: None,
    };
    let r = alice.start_upload(req(3 * C as u64 + 1)).await;
    assert!(
        matches!(r, Err(CallError::Directory(DirectoryError::QuotaExceeded { requested, available })) if requested == 3 * C as u64 + 1 && available == 3 * C as u64),
        "{r:?}"
    );
    // Size edges
    let too_big = req(depot_api::limits::MAX_FILE_SIZE + 1);
    assert!(matches!(alice.start_upload(too_big).await, Err(CallError::Directory(DirectoryError::InvalidSize { .. }))));
    assert_eq!(alice.get_usage().await.unwrap(), usage, "refused requests change nothing");

    // A short middle chunk and a wrong index are refused by the bucket.
    let started = alice.start_upload(req(2 * C as u64 - 5)).await.unwrap();
    let token = alice.get_upload_token(&started.upload_id, 0, 0).await.unwrap();
    let put = |i: u32, bytes: Vec<u8>| {
        alice.put_chunk(started.bucket, PutChunkArgs { token: token.clone(), chunk_index: i, bytes })
    };
    assert!(matches!(put(0, vec![0; C - 1]).await, Err(CallError::Bucket(BucketError::ChunkSizeMismatch { .. }))));
    assert!(matches!(put(1, vec![0; C - 5]).await, Err(CallError::Bucket(BucketError::ChunkNotAllowed { .. }))));
    assert!(matches!(put(0, vec![0; C + 1]).await, Err(CallError::Bucket(BucketError::ChunkTooLarge { .. }))));
    let presence = alice.list_chunks(started.bucket, started.file_id.clone()).await;
    assert!(matches!(presence, Err(CallError::Bucket(BucketError::NotFound))), "nothing was stored: {presence:?}");

    // Delete: usage and the bucket's bytes go back.
    let freed = alice.delete_file(out.meta.file_id.clone()).await.unwrap();
    assert_eq!(freed.freed_bytes, 2 * C as u64);
    assert_eq!(alice.get_usage().await.unwrap().used_bytes, 0);
    let bucket = out.meta.bucket;
    let stat: depot_api::bucket::BucketStat =
        env.with_devnet(|d| depot_tests::deploy::query(d, alice.me(), bucket, bm::STAT, ()).unwrap());
    assert_eq!(stat.committed_bytes, 0);
}
