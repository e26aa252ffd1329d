//! `depot upload`: chunks straight to the bucket, several in flight,
//! retries for transient failures, and resume after an interruption.

use crate::client::{CallError, Depot, retry};
use crate::progress::Bars;
use crate::resume::{self, SavedUpload};
use anyhow::{Context, Result, anyhow, bail};
use candid::Principal;
use depot_api::bucket::PutChunkArgs;
use depot_api::directory::{CommitUploadReq, FileMeta, StartUploadReq};
use depot_api::token::UploadToken;
use depot_api::{BucketError, DirectoryError, FileId, FileKey};
use futures::stream::{self, StreamExt};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// Chunks in flight at once by default: enough to hide a round trip,
/// few enough to stay inside one bucket's ingress share.
pub const DEFAULT_PARALLEL: usize = 4;
pub use crate::client::MAX_ATTEMPTS;
/// A token this close to expiry is replaced before use.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

pub struct UploadOpts {
    pub path: PathBuf,
    pub name: Option<String>,
    pub mime: Option<String>,
    pub parallel: usize,
    pub progress: bool,
    /// Stop (as if interrupted) after sending this many chunks: for tests.
    pub stop_after: Option<u32>,
    /// Delete the file this many days after the upload (charged that long).
    pub retention_days: Option<u32>,
}

#[derive(Debug)]
pub struct UploadOutcome {
    pub meta: FileMeta,
    pub resumed: bool,
    pub sent_chunks: u32,
    pub skipped_chunks: u32,
}

fn file_sha256(path: &Path) -> Result<[u8; 32]> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finalize().into());
        }
        h.update(&buf[..n]);
    }
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

struct Session {
    upload_id: Vec<u8>,
    file_id: FileId,
    bucket: Principal,
    chunk_size: u32,
    chunk_count: u32,
}

async fn open_session(
    depot: &Depot,
    saved_at: &Path,
    (opts, name): (&UploadOpts, &str),
    size: u64,
    sha: [u8; 32],
    bars: &Bars,
) -> Result<(Session, BTreeSet<u32>, bool)> {
    if let Some(s) = resume::load(saved_at) {
        let upload_id = hex::decode(&s.upload_id).unwrap_or_default();
        match depot.get_upload(&upload_id).await {
            Ok(p) => {
                let session = Session {
                    upload_id,
                    file_id: p.file_id,
                    bucket: p.bucket,
                    chunk_size: p.chunk_size,
                    chunk_count: p.expected_chunk_count,
                };
                let present = match depot.list_chunks(session.bucket, session.file_id.clone()).await {
                    Ok(c) => c.present.into_iter().collect(),
                    Err(CallError::Bucket(BucketError::NotFound)) => BTreeSet::new(),
                    Err(e) => return Err(e.into()),
                };
                return Ok((session, present, true));
            }
            Err(CallError::Directory(_)) => resume::forget(saved_at),
            Err(e) => return Err(e.into()),
        }
    }
    let req = StartUploadReq {
        name: name.to_string(),
        mime: opts.mime.clone(),
        size_bytes: size,
        sha256: Some(ByteBuf::from(sha.to_vec())),
        retention_days: opts.retention_days,
    };
    let res =
        waiting(depot, &Notice::of(opts, bars), "too many uploads started", || depot.start_upload(req.clone())).await?;
    let file_key = res.file_id.key().ok_or_else(|| anyhow!("directory returned a malformed file id"))?;
    resume::save(
        saved_at,
        &SavedUpload {
            directory: depot.directory.to_text(),
            upload_id: hex::encode(&res.upload_id),
            file_key: file_key.to_hex(),
            bucket: res.bucket.to_text(),
            chunk_size: res.chunk_size,
            chunk_count: res.expected_chunk_count,
            size,
            sha256: hex::encode(sha),
        },
    )?;
    let session = Session {
        upload_id: res.upload_id.into_vec(),
        file_id: res.file_id,
        bucket: res.bucket,
        chunk_size: res.chunk_size,
        chunk_count: res.expected_chunk_count,
    };
    Ok((session, BTreeSet::new(), false))
}

struct Tokens<'a> {
    depot: &'a Depot,
    session: &'a Session,
    current: Mutex<Option<UploadToken>>,
    notice: Notice<'a>,
}

impl Tokens<'_> {
    async fn get(&self, force_new: bool) -> Result<UploadToken, CallError> {
        let mut cur = self.current.lock().await;
        let fresh = cur.as_ref().is_some_and(|t| t.expires_at_ns > now_ns() + TOKEN_MARGIN.as_nanos() as u64);
        if force_new || !fresh {
            let last = self.session.chunk_count - 1;
            let get = || retry(|| self.depot.get_upload_token(&self.session.upload_id, 0, last));
            *cur = Some(waiting(self.depot, &self.notice, "too many upload tokens asked for", get).await?);
        }
        Ok(cur.clone().expect("set above"))
    }
}

async fn send_chunk(
    depot: &Depot,
    tokens: &Tokens<'_>,
    file: &std::fs::File,
    s: &Session,
    size: u64,
    i: u32,
) -> Result<u64> {
    let start = i as u64 * s.chunk_size as u64;
    let len = (size - start).min(s.chunk_size as u64) as usize;
    let mut bytes = vec![0u8; len];
    file.read_exact_at(&mut bytes, start).with_context(|| format!("reading chunk {i}"))?;
    let mut force_new = false;
    loop {
        let token = tokens.get(force_new).await?;
        let args = PutChunkArgs { token, chunk_index: i, bytes: bytes.clone() };
        match retry(|| depot.put_chunk(s.bucket, args.clone())).await {
            Ok(ok) => {
                // Progress report for the directory; the commit does not trust it.
                let _ = retry(|| depot.mark_chunk_uploaded(&s.upload_id, i, ok.etag.clone())).await;
                return Ok(len as u64);
            }
            Err(CallError::Bucket(BucketError::TokenExpired)) if !force_new => force_new = true,
            // The bucket refuses, before accepting the message, a chunk it
            // already holds: after a lost reply the retry lands here, and
            // the chunk's presence is the answer.
            Err(e) => match depot.list_chunks(s.bucket, s.file_id.clone()).await {
                Ok(p) if p.present.contains(&i) => return Ok(len as u64),
                _ => bail!("chunk {i}: {e}"),
            },
        }
    }
}

/// Seconds to wait when the directory has no room yet (it is making a
/// bucket) and says no more.
pub const UNAVAILABLE_WAIT_SECS: u64 = 10;

/// Most the `depot` command waits, in all, for one upload to start.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// How a wait is shown: a line, a countdown on the terminal, or beside the
/// file's bar in a batch.
enum Notice<'a> {
    Line,
    Countdown,
    Bar(&'a Bars),
}

impl<'a> Notice<'a> {
    fn of(opts: &UploadOpts, bars: &'a Bars) -> Self {
        match (opts.progress, bars.total.is_some()) {
            (false, _) => Notice::Line,
            (true, false) => Notice::Countdown,
            (true, true) => Notice::Bar(bars),
        }
    }
}

/// `call` (`start_upload`, `get_upload_token`), waiting out `RateLimited`
/// (as long as the directory says; `limited` says what) and
/// `ServiceTemporarilyUnavailable` (`UNAVAILABLE_WAIT_SECS`) while
/// `depot.max_wait` lasts, shown as `notice` says. Not retried on a lost
/// reply: a second start would hold a second reservation (`retry` covers
/// the token's transport errors).
async fn waiting<T, Fut>(
    depot: &Depot,
    notice: &Notice<'_>,
    limited: &str,
    call: impl Fn() -> Fut,
) -> Result<T, CallError>
where
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let mut waited = Duration::ZERO;
    loop {
        let r = call().await;
        let (wait, why) = match (&r, depot.max_wait) {
            (Err(CallError::Directory(DirectoryError::RateLimited { retry_after_secs })), Some(_)) => {
                (Duration::from_secs((*retry_after_secs).max(1)), limited.to_string())
            }
            (Err(CallError::Directory(DirectoryError::ServiceTemporarilyUnavailable { reason })), Some(_)) => {
                (Duration::from_secs(UNAVAILABLE_WAIT_SECS), reason.clone())
            }
            _ => return r,
        };
        if depot.max_wait.is_some_and(|max| waited + wait > max) {
            return r;
        }
        wait_with_notice(depot, &why, wait, notice).await;
        waited += wait;
    }
}

async fn wait_with_notice(depot: &Depot, why: &str, wait: Duration, notice: &Notice<'_>) {
    let line = |left: u64| format!("{why}: waiting {left} s (--no-wait fails instead)");
    match notice {
        Notice::Line => {
            eprintln!("{}", line(wait.as_secs()));
            (depot.sleep)(wait).await;
        }
        Notice::Countdown | Notice::Bar(_) => {
            for left in (1..=wait.as_secs()).rev() {
                match notice {
                    Notice::Bar(bars) => bars.notice(&line(left)),
                    _ => eprint!("\r{}   ", line(left)),
                }
                (depot.sleep)(Duration::from_secs(1)).await;
            }
            match notice {
                Notice::Bar(bars) => bars.notice(""),
                _ => eprint!("\r{}\r", " ".repeat(line(wait.as_secs()).len() + 3)),
            }
        }
    }
}

/// The name a file is stored under: `--name`, else the file's own name.
pub fn upload_name(opts: &UploadOpts) -> Result<String> {
    match &opts.name {
        Some(n) => Ok(n.clone()),
        None => {
            let n = opts.path.file_name().context("the path has no file name; pass --name")?;
            n.to_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow!("{} is not a UTF-8 name; pass --name", opts.path.display()))
        }
    }
}

/// The file's SHA-256, computed off the async threads.
pub async fn hash_file(path: &Path) -> Result<[u8; 32]> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || file_sha256(&path)).await?
}

/// Uploads one file (see the module comment), with a bar of its own when
/// `opts.progress`.
pub async fn upload(depot: &Depot, config_dir: &Path, opts: UploadOpts) -> Result<UploadOutcome> {
    let size = std::fs::metadata(&opts.path).with_context(|| format!("reading {}", opts.path.display()))?.len();
    let sha = hash_file(&opts.path).await?;
    let bars = Bars::single(size, opts.progress);
    upload_hashed(depot, config_dir, &opts, size, sha, &bars).await
}

/// Uploads one file whose size and SHA-256 are known, moving `bars`.
pub async fn upload_hashed(
    depot: &Depot,
    config_dir: &Path,
    opts: &UploadOpts,
    size: u64,
    sha: [u8; 32],
    bars: &Bars,
) -> Result<UploadOutcome> {
    let name = upload_name(opts)?;
    let saved_at =
        resume::path_for(config_dir, &depot.directory.to_text(), &depot.me().to_text(), &name, &hex::encode(sha), size);
    let (session, present, resumed) = open_session(depot, &saved_at, (opts, &name), size, sha, bars).await?;
    let missing: Vec<u32> = (0..session.chunk_count).filter(|i| !present.contains(i)).collect();
    let skipped = session.chunk_count - missing.len() as u32;
    bars.already(
        present.iter().map(|&i| (size - i as u64 * session.chunk_size as u64).min(session.chunk_size as u64)).sum(),
    );

    let file = Arc::new(std::fs::File::open(&opts.path)?);
    let tokens = Tokens { depot, session: &session, current: Mutex::new(None), notice: Notice::of(opts, bars) };
    let to_send: Vec<u32> = match opts.stop_after {
        Some(n) => missing.iter().copied().take(n as usize).collect(),
        None => missing.clone(),
    };
    let mut sends = stream::iter(to_send.iter().copied())
        .map(|i| {
            let file = file.clone();
            let (tokens, session) = (&tokens, &session);
            async move {
                let n = send_chunk(depot, tokens, &file, session, size, i).await?;
                bars.inc(n);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(opts.parallel.max(1));
    while let Some(r) = sends.next().await {
        r?;
    }
    drop(sends);
    if opts.stop_after.is_some_and(|n| (n as usize) < missing.len()) {
        bars.file.abandon();
        bail!("interrupted after {} chunk(s); run the same command again to resume", to_send.len());
    }

    let commit = CommitUploadReq {
        upload_id: ByteBuf::from(session.upload_id.clone()),
        uploaded_chunk_count: Some(session.chunk_count),
        final_sha256: Some(ByteBuf::from(sha.to_vec())),
    };
    let meta = match retry(|| depot.commit_upload(commit.clone())).await {
        Ok(m) => m,
        Err(CallError::Directory(DirectoryError::UploadIncomplete { missing })) => {
            // The bucket lacks chunks we believed sent: send them once more.
            for i in missing {
                send_chunk(depot, &tokens, &file, &session, size, i).await?;
            }
            retry(|| depot.commit_upload(commit.clone())).await?
        }
        Err(e) => {
            if matches!(e, CallError::Directory(DirectoryError::UploadExpired | DirectoryError::HashMismatch)) {
                resume::forget(&saved_at);
            }
            return Err(e.into());
        }
    };
    bars.file.finish_and_clear();
    resume::forget(&saved_at);
    Ok(UploadOutcome { meta, resumed, sent_chunks: to_send.len() as u32, skipped_chunks: skipped })
}

/// The CLI's file ids: the 32-hex file key; the owner is the caller.
pub fn parse_file_id(depot: &Depot, s: &str) -> Result<FileId> {
    let key = FileKey::from_hex(s.trim()).ok_or_else(|| anyhow!("{s:?} is not a file id (32 hex digits)"))?;
    Ok(FileId::new(depot.me(), key))
}
