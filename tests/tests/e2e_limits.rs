//! The directory's limits and the whole-file hash check, through the CLI's
//! client code over devnet's HTTP interface: each refusal is typed and
//! changes nothing else.

use depot_api::bucket::{BucketStat, PutChunkArgs};
use depot_api::directory::{CommitUploadReq, DirectoryInit, ListFilesReq, StartUploadReq};
use depot_api::limits::CHUNK_SIZE;
use depot_api::methods::bucket as bm;
use depot_api::{DirectoryError, FileId};
use depot_cli::client::{CallError, Depot};
use depot_tests::env::{DepotEnv, EnvOpts};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

const C: usize = CHUNK_SIZE as usize;
/// Settings of these tests: small enough to reach in a few calls.
const MAX_IN_PROGRESS: u32 = 2;
const STARTS_PER_MINUTE: u32 = 3;

fn req(size: u64, sha256: Option<[u8; 32]>) -> StartUploadReq {
    StartUploadReq {
        name: "f.bin".into(),
        mime: None,
        size_bytes: size,
        sha256: sha256.map(|h| ByteBuf::from(h.to_vec())),
        retention_days: None,
    }
}

async fn pending_files(c: &Depot) -> Vec<FileId> {
    let res = c.list_files(ListFilesReq { include_pending: Some(true), ..Default::default() }).await.unwrap();
    res.files.into_iter().map(|f| f.file_id).collect()
}

fn bucket_stat(env: &DepotEnv, bucket: candid::Principal) -> BucketStat {
    env.with_devnet(|d| depot_tests::deploy::query(d, env.deployment.admin, bucket, bm::STAT, ()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_progress_cap_and_rate_limit_are_typed_and_change_nothing() {
    let init = DirectoryInit {
        max_uploads_in_progress: Some(MAX_IN_PROGRESS),
        start_upload_per_minute: Some(STARTS_PER_MINUTE),
        ..Default::default()
    };
    let env = DepotEnv::start(EnvOpts { directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();

    // Up to the cap, then one more.
    let first = alice.start_upload(req(10, None)).await.unwrap();
    alice.start_upload(req(20, None)).await.unwrap();
    let at_cap = alice.get_usage().await.unwrap();
    assert_eq!((at_cap.uploads_in_progress, at_cap.reserved_bytes), (MAX_IN_PROGRESS, 30));
    let r = alice.start_upload(req(30, None)).await;
    assert!(
        matches!(r, Err(CallError::Directory(DirectoryError::TooManyInProgressUploads { limit: MAX_IN_PROGRESS }))),
        "{r:?}"
    );
    assert_eq!(alice.get_usage().await.unwrap(), at_cap, "a refused start reserves nothing");
    assert_eq!(pending_files(&alice).await.len(), MAX_IN_PROGRESS as usize);

    // Removing a pending file aborts its upload and frees a place.
    assert_eq!(alice.delete_file(first.file_id.clone()).await.unwrap().freed_bytes, 0);
    let third = alice.start_upload(req(30, None)).await.unwrap();
    assert_eq!(alice.get_usage().await.unwrap().reserved_bytes, 50);

    // That was the third start this minute (the refused one does not count):
    // under the cap again, the rate limit answers.
    alice.delete_file(third.file_id).await.unwrap();
    let before = alice.get_usage().await.unwrap();
    let r = alice.start_upload(req(40, None)).await;
    match r {
        Err(CallError::Directory(DirectoryError::RateLimited { retry_after_secs })) => {
            assert!((1..=60).contains(&retry_after_secs), "retry after {retry_after_secs} s")
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(alice.get_usage().await.unwrap(), before);
    assert_eq!(pending_files(&alice).await.len(), 1);

    // Limits are per user.
    let bob = env.client(DepotEnv::identity(2)).await.unwrap();
    bob.start_upload(req(10, None)).await.unwrap();
    let stats = alice.admin_get_stats().await;
    assert!(matches!(stats, Err(CallError::Directory(DirectoryError::Unauthorised))), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_hash_fails_the_commit_and_releases_the_upload() {
    let env = DepotEnv::start(EnvOpts::default()).await.unwrap();
    let alice = env.client(DepotEnv::identity(1)).await.unwrap();
    let data: Vec<u8> = (0..2 * C + 3).map(|i| (i % 251) as u8).collect();
    let mut other = data.clone();
    other[C + 7] ^= 1;
    let declared: [u8; 32] = Sha256::digest(&other).into();

    let started = alice.start_upload(req(data.len() as u64, Some(declared))).await.unwrap();
    let token = alice.get_upload_token(&started.upload_id, 0, started.expected_chunk_count - 1).await.unwrap();
    for (i, chunk) in data.chunks(C).enumerate() {
        let args = PutChunkArgs { token: token.clone(), chunk_index: i as u32, bytes: chunk.to_vec() };
        alice.put_chunk(started.bucket, args).await.unwrap();
    }
    assert_eq!(bucket_stat(&env, started.bucket).used_bytes, data.len() as u64);

    // A final hash other than the declared one is refused before the bucket
    // is asked, and the upload stays open.
    let commit = |h: [u8; 32]| CommitUploadReq {
        upload_id: started.upload_id.clone(),
        uploaded_chunk_count: None,
        final_sha256: Some(ByteBuf::from(h.to_vec())),
    };
    let r = alice.commit_upload(commit(Sha256::digest(&data).into())).await;
    assert!(matches!(r, Err(CallError::Directory(DirectoryError::InvalidRequest { .. }))), "{r:?}");
    assert_eq!(alice.get_usage().await.unwrap().uploads_in_progress, 1);

    // The bucket hashes what it holds: not what was declared.
    let r = alice.commit_upload(commit(declared)).await;
    assert!(matches!(r, Err(CallError::Directory(DirectoryError::HashMismatch))), "{r:?}");
    let u = alice.get_usage().await.unwrap();
    assert_eq!(
        (u.used_bytes, u.reserved_bytes, u.files_count, u.uploads_in_progress),
        (0, 0, 0, 0),
        "the upload is released: nothing reserved, nothing used"
    );
    assert!(pending_files(&alice).await.is_empty());
    let r = alice.get_file_meta(started.file_id.clone()).await;
    assert!(matches!(r, Err(CallError::Directory(DirectoryError::NotFound))), "{r:?}");
    let stat = bucket_stat(&env, started.bucket);
    assert_eq!((stat.used_bytes, stat.committed_bytes, stat.files_count), (0, 0, 0), "its chunks are deleted");
    let r = alice.commit_upload(commit(declared)).await;
    assert!(matches!(r, Err(CallError::Directory(DirectoryError::UploadNotFound))), "{r:?}");
}

/// `depot upload` waits out a rate limit for as long as the directory says,
/// and goes on; with no wait allowed (the library's default, `--no-wait`)
/// the same refusal is returned at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_waits_out_the_rate_limit_and_goes_on() {
    use depot_cli::upload::upload;
    use depot_tests::clients::plain_upload;
    let init = DirectoryInit { start_upload_per_minute: Some(1), ..Default::default() };
    let env = DepotEnv::start(EnvOpts { buckets: 1, directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut client = env.client(DepotEnv::identity(4)).await.unwrap();
    let file = |n: u8| {
        let path = dir.path().join(format!("f{n}.bin"));
        std::fs::write(&path, vec![n; 1000]).unwrap();
        path
    };
    let cfg = dir.path().join("cfg");
    upload(&client, &cfg, plain_upload(file(1))).await.unwrap();
    let e = upload(&client, &cfg, plain_upload(file(2))).await.unwrap_err();
    let limited = e
        .downcast_ref::<CallError>()
        .is_some_and(|c| matches!(c, CallError::Directory(DirectoryError::RateLimited { .. })));
    assert!(limited, "fails at once without a wait budget: {e:#}");
    // Most of the window passes on the IC's clock; the rest is waited out.
    env.with_devnet(|d| d.advance_time(std::time::Duration::from_secs(57)));
    client.max_wait = Some(std::time::Duration::from_secs(30));
    let started = std::time::Instant::now();
    let out = upload(&client, &cfg, plain_upload(file(2))).await.unwrap();
    assert_eq!(out.meta.size_bytes, 1000);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "it waited");
    // A wait longer than the budget is not started.
    client.max_wait = Some(std::time::Duration::from_secs(5));
    let e = upload(&client, &cfg, plain_upload(file(3))).await.unwrap_err();
    assert!(format!("{e:#}").contains("too many uploads"), "{e:#}");
}
