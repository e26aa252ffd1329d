//! The books of a deployment, read through devnet's library API (queries
//! only: nothing changes, no HTTP, so a moved clock does not matter), and
//! the rules by which the directory's books and every bucket's agree.
//!
//! [`read_books`] takes a snapshot: the directory's totals, each listed
//! user's usage and files, each bucket's record in the directory, its own
//! `stat`, and what it stores of every file the directory lists.
//! [`Books::disagreements`] lists every rule the snapshot breaks:
//!
//! - per user: `used_bytes`/`files_count` are the sum/count of Ready files,
//!   `reserved_bytes`/`uploads_in_progress` those of Pending ones;
//! - the directory's totals are the sums over the users (so `users` must
//!   name every user of the deployment);
//! - per bucket, in the directory: `used_bytes`/`files_count` are the
//!   Ready files it holds, `reserved_bytes` its Pending ones;
//! - per bucket, its own `stat`: `committed_bytes` is the directory's
//!   `used_bytes`; it stores exactly the Ready files (committed, every
//!   byte) and whatever arrived of Pending ones (never committed), and no
//!   file the directory does not list (`files_count`, `used_bytes`);
//!   capacity counts logical bytes.
//!
//! A deletion the directory has queued but the bucket has not done yet is
//! a disagreement: check after maintenance ran.

use crate::deploy::{Deployment, query};
use anyhow::{Context, Result, anyhow};
use candid::Principal;
use depot_api::bucket::{BucketStat, ChunkPresence, GetChunkArgs};
use depot_api::directory::{AdminStats, BucketInfo, FileMeta, FileStatus, ListFilesReq, Usage};
use depot_api::methods::{bucket as bm, directory as dm};
use depot_api::{BucketError, DirectoryError, FileId};
use depot_devnet::Devnet;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What one user has, as the directory lists it.
#[derive(Clone, Debug)]
pub struct UserBooks {
    pub usage: Usage,
    pub ready: Vec<FileMeta>,
    pub pending: Vec<FileMeta>,
}

/// One bucket: the directory's record and the bucket's own statistics.
#[derive(Clone, Debug)]
pub struct BucketBooks {
    pub info: BucketInfo,
    pub stat: BucketStat,
}

#[derive(Clone, Debug)]
pub struct Books {
    /// Devnet time of the snapshot.
    pub now_ns: u64,
    pub stats: AdminStats,
    pub users: BTreeMap<Principal, UserBooks>,
    pub buckets: BTreeMap<Principal, BucketBooks>,
    /// What each listed file's bucket stores of it (`None`: no record).
    pub stored: BTreeMap<FileId, Option<ChunkPresence>>,
}

fn ok<T>(what: &str, r: Result<T, DirectoryError>) -> Result<T> {
    r.map_err(|e| anyhow!("{what}: {e:?}"))
}

/// Reads the books of `d` for `users` (every user of the deployment, for
/// the totals to add up).
pub fn read_books(dev: &mut Devnet, d: &Deployment, users: &[Principal]) -> Result<Books> {
    let admin = d.admin;
    let stats = ok("admin_get_stats", query(dev, admin, d.directory, dm::ADMIN_GET_STATS, ())?)?;
    let mut buckets = BTreeMap::new();
    for info in ok("list_buckets", query(dev, admin, d.directory, dm::LIST_BUCKETS, ())?)? {
        let stat: BucketStat = query(dev, admin, info.id, bm::STAT, ())?;
        buckets.insert(info.id, BucketBooks { info, stat });
    }
    let mut books = Books { now_ns: dev.time_ns(), stats, users: BTreeMap::new(), buckets, stored: BTreeMap::new() };
    for &user in users {
        let usage = ok("get_usage", query(dev, user, d.directory, dm::GET_USAGE, (None,))?)?;
        let (mut ready, mut pending, mut cursor) = (vec![], vec![], None);
        loop {
            let req = ListFilesReq { include_pending: Some(true), limit: Some(1000), cursor, name_contains: None };
            let page = ok("list_files", query(dev, user, d.directory, dm::LIST_FILES, (req,))?)?;
            for f in page.files {
                match f.status {
                    FileStatus::Ready => ready.push(f),
                    FileStatus::Pending => pending.push(f),
                    FileStatus::Deleted => {}
                }
            }
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        for f in ready.iter().chain(&pending) {
            let presence = match query(dev, user, f.bucket, bm::LIST_CHUNKS, (f.file_id.clone(),))? {
                Ok(p) => Some(p),
                Err(BucketError::NotFound) => None,
                Err(e) => return Err(anyhow!("list_chunks of {:?}: {e:?}", f.file_id)),
            };
            books.stored.insert(f.file_id.clone(), presence);
        }
        books.users.insert(user, UserBooks { usage, ready, pending });
    }
    Ok(books)
}

impl Books {
    /// Every rule the snapshot breaks (see the module's documentation).
    pub fn disagreements(&self) -> Vec<String> {
        let mut bad = vec![];
        let check = |bad: &mut Vec<String>, ok: bool, what: String| {
            if !ok {
                bad.push(what);
            }
        };
        let sum = |fs: &[FileMeta]| fs.iter().map(|f| f.size_bytes).sum::<u64>();
        // (ready bytes, ready files, pending bytes) per bucket, from the listings.
        let mut per_bucket: BTreeMap<Principal, (u64, u64, u64)> = BTreeMap::new();
        let (mut used, mut files, mut reserved, mut uploads) = (0, 0, 0, 0);
        for (user, b) in &self.users {
            let u = &b.usage;
            let want = (sum(&b.ready), b.ready.len() as u64, sum(&b.pending), b.pending.len() as u32);
            let have = (u.used_bytes, u.files_count, u.reserved_bytes, u.uploads_in_progress);
            check(
                &mut bad,
                have == want,
                format!("usage of {user} (used, files, reserved, uploads) {have:?} ≠ listed {want:?}"),
            );
            used += want.0;
            files += want.1;
            reserved += want.2;
            uploads += want.3 as u64;
            for f in &b.ready {
                let e = per_bucket.entry(f.bucket).or_default();
                e.0 += f.size_bytes;
                e.1 += 1;
            }
            for f in &b.pending {
                per_bucket.entry(f.bucket).or_default().2 += f.size_bytes;
            }
        }
        let s = &self.stats;
        let have = (s.total_bytes, s.total_files, s.reserved_bytes, s.active_uploads);
        check(
            &mut bad,
            have == (used, files, reserved, uploads),
            format!("directory totals {have:?} ≠ users' {:?}", (used, files, reserved, uploads)),
        );
        for f in self.users.values().flat_map(|b| &b.ready) {
            let size = f.size_bytes;
            match &self.stored[&f.file_id] {
                Some(p) if p.committed && p.stored_bytes == size && p.size_bytes == size => {}
                other => {
                    bad.push(format!("Ready file {:?} of {size} bytes: bucket {} has {other:?}", f.file_id, f.bucket))
                }
            }
        }
        for f in self.users.values().flat_map(|b| &b.pending) {
            if let Some(p) = &self.stored[&f.file_id]
                && p.committed
            {
                bad.push(format!("Pending file {:?}: committed in bucket {}", f.file_id, f.bucket));
            }
        }
        for (id, b) in &self.buckets {
            let (ready_bytes, ready_files, pending_bytes) = per_bucket.get(id).copied().unwrap_or_default();
            let have = (b.info.used_bytes, b.info.files_count, b.info.reserved_bytes);
            check(
                &mut bad,
                have == (ready_bytes, ready_files, pending_bytes),
                format!(
                    "directory's record of bucket {id} (used, files, reserved) {have:?} ≠ listed {:?}",
                    (ready_bytes, ready_files, pending_bytes)
                ),
            );
            // What the bucket should hold: the Ready files and what arrived
            // of the Pending ones.
            let listed = self.users.values().flat_map(|u| u.ready.iter().chain(&u.pending)).filter(|f| f.bucket == *id);
            let (mut stored_files, mut stored_bytes) = (0, 0);
            for f in listed {
                if let Some(p) = &self.stored[&f.file_id] {
                    stored_files += 1;
                    stored_bytes += p.stored_bytes;
                }
            }
            let st = &b.stat;
            check(
                &mut bad,
                st.committed_bytes == b.info.used_bytes,
                format!(
                    "bucket {id} committed_bytes {} ≠ directory's used_bytes {}",
                    st.committed_bytes, b.info.used_bytes
                ),
            );
            check(
                &mut bad,
                (st.files_count, st.used_bytes) == (stored_files, stored_bytes),
                format!(
                    "bucket {id} stores (files, bytes) {:?}; the directory's files account for {:?}",
                    (st.files_count, st.used_bytes),
                    (stored_files, stored_bytes)
                ),
            );
            check(&mut bad, st.allocated_bytes >= st.used_bytes, format!("bucket {id} allocated < used: {st:?}"));
            check(
                &mut bad,
                st.free_bytes == st.capacity_bytes.saturating_sub(st.used_bytes),
                format!("bucket {id} capacity does not count logical bytes: {st:?}"),
            );
        }
        bad
    }

    /// Panics, listing every disagreement, unless the books balance.
    #[track_caller]
    pub fn assert_balanced(&self, when: &str) {
        let bad = self.disagreements();
        assert!(bad.is_empty(), "books disagree {when}:\n  {}\n{self:#?}", bad.join("\n  "));
    }

    /// Pending files whose upload session expired (`session_ttl_secs` after
    /// it started) as of the snapshot: after maintenance there must be none.
    pub fn expired_pending(&self, session_ttl_secs: u64) -> Vec<FileId> {
        let ttl_ns = session_ttl_secs.saturating_mul(1_000_000_000);
        self.users
            .values()
            .flat_map(|u| &u.pending)
            .filter(|f| f.created_at_ns.saturating_add(ttl_ns) <= self.now_ns)
            .map(|f| f.file_id.clone())
            .collect()
    }

    /// Every Ready file of every user.
    pub fn ready_files(&self) -> impl Iterator<Item = &FileMeta> {
        self.users.values().flat_map(|u| &u.ready)
    }
}

/// The Ready file `file_id` as its owner downloads it from its bucket
/// (the download plan, then `get_chunk` for every chunk); checks the size
/// and, when the directory has one, the SHA-256.
pub fn download(dev: &mut Devnet, d: &Deployment, file_id: &FileId) -> Result<Vec<u8>> {
    let owner = file_id.owner;
    let plan = ok("get_download_plan", query(dev, owner, d.directory, dm::GET_DOWNLOAD_PLAN, (file_id.clone(),))?)?;
    let mut bytes = Vec::with_capacity(plan.size_bytes as usize);
    for range in &plan.locations {
        for chunk_index in range.first_chunk..=range.last_chunk {
            let args = GetChunkArgs { file_id: file_id.clone(), chunk_index };
            let chunk = query(dev, owner, range.bucket, bm::GET_CHUNK, (args,))?
                .map_err(|e| anyhow!("get_chunk {chunk_index} of {file_id:?}: {e:?}"))?;
            bytes.extend_from_slice(&chunk);
        }
    }
    anyhow::ensure!(bytes.len() as u64 == plan.size_bytes, "{file_id:?}: {} of {} bytes", bytes.len(), plan.size_bytes);
    if let Some(h) = &plan.sha256 {
        anyhow::ensure!(Sha256::digest(&bytes)[..] == h[..], "{file_id:?}: SHA-256 differs from the directory's");
    }
    Ok(bytes)
}

/// Every file in `expected` (id → content) is Ready and downloads
/// byte-exact.
#[track_caller]
pub fn assert_downloads(dev: &mut Devnet, d: &Deployment, expected: &BTreeMap<FileId, Vec<u8>>) {
    for (id, content) in expected {
        let got = download(dev, d, id).with_context(|| format!("downloading {id:?}")).unwrap();
        assert!(got == *content, "{id:?}: downloaded bytes differ from the uploaded ones");
    }
}
