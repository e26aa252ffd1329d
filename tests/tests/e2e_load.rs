//! Load: 50 clients upload, download and delete at once, for a bounded
//! time, against one directory and three buckets, through devnet's HTTP
//! interface with the CLI's own code (verified downloads). Prints the
//! throughput; asserts that no capacity is over-committed, no file is lost
//! (every survivor downloads byte-exact) and the books balance.
//!
//! `DEPOT_LOAD_SECS` (default 30) bounds the time, `DEPOT_LOAD_CLIENTS`
//! (default 50) the clients; each client also stops after `MAX_OPS_PER_CLIENT`.

use depot_api::FileId;
use depot_api::directory::DirectoryInit;
use depot_api::limits::{CHUNK_SIZE, MAX_START_UPLOAD_PER_MINUTE};
use depot_cli::client::Depot;
use depot_cli::download::{DownloadOpts, download};
use depot_cli::upload::{UploadOpts, upload};
use depot_tests::books::read_books;
use depot_tests::env::{DepotEnv, EnvOpts};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX_OPS_PER_CLIENT: usize = 40;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Mostly small files, some of several chunks.
fn size(rng: &mut StdRng) -> u64 {
    match rng.gen_range(0..10) {
        0..=6 => rng.gen_range(1..=64 * 1024),
        7 | 8 => rng.gen_range(64 * 1024..=CHUNK_SIZE as u64),
        _ => rng.gen_range(CHUNK_SIZE as u64 + 1..=2 * CHUNK_SIZE as u64 + 7),
    }
}

#[derive(Default, Debug)]
struct Tally {
    uploads: u64,
    downloads: u64,
    deletes: u64,
    bytes_up: u64,
    bytes_down: u64,
}

/// One client's run: returns what it did and the files it keeps.
async fn client(c: Depot, n: u8, dir: &Path, deadline: Instant) -> (Tally, BTreeMap<FileId, [u8; 32]>) {
    let mut rng = StdRng::seed_from_u64(1000 + n as u64);
    let (mut t, mut files) = (Tally::default(), BTreeMap::<FileId, [u8; 32]>::new());
    let cfg = dir.join(format!("cfg{n}"));
    for op in 0..MAX_OPS_PER_CLIENT {
        if Instant::now() >= deadline {
            break;
        }
        let choice = if files.is_empty() { 0 } else { rng.gen_range(0..10) };
        match choice {
            0..=5 => {
                let len = size(&mut rng);
                let salt: u8 = rng.r#gen();
                let data: Vec<u8> = (0..len).map(|i| (i.wrapping_mul(0x9E37_79B9) >> 11) as u8 ^ salt ^ n).collect();
                let path = dir.join(format!("u{n}-{op}.bin"));
                std::fs::write(&path, &data).unwrap();
                let opts = UploadOpts { parallel: 2, ..depot_tests::clients::plain_upload(path) };
                // Every limit is raised above what the load reaches: any
                // failure is a failure.
                let out =
                    upload(&c, &cfg, opts).await.unwrap_or_else(|e| panic!("client {n}: upload of {len} bytes: {e:#}"));
                files.insert(out.meta.file_id, Sha256::digest(&data).into());
                t.uploads += 1;
                t.bytes_up += len;
            }
            6..=8 => {
                let id = files.keys().nth(rng.gen_range(0..files.len())).unwrap().clone();
                let out = dir.join(format!("d{n}-{op}.bin"));
                let opts = DownloadOpts { parallel: 2, progress: false, overwrite: true };
                let r = download(&c, id.clone(), &out, &opts).await.unwrap_or_else(|e| panic!("client {n}: {e:#}"));
                let got: [u8; 32] = Sha256::digest(std::fs::read(&out).unwrap()).into();
                assert_eq!(got, files[&id], "client {n}: download of {id:?} differs");
                t.downloads += 1;
                t.bytes_down += r.bytes;
            }
            _ => {
                let id = files.keys().nth(rng.gen_range(0..files.len())).unwrap().clone();
                c.delete_file(id.clone()).await.unwrap_or_else(|e| panic!("client {n}: delete: {e}"));
                files.remove(&id);
                t.deletes += 1;
            }
        }
    }
    (t, files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_at_once_keep_the_books() {
    let secs = env_or("DEPOT_LOAD_SECS", 30);
    let clients = env_or("DEPOT_LOAD_CLIENTS", 50) as u8;
    let init = DirectoryInit { start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE), ..Default::default() };
    let env =
        Arc::new(DepotEnv::start(EnvOpts { buckets: 3, directory_init: init, ..EnvOpts::default() }).await.unwrap());
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut users = vec![];
    let mut tasks = vec![];
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    for n in 1..=clients {
        let c = env.client(DepotEnv::identity(n)).await.unwrap();
        users.push(c.me());
        let dir = dir.clone();
        tasks.push(tokio::spawn(async move { client(c, n, dir.path(), deadline).await }));
    }
    let mut total = Tally::default();
    let mut kept = BTreeMap::new();
    for t in tasks {
        let (t, files) = t.await.unwrap();
        total.uploads += t.uploads;
        total.downloads += t.downloads;
        total.deletes += t.deletes;
        total.bytes_up += t.bytes_up;
        total.bytes_down += t.bytes_down;
        kept.extend(files);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ops = total.uploads + total.downloads + total.deletes;
    eprintln!(
        "load: {clients} clients, {elapsed:.1} s: {} uploads ({:.2} MB), {} verified downloads ({:.2} MB), {} deletes; \
         {:.1} operations/s, {:.2} MB/s up, {:.2} MB/s down",
        total.uploads,
        total.bytes_up as f64 / 1e6,
        total.downloads,
        total.bytes_down as f64 / 1e6,
        total.deletes,
        ops as f64 / elapsed,
        total.bytes_up as f64 / 1e6 / elapsed,
        total.bytes_down as f64 / 1e6 / elapsed,
    );
    assert!(total.uploads >= clients as u64, "every client uploaded at least once");

    let books = env.with_devnet(|d| read_books(d, &env.deployment, &users)).unwrap();
    books.assert_balanced("after the load");
    for (id, b) in &books.buckets {
        assert!(
            b.info.used_bytes + b.info.reserved_bytes <= b.info.hard_limit_bytes,
            "bucket {id} over-committed: {:?}",
            b.info
        );
        assert!(b.stat.used_bytes <= b.stat.capacity_bytes, "bucket {id} past its capacity: {:?}", b.stat);
    }
    // No file lost: exactly the survivors are Ready, and each is intact.
    let ready: BTreeMap<FileId, ()> = books.ready_files().map(|f| (f.file_id.clone(), ())).collect();
    assert_eq!(ready.keys().collect::<Vec<_>>(), kept.keys().collect::<Vec<_>>());
    for (id, sha) in &kept {
        let bytes = env.with_devnet(|d| depot_tests::books::download(d, &env.deployment, id)).unwrap();
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&bytes)), *sha, "{id:?}");
    }
}
