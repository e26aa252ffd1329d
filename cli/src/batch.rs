//! Many files at once: `depot upload PATHS… [-r]` and `depot download
//! IDS… | --all`.
//!
//! What was chosen, after rclone and the AWS CLI:
//! - A folder argument needs `-r`; its files are stored under their path
//!   relative to it, with `/` between folders (`aws s3 cp --recursive dir
//!   s3://b/` and `rclone copy dir remote:` name them the same way).
//! - Symbolic links inside a folder are skipped and reported (rclone's
//!   default: following them can loop or leave the folder); a link named
//!   on the command line is followed. Other special files are skipped too.
//! - Two files that would get the same name stop the command before
//!   anything is sent.
//! - `--parallel-files` files are in flight at once, each with its own
//!   chunks in flight.
//! - A file that fails does not stop the others; the command reports every
//!   failure and exits non-zero.
//! - `--skip-existing` skips a file already stored under the same name with
//!   the same size and SHA-256 (rclone's default comparison is size and
//!   modification time; Depot keeps a hash, which is exact).
//! - Downloads of several files go into one folder, each under its stored
//!   name made safe component by component (`names::safe_relative_path`).
//!   A target that already holds the same bytes (size and SHA-256) is
//!   skipped; one that differs is refused unless `--force`.

use crate::client::{Depot, retry};
use crate::download::{self, DownloadOpts, DownloadOutcome};
use crate::names;
use crate::progress::Batch;
use crate::upload::{self, UploadOpts, UploadOutcome};
use anyhow::{Context, Result, anyhow, bail};
use depot_api::directory::{FileMeta, GetDownloadUrlReq, ListFilesReq};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Files in flight at once by default: each has its own chunks in flight,
/// and the directory lets one user hold 10 uploads in progress.
pub const DEFAULT_PARALLEL_FILES: usize = 4;

/// One local file and the name it is stored under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub path: PathBuf,
    pub name: String,
}

/// What `collect` left out, said to the user.
#[derive(Debug, Default)]
pub struct Collected {
    pub jobs: Vec<Job>,
    pub skipped: Vec<String>,
}

/// The files `depot upload` sends for these arguments (module comment).
pub fn collect(paths: &[PathBuf], recursive: bool, name: Option<&str>) -> Result<Collected> {
    let mut out = Collected::default();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            if !recursive {
                bail!("{} is a folder: pass -r to upload the files in it", p.display());
            }
            walk(p, p, &mut out)?;
        } else if meta.is_file() {
            let n = p.file_name().ok_or_else(|| anyhow!("{} has no file name", p.display()))?;
            let n = n.to_str().ok_or_else(|| anyhow!("{} is not a UTF-8 name", p.display()))?;
            out.jobs.push(Job { path: p.clone(), name: n.to_string() });
        } else {
            bail!("{} is not a file or a folder", p.display());
        }
    }
    if let Some(n) = name {
        if out.jobs.len() != 1 {
            bail!("--name names one file; {} files were given", out.jobs.len());
        }
        out.jobs[0].name = n.to_string();
    }
    if out.jobs.is_empty() {
        bail!("nothing to upload: the folders hold no files");
    }
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for j in &out.jobs {
        if let Some(other) = seen.insert(&j.name, &j.path) {
            bail!("{} and {} would both be stored as {:?}", other.display(), j.path.display(), j.name);
        }
    }
    Ok(out)
}

/// Files under `dir`, named by their path from `root`, in name order.
fn walk(root: &Path, dir: &Path, out: &mut Collected) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let kind = e.file_type().with_context(|| format!("cannot read {}", path.display()))?;
        if kind.is_symlink() {
            out.skipped.push(format!("{}: a symbolic link (not followed)", path.display()));
        } else if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            let rel = path.strip_prefix(root).expect("walked from root");
            let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
            match parts.map(|p| p.join("/")) {
                Some(name) => out.jobs.push(Job { path, name }),
                None => out.skipped.push(format!("{}: not a UTF-8 name", path.display())),
            }
        } else {
            out.skipped.push(format!("{}: not a regular file", path.display()));
        }
    }
    Ok(())
}

pub struct ManyOpts {
    pub parallel_files: usize,
    /// Chunks in flight per file.
    pub parallel: usize,
    pub mime: Option<String>,
    pub retention_days: Option<u32>,
    pub skip_existing: bool,
    pub progress: bool,
    /// Ask the directory for a signed URL of each uploaded file.
    pub urls: bool,
}

pub enum Uploaded {
    Sent {
        outcome: UploadOutcome,
        url: Option<String>,
    },
    /// Already stored with the same name, size and SHA-256.
    Skipped(FileMeta),
}

pub struct UploadDone {
    pub job: Job,
    pub result: Result<Uploaded>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub done: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Bytes of the files done (uploaded or downloaded).
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"summary": {"done": self.done, "skipped": self.skipped, "failed": self.failed,
            "bytes": self.bytes, "elapsed_secs": self.elapsed.as_secs_f64()}})
    }
}

/// Every file of the caller, in the directory's order: the Ready ones, and
/// uploads in progress too with `include_pending`.
pub async fn list_all(depot: &Depot, include_pending: bool) -> Result<Vec<FileMeta>> {
    let mut cursor = None;
    let mut rows = vec![];
    loop {
        let req = ListFilesReq {
            cursor: cursor.take(),
            limit: None,
            include_pending: Some(include_pending),
            name_contains: None,
        };
        let page = depot.list_files(req).await?;
        rows.extend(page.files);
        match page.next {
            Some(n) => cursor = Some(n),
            None => return Ok(rows),
        }
    }
}

/// Uploads `jobs`, `opts.parallel_files` at a time; `on_done` sees each
/// file as it ends (for output as the batch goes).
pub async fn upload_many(
    depot: &Depot,
    config_dir: &Path,
    jobs: Vec<Job>,
    opts: &ManyOpts,
    mut on_done: impl FnMut(&Batch, &UploadDone),
) -> Result<Summary> {
    let started = Instant::now();
    let existing: HashMap<String, FileMeta> = if opts.skip_existing {
        list_all(depot, false).await?.into_iter().map(|f| (f.name.clone(), f)).collect()
    } else {
        HashMap::new()
    };
    let mut sizes = Vec::with_capacity(jobs.len());
    for j in &jobs {
        sizes.push(std::fs::metadata(&j.path).with_context(|| format!("cannot read {}", j.path.display()))?.len());
    }
    let batch = Batch::new(sizes.iter().sum(), jobs.len() as u64, opts.progress);
    let (batch_ref, existing) = (&batch, &existing);
    let mut results = stream::iter(jobs.into_iter().zip(sizes))
        .map(|(job, size)| async move {
            let result = upload_one(depot, config_dir, &job, size, opts, batch_ref, existing).await;
            (UploadDone { job, result }, size)
        })
        .buffer_unordered(opts.parallel_files.max(1));
    let mut s = Summary::default();
    while let Some((done, size)) = results.next().await {
        match &done.result {
            Ok(Uploaded::Sent { .. }) => (s.done += 1, s.bytes += size),
            Ok(Uploaded::Skipped(_)) => (s.skipped += 1, ()),
            Err(_) => (s.failed += 1, ()),
        };
        batch.files_done(s.done + s.skipped + s.failed);
        on_done(&batch, &done);
    }
    batch.finish();
    s.elapsed = started.elapsed();
    Ok(s)
}

async fn upload_one(
    depot: &Depot,
    config_dir: &Path,
    job: &Job,
    size: u64,
    opts: &ManyOpts,
    batch: &Batch,
    existing: &HashMap<String, FileMeta>,
) -> Result<Uploaded> {
    let sha = upload::hash_file(&job.path).await.with_context(|| format!("reading {}", job.path.display()))?;
    if let Some(f) = existing.get(&job.name)
        && f.size_bytes == size
        && f.sha256.as_ref().is_some_and(|h| h.as_slice() == sha)
    {
        batch.total.inc(size);
        return Ok(Uploaded::Skipped(f.clone()));
    }
    let bars = batch.file(&job.name, size);
    let uopts = UploadOpts {
        path: job.path.clone(),
        name: Some(job.name.clone()),
        mime: opts.mime.clone(),
        parallel: opts.parallel,
        progress: opts.progress,
        stop_after: None,
        retention_days: opts.retention_days,
    };
    let result = upload::upload_hashed(depot, config_dir, &uopts, size, sha, &bars).await;
    batch.remove(&bars);
    let outcome = result?;
    let url = if opts.urls {
        let req = GetDownloadUrlReq { file_id: outcome.meta.file_id.clone(), ttl_secs: None, disposition: None };
        Some(retry(|| depot.get_download_url(req.clone())).await?.url)
    } else {
        None
    };
    Ok(Uploaded::Sent { outcome, url })
}

/// One stored file and where it goes.
pub struct Target {
    pub meta: FileMeta,
    pub path: PathBuf,
}

/// Where each file goes inside `dir`: its stored name made safe. A second
/// file mapped to a path already taken in this batch is an error of its
/// own, so that nothing is written twice.
pub fn targets(files: Vec<FileMeta>, dir: &Path) -> Vec<(FileMeta, Result<PathBuf>)> {
    let mut taken: BTreeMap<PathBuf, String> = BTreeMap::new();
    files
        .into_iter()
        .map(|meta| {
            let key = meta.file_id.key().map(|k| k.to_hex()).unwrap_or_default();
            let path = dir.join(names::safe_relative_path(&meta.name, &format!("depot-{key}")));
            let r = match taken.get(&path) {
                Some(other) => {
                    Err(anyhow!("{:?} and {other:?} would both be written to {}", meta.name, path.display()))
                }
                None => {
                    taken.insert(path.clone(), meta.name.clone());
                    Ok(path)
                }
            };
            (meta, r)
        })
        .collect()
}

pub enum Fetched {
    Downloaded(DownloadOutcome),
    /// The target already holds these bytes (same size and SHA-256).
    AlreadyThere,
}

pub struct DownloadDone {
    pub meta: FileMeta,
    pub path: Option<PathBuf>,
    pub result: Result<Fetched>,
}

/// Downloads `files` into `dir` (created if missing), `parallel_files` at
/// a time, each verified as `depot download` verifies one.
pub async fn download_many(
    depot: &Depot,
    files: Vec<FileMeta>,
    dir: &Path,
    opts: &DownloadOpts,
    parallel_files: usize,
    mut on_done: impl FnMut(&Batch, &DownloadDone),
) -> Result<Summary> {
    let started = Instant::now();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let total: u64 = files.iter().map(|f| f.size_bytes).sum();
    let batch = Batch::new(total, files.len() as u64, opts.progress);
    let batch_ref = &batch;
    let mut results = stream::iter(targets(files, dir))
        .map(|(meta, path)| async move {
            let result = match &path {
                Ok(p) => download_one(depot, &meta, p, opts, batch_ref).await,
                Err(e) => Err(anyhow!("{e:#}")),
            };
            DownloadDone { path: path.ok(), meta, result }
        })
        .buffer_unordered(parallel_files.max(1));
    let mut s = Summary::default();
    while let Some(done) = results.next().await {
        match &done.result {
            Ok(Fetched::Downloaded(r)) => (s.done += 1, s.bytes += r.bytes),
            Ok(Fetched::AlreadyThere) => (s.skipped += 1, ()),
            Err(_) => (s.failed += 1, ()),
        };
        batch.files_done(s.done + s.skipped + s.failed);
        on_done(&batch, &done);
    }
    batch.finish();
    s.elapsed = started.elapsed();
    Ok(s)
}

async fn download_one(
    depot: &Depot,
    meta: &FileMeta,
    path: &Path,
    opts: &DownloadOpts,
    batch: &Batch,
) -> Result<Fetched> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    if !opts.overwrite && holds_the_same_bytes(path, meta).await {
        batch.total.inc(meta.size_bytes);
        return Ok(Fetched::AlreadyThere);
    }
    let bars = batch.file(&meta.name, meta.size_bytes);
    let r = download::download_with(depot, meta.file_id.clone(), path, opts, Some(&bars)).await;
    batch.remove(&bars);
    r.map(Fetched::Downloaded)
}

/// A regular file at `path` with the stored file's size and SHA-256 (a
/// download run again skips what it already fetched, as rclone does).
async fn holds_the_same_bytes(path: &Path, meta: &FileMeta) -> bool {
    let Some(want) = &meta.sha256 else { return false };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() && m.len() == meta.size_bytes => {}
        _ => return false,
    }
    upload::hash_file(path).await.is_ok_and(|h| h.as_slice() == want.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("photos");
        std::fs::create_dir_all(root.join("2024/summer")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("b.jpg"), b"b").unwrap();
        std::fs::write(root.join("2024/a.jpg"), b"a").unwrap();
        std::fs::write(root.join("2024/summer/c d.jpg"), b"c").unwrap();
        std::fs::write(root.join(".hidden"), b"h").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("2024/loop")).unwrap();
        d
    }

    fn names(c: &Collected) -> Vec<&str> {
        c.jobs.iter().map(|j| j.name.as_str()).collect()
    }

    #[test]
    fn a_folder_needs_r_and_gives_relative_names() {
        let d = tree();
        let root = d.path().join("photos");
        let e = collect(std::slice::from_ref(&root), false, None).unwrap_err();
        assert!(format!("{e}").contains("pass -r"), "{e}");
        let c = collect(&[root], true, None).unwrap();
        assert_eq!(names(&c), [".hidden", "2024/a.jpg", "2024/summer/c d.jpg", "b.jpg"]);
        assert_eq!(c.skipped.len(), 2, "both links are reported: {:?}", c.skipped);
        assert!(c.skipped.iter().all(|s| s.contains("symbolic link")));
    }

    #[test]
    fn files_and_folders_mix_and_clashing_names_stop_everything() {
        let d = tree();
        let root = d.path().join("photos");
        let single = root.join("b.jpg");
        let c = collect(&[single.clone(), root.join("2024")], true, None).unwrap();
        assert_eq!(names(&c), ["b.jpg", "a.jpg", "summer/c d.jpg"]);
        let e = collect(&[single.clone(), root.clone()], true, None).unwrap_err();
        assert!(format!("{e}").contains("would both be stored as \"b.jpg\""), "{e}");
        // --name renames one file, and only one.
        let c = collect(std::slice::from_ref(&single), false, Some("x/y.jpg")).unwrap();
        assert_eq!(names(&c), ["x/y.jpg"]);
        assert!(collect(&[root], true, Some("x")).is_err());
        let e = collect(&[d.path().join("photos/empty")], true, None).unwrap_err();
        assert!(format!("{e}").contains("nothing to upload"), "{e}");
        assert!(collect(&[d.path().join("missing")], true, None).is_err());
    }

    #[test]
    fn download_targets_stay_inside_and_never_collide() {
        use candid::Principal;
        use depot_api::directory::FileStatus;
        use depot_api::{FileId, FileKey};
        let meta = |name: &str, k: u8| FileMeta {
            file_id: FileId::new(Principal::anonymous(), FileKey([k; 16])),
            name: name.into(),
            mime: "application/octet-stream".into(),
            size_bytes: 1,
            chunk_size: 1,
            chunk_count: 1,
            created_at_ns: 0,
            updated_at_ns: 0,
            status: FileStatus::Ready,
            sha256: None,
            bucket: Principal::anonymous(),
            delete_at_ns: None,
        };
        let dir = Path::new("/out");
        let t = targets(
            vec![meta("a/b.txt", 1), meta("../../etc/x", 2), meta("a:b", 3), meta("a_b", 4), meta("..", 5)],
            dir,
        );
        let paths: Vec<_> = t.iter().map(|(_, p)| p.as_ref().map(|p| p.display().to_string()).ok()).collect();
        assert_eq!(
            paths,
            [
                Some("/out/a/b.txt".into()),
                Some("/out/etc/x".into()),
                Some("/out/a_b".into()),
                None,
                Some(format!("/out/depot-{}", "05".repeat(16))),
            ]
        );
    }
}
