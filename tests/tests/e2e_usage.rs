//! Directory and buckets keep the same books: after a seeded random mix of
//! uploads, interrupted and resumed uploads, aborts, deletions and wrong
//! hashes by several users, every count and byte total agrees with a model
//! of what the users did, on both sides.
//!
//! `DEPOT_MIX_SEED=<n>` replays another mix.

use candid::Principal;
use depot_api::bucket::{BucketStat, PutChunkArgs};
use depot_api::directory::{AdminStats, CommitUploadReq, DirectoryInit, FileMeta, ListFilesReq, StartUploadReq};
use depot_api::limits::{CHUNK_SIZE, MAX_START_UPLOAD_PER_MINUTE, MAX_UPLOAD_TOKEN_TTL_SECS};
use depot_api::methods::{bucket as bm, directory as dm};
use depot_api::{DirectoryError, FileId};
use depot_cli::client::{CallError, Depot};
use depot_cli::upload::{UploadOpts, upload};
use depot_tests::books::read_books;
use depot_tests::deploy::query;
use depot_tests::env::{DepotEnv, EnvOpts};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

const C: u64 = CHUNK_SIZE as u64;
const DEFAULT_SEED: u64 = 20261128;
const USERS: u8 = 3;
const STEPS: usize = 48;
/// The mix never meets the rate limit (tested in e2e_limits).
const STARTS_PER_MINUTE: u32 = MAX_START_UPLOAD_PER_MINUTE;

/// What one user did, as the user sees it.
#[derive(Default)]
struct UserModel {
    /// Ready files: id → (size, content hash).
    ready: BTreeMap<FileId, (u64, [u8; 32])>,
    /// Interrupted CLI uploads: id → (path, size); exactly one chunk sent.
    interrupted: BTreeMap<FileId, (PathBuf, u64)>,
}

struct User {
    client: Depot,
    cfg: PathBuf,
    model: UserModel,
}

fn content(rng: &mut StdRng, size: u64) -> Vec<u8> {
    let salt: u8 = rng.r#gen();
    (0..size).map(|i| (i.wrapping_mul(0x9E37_79B9) >> 13) as u8 ^ salt).collect()
}

fn opts(path: &Path, stop_after: Option<u32>) -> UploadOpts {
    UploadOpts {
        path: path.to_path_buf(),
        name: None,
        mime: None,
        parallel: 2,
        progress: false,
        stop_after,
        retention_days: None,
    }
}

async fn pending_ids(c: &Depot) -> BTreeSet<FileId> {
    let res = c
        .list_files(ListFilesReq { include_pending: Some(true), limit: Some(1000), cursor: None, name_contains: None })
        .await
        .unwrap();
    res.files.into_iter().filter(|f| f.status == depot_api::directory::FileStatus::Pending).map(|f| f.file_id).collect()
}

/// A complete upload of a random size around the chunk edges.
async fn full_upload(rng: &mut StdRng, dir: &Path, step: usize, u: &mut User) -> bool {
    let size = match rng.gen_range(0..5) {
        0 => 1,
        1 => C - 1,
        2 => C,
        3 => C + 1,
        _ => rng.gen_range(1..3 * C),
    };
    let data = content(rng, size);
    let path = dir.join(format!("full{step}.bin"));
    std::fs::write(&path, &data).unwrap();
    let out = upload(&u.client, &u.cfg, opts(&path, None)).await.unwrap();
    u.model.ready.insert(out.meta.file_id, (size, Sha256::digest(&data).into()));
    true
}

/// A multi-chunk upload stopped after its first chunk.
async fn interrupted_upload(rng: &mut StdRng, dir: &Path, step: usize, u: &mut User) -> bool {
    let size = rng.gen_range(C + 1..4 * C);
    let path = dir.join(format!("part{step}.bin"));
    std::fs::write(&path, content(rng, size)).unwrap();
    let before = pending_ids(&u.client).await;
    upload(&u.client, &u.cfg, opts(&path, Some(1))).await.unwrap_err();
    let new: Vec<FileId> = pending_ids(&u.client).await.difference(&before).cloned().collect();
    assert_eq!(new.len(), 1, "one new pending file");
    u.model.interrupted.insert(new[0].clone(), (path, size));
    true
}

async fn resume(rng: &mut StdRng, u: &mut User) -> bool {
    let Some(id) = pick(rng, u.model.interrupted.keys()) else { return false };
    let (path, size) = u.model.interrupted.remove(&id).unwrap();
    let out = upload(&u.client, &u.cfg, opts(&path, None)).await.unwrap();
    assert!(out.resumed && out.skipped_chunks == 1, "{out:?}");
    assert_eq!(out.meta.file_id, id);
    u.model.ready.insert(id, (size, Sha256::digest(std::fs::read(&path).unwrap()).into()));
    true
}

/// `depot rm` of a pending file aborts its upload.
async fn abort(rng: &mut StdRng, u: &mut User) -> bool {
    let Some(id) = pick(rng, u.model.interrupted.keys()) else { return false };
    let (path, _) = u.model.interrupted.remove(&id).unwrap();
    assert_eq!(u.client.delete_file(id).await.unwrap().freed_bytes, 0);
    std::fs::remove_file(path).unwrap();
    true
}

async fn delete(rng: &mut StdRng, u: &mut User) -> bool {
    let Some(id) = pick(rng, u.model.ready.keys()) else { return false };
    let (size, _) = u.model.ready.remove(&id).unwrap();
    assert_eq!(u.client.delete_file(id).await.unwrap().freed_bytes, size);
    true
}

/// Every chunk sent, but a declared hash of other bytes: refused, released.
async fn wrong_hash(rng: &mut StdRng, u: &mut User) -> bool {
    let size = rng.gen_range(1..2 * C);
    let data = content(rng, size);
    let declared = Sha256::digest(b"other bytes").to_vec();
    let req = StartUploadReq {
        name: "w.bin".into(),
        mime: None,
        size_bytes: size,
        sha256: Some(ByteBuf::from(declared)),
        retention_days: None,
    };
    let s = u.client.start_upload(req).await.unwrap();
    let token = u.client.get_upload_token(&s.upload_id, 0, s.expected_chunk_count - 1).await.unwrap();
    for (i, chunk) in data.chunks(C as usize).enumerate() {
        u.client
            .put_chunk(s.bucket, PutChunkArgs { token: token.clone(), chunk_index: i as u32, bytes: chunk.to_vec() })
            .await
            .unwrap();
    }
    let commit = CommitUploadReq { upload_id: s.upload_id, uploaded_chunk_count: None, final_sha256: None };
    let r = u.client.commit_upload(commit).await;
    assert!(matches!(r, Err(CallError::Directory(DirectoryError::HashMismatch))), "{r:?}");
    true
}

fn pick<'a>(rng: &mut StdRng, ids: impl ExactSizeIterator<Item = &'a FileId>) -> Option<FileId> {
    let n = ids.len();
    if n == 0 {
        return None;
    }
    let i = rng.gen_range(0..n);
    ids.into_iter().nth(i).cloned()
}

/// Directory and buckets against each other (`depot_tests::books`: usage,
/// totals, bucket records and each bucket's own stat, file by file), and
/// the directory against the model of what the users did.
/// `releases`: uploads aborted or refused so far. Each queues a second
/// sweep of its bucket for when its last upload token has expired (chunks
/// put with a still-valid token after the first sweep must not leak).
async fn check_books(env: &DepotEnv, users: &[User], releases: u64) {
    let principals: Vec<Principal> = users.iter().map(|u| u.client.me()).collect();
    let books = env.with_devnet(|d| read_books(d, &env.deployment, &principals)).unwrap();
    books.assert_balanced("after the mix");
    assert!(books.stats.pending_bucket_deletes <= releases, "only second sweeps wait: {:?}", books.stats);
    for u in users {
        let (me, m) = (u.client.me(), &u.model);
        let b = &books.users[&me];
        // The user's own view, through the CLI's client, is the directory's.
        assert_eq!(u.client.get_usage().await.unwrap(), b.usage, "usage of {me}");
        let sizes = |fs: &[FileMeta]| -> BTreeMap<FileId, u64> {
            fs.iter().map(|f| (f.file_id.clone(), f.size_bytes)).collect()
        };
        let ready: BTreeMap<FileId, u64> = m.ready.iter().map(|(id, (size, _))| (id.clone(), *size)).collect();
        assert_eq!(sizes(&b.ready), ready, "Ready files of {me}");
        let pending: BTreeMap<FileId, u64> = m.interrupted.iter().map(|(id, (_, size))| (id.clone(), *size)).collect();
        assert_eq!(sizes(&b.pending), pending, "Pending files of {me}");
        for f in &b.pending {
            let stored = books.stored[&f.file_id].as_ref().map(|p| p.stored_bytes);
            assert_eq!(stored, Some(C), "one chunk of each interrupted upload was sent");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_in_directory_and_buckets_agree_after_a_random_mix() {
    let seed = std::env::var("DEPOT_MIX_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    eprintln!("mix seed {seed} (replay with DEPOT_MIX_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let init = DirectoryInit { start_upload_per_minute: Some(STARTS_PER_MINUTE), ..Default::default() };
    let env = DepotEnv::start(EnvOpts { directory_init: init, ..EnvOpts::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut users = vec![];
    for n in 1..=USERS {
        let client = env.client(DepotEnv::identity(n)).await.unwrap();
        users.push(User { client, cfg: dir.path().join(format!("cfg{n}")), model: UserModel::default() });
    }

    let bucket_stat =
        |b: Principal| -> BucketStat { env.with_devnet(|d| query(d, env.deployment.admin, b, bm::STAT, ()).unwrap()) };
    let fresh: Vec<BucketStat> = env.deployment.buckets.iter().map(|b| bucket_stat(*b)).collect();
    let mut done = BTreeMap::<&str, usize>::new();
    let mut releases = 0;
    for step in 0..STEPS {
        let u = &mut users[rng.gen_range(0..USERS as usize)];
        let op = match rng.gen_range(0..10) {
            0..=2 => "upload",
            3 | 4 => "interrupt",
            5 => "resume",
            6 => "abort",
            7 | 8 => "delete",
            _ => "wrong hash",
        };
        let acted = match op {
            "upload" => full_upload(&mut rng, dir.path(), step, u).await,
            "interrupt" => interrupted_upload(&mut rng, dir.path(), step, u).await,
            "resume" => resume(&mut rng, u).await,
            "abort" => abort(&mut rng, u).await,
            "delete" => delete(&mut rng, u).await,
            _ => wrong_hash(&mut rng, u).await,
        };
        if !acted {
            continue;
        }
        *done.entry(op).or_default() += 1;
        releases += matches!(op, "abort" | "wrong hash" | "delete") as u64;
        if step % 12 == 11 {
            check_books(&env, &users, releases).await;
        }
    }
    eprintln!("operations: {done:?}");
    check_books(&env, &users, releases).await;

    // The files that remain are intact.
    for u in &users {
        for (id, (size, sha)) in &u.model.ready {
            let out = dir.path().join("check.bin");
            let opts = depot_cli::download::DownloadOpts { parallel: 2, progress: false, overwrite: true };
            let r = depot_cli::download::download(&u.client, id.clone(), &out, &opts).await.unwrap();
            assert_eq!(r.bytes, *size);
            assert_eq!(Sha256::digest(std::fs::read(&out).unwrap())[..], sha[..]);
        }
    }

    // Everything removed: both sides are back to zero.
    for u in &mut users {
        releases += (u.model.ready.len() + u.model.interrupted.len()) as u64;
        let ids: Vec<FileId> = u.model.ready.keys().chain(u.model.interrupted.keys()).cloned().collect();
        for id in ids {
            u.client.delete_file(id).await.unwrap();
        }
        u.model = UserModel::default();
    }
    check_books(&env, &users, releases).await;
    for (b, fresh) in env.deployment.buckets.iter().zip(&fresh) {
        let stat = bucket_stat(*b);
        assert_eq!((stat.used_bytes, stat.chunks_count, stat.files_count), (0, 0, 0), "bucket {b} is empty");
        // Only the fallback responses (403, 404) stay certified.
        assert_eq!(stat.certified_responses, fresh.certified_responses);
    }

    // Past every token's expiry the second sweeps run and the queue
    // empties. Library API only from here: HTTP clients would take the
    // moved clock for stale certificates.
    let (admin, directory) = (env.deployment.admin, env.directory());
    env.with_devnet(|d| {
        d.advance_time(Duration::from_secs(MAX_UPLOAD_TOKEN_TTL_SECS + 60));
        for _ in 0..3 {
            d.advance_time(Duration::from_secs(61));
            d.tick();
        }
    });
    let stats: Result<AdminStats, DirectoryError> =
        env.with_devnet(|d| query(d, admin, directory, dm::ADMIN_GET_STATS, ()).unwrap());
    assert_eq!(stats.unwrap().pending_bucket_deletes, 0);
}
