//! `depot download`: every byte written is checked against the IC's
//! certified data first.
//!
//! 1. The directory's `get_download_url`, an **update** (its reply is
//!    certified by consensus), names the bucket and signs a URL for the file.
//! 2. The CLI then does what a verifying HTTP gateway does: it calls the
//!    bucket's `http_request` query with the signed path and
//!    `Range: bytes=<chunk start>-<chunk end>` (the chunk geometry from the
//!    directory's metadata; a range of exactly one chunk is answered with
//!    that chunk's certified 206), one request per chunk, several in
//!    flight, and checks each reply with response verification v2
//!    (`verify.rs`): the certificate, the certified response and the
//!    certified `Content-Range` of exactly that chunk. A reply that asks for
//!    an `upgrade` (a file whose certification is being rebuilt after an
//!    upgrade) is fetched again with `http_request_update`, an update.
//! 3. Chunk 0's certified `Content-Range` gives the file's size and chunk
//!    size; the directory's metadata (a query) must agree with it, and its
//!    SHA-256, when one was declared, must match the whole file.
//!
//! Bytes go to a hidden temporary file next to the target, which is
//! deleted on any failure and renamed onto the target only when everything
//! checked out; an existing target is replaced only with `overwrite`.

use crate::client::{Depot, retry};
use crate::names;
use crate::progress::Bars;
use crate::verify::{self, ChunkError, Trust, VerifiedChunk};
use anyhow::{Context, Result, anyhow, bail};
use candid::Principal;
use depot_api::FileId;
use depot_api::directory::GetDownloadUrlReq;
use depot_api::url::{Disposition, SignedUrl, file_key_of_path};
use futures::stream::{self, StreamExt};
use ic_http_certification::HttpRequest;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// Chunks in flight at once by default.
pub const DEFAULT_PARALLEL: usize = 4;
/// A signed URL this close to expiry is replaced before use.
const URL_MARGIN_SECS: u64 = 60;

#[derive(Clone, Debug)]
pub struct DownloadOpts {
    /// Chunks in flight at once.
    pub parallel: usize,
    pub progress: bool,
    /// Replace the target if it exists (`--force`); otherwise refuse.
    pub overwrite: bool,
}

impl Default for DownloadOpts {
    fn default() -> Self {
        Self { parallel: DEFAULT_PARALLEL, progress: false, overwrite: false }
    }
}

#[derive(Debug)]
pub struct DownloadOutcome {
    pub bytes: u64,
    /// Chunks fetched, each verified against the IC's certified data.
    pub chunks: u32,
    pub sha256_checked: bool,
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// The path and query of a signed URL (`/f/<key>?exp=…&kid=…&sig=…`).
fn path_of_url(url: &str) -> Option<&str> {
    let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    after_scheme.find('/').map(|i| &after_scheme[i..])
}

struct Grant {
    path: String,
    expires_at_secs: u64,
}

/// The signed URL in use, replaced near its expiry or after a 403.
struct Grants<'a> {
    depot: &'a Depot,
    file_id: FileId,
    bucket: Principal,
    current: Mutex<Grant>,
}

impl<'a> Grants<'a> {
    /// Asks the directory for a URL (an update, certified by consensus).
    async fn fetch(depot: &Depot, file_id: &FileId) -> Result<(Principal, Grant)> {
        let req =
            GetDownloadUrlReq { file_id: file_id.clone(), ttl_secs: None, disposition: Some(Disposition::Inline) };
        let u = retry(|| depot.get_download_url(req.clone())).await?;
        let path = path_of_url(&u.url).ok_or_else(|| anyhow!("the directory returned a malformed URL {:?}", u.url))?;
        let key = file_id.key().ok_or_else(|| anyhow!("malformed file id"))?;
        if file_key_of_path(path) != Some(key) || SignedUrl::parse(path).is_err() {
            bail!("the directory returned a URL for another file: {:?}", u.url);
        }
        Ok((u.bucket, Grant { path: path.to_string(), expires_at_secs: u.expires_at_secs }))
    }

    async fn new(depot: &'a Depot, file_id: FileId) -> Result<Self> {
        let (bucket, grant) = Self::fetch(depot, &file_id).await?;
        Ok(Self { depot, file_id, bucket, current: Mutex::new(grant) })
    }

    /// The path to request; a new one when `refresh` or near expiry.
    async fn path(&self, refresh: bool) -> Result<String> {
        let mut cur = self.current.lock().await;
        let now_secs = (now_ns() / 1_000_000_000) as u64;
        if refresh || now_secs + URL_MARGIN_SECS >= cur.expires_at_secs {
            let (bucket, grant) = Self::fetch(self.depot, &self.file_id).await?;
            if bucket != self.bucket {
                bail!("the file moved from bucket {} to {bucket} during the download", self.bucket);
            }
            *cur = grant;
        }
        Ok(cur.path.clone())
    }
}

/// One chunk, bytes `start..=end`, verified. A 403 (the URL expired
/// meanwhile) gets one new URL; a reply that fails verification is never
/// retried.
async fn fetch_chunk(depot: &Depot, grants: &Grants<'_>, trust: &Trust, start: u64, end: u64) -> Result<VerifiedChunk> {
    let mut refresh = false;
    loop {
        let path = grants.path(refresh).await?;
        let request = HttpRequest::get(path)
            .with_headers(vec![("range".into(), format!("bytes={start}-{end}"))])
            .with_certificate_version(2)
            .build();
        let response = retry(|| depot.http_request(trust.bucket, request.clone())).await?;
        let checked = if response.upgrade() == Some(true) {
            let update =
                HttpRequest::get(request.url().to_string()).with_headers(request.headers().to_vec()).build_update();
            let reply = retry(|| depot.http_request_update(trust.bucket, update.clone())).await?;
            verify::check_update_chunk(reply, start)
        } else {
            verify::verify_chunk_response(trust, &request, response, now_ns(), start)
        };
        match checked {
            Err(ChunkError::Status(403)) if !refresh => refresh = true,
            Err(e) => return Err(anyhow::Error::new(e).context(format!("bytes from {start}"))),
            Ok(c) => return Ok(c),
        }
    }
}

/// An empty file has no chunk to fetch: its plain GET must be a certified
/// 200 with an empty body.
async fn verify_empty(depot: &Depot, grants: &Grants<'_>, trust: &Trust) -> Result<()> {
    let request = HttpRequest::get(grants.path(false).await?).with_certificate_version(2).build();
    let response = retry(|| depot.http_request(trust.bucket, request.clone())).await?;
    verify::verify_empty_response(trust, &request, response, now_ns())
        .map_err(|e| anyhow::Error::new(e).context("the empty file's certified response"))
}

/// `depot download [-o OUTPUT]`: the target from the stored name made safe
/// (`names::output_path`: in the current directory, or in `output` when it
/// is a directory, or `output` itself), then [`download`].
pub async fn download_file(
    depot: &Depot,
    file_id: FileId,
    output: Option<&Path>,
    opts: &DownloadOpts,
) -> Result<(PathBuf, DownloadOutcome)> {
    // A query, and the name is whatever was stored: it only proposes a base name.
    let meta = depot.get_file_meta(file_id.clone()).await?;
    let key = file_id.key().ok_or_else(|| anyhow!("malformed file id"))?.to_hex();
    let out = names::output_path(&meta.name, &format!("depot-{key}"), output);
    let r = download(depot, file_id, &out, opts).await?;
    Ok((out, r))
}

/// Downloads `file_id` to `out` (see the module comment), with a bar of
/// its own when `opts.progress`.
pub async fn download(depot: &Depot, file_id: FileId, out: &Path, opts: &DownloadOpts) -> Result<DownloadOutcome> {
    download_with(depot, file_id, out, opts, None).await
}

/// [`download`], moving `bars` (a batch's) when given.
pub async fn download_with(
    depot: &Depot,
    file_id: FileId,
    out: &Path,
    opts: &DownloadOpts,
    bars: Option<&Bars>,
) -> Result<DownloadOutcome> {
    if !opts.overwrite && out.symlink_metadata().is_ok() {
        bail!("{} already exists: pass --force to replace it, or -o to choose another path", out.display());
    }
    // A query: its hash and size are claims, checked against certified data below.
    let meta = depot.get_file_meta(file_id.clone()).await?;
    let grants = Grants::new(depot, file_id.clone()).await?;
    let trust = Trust {
        bucket: grants.bucket,
        root_key: depot.agent.read_root_key(),
        max_cert_time_offset_ns: verify::MAX_CERT_TIME_OFFSET_NS,
    };

    // The directory's geometry (a query) only shapes the requests: every
    // certified reply must be exactly the chunk asked for, and chunk 0's
    // certified total must be the size.
    let chunk_size = meta.chunk_size as u64;
    if chunk_size == 0 {
        bail!("the directory reports a chunk size of 0");
    }
    let total = meta.size_bytes;
    let chunk_end = |start: u64| (start + chunk_size).min(total) - 1;
    let first = if total == 0 { None } else { Some(fetch_chunk(depot, &grants, &trust, 0, chunk_end(0)).await?) };
    if let Some(first) = &first
        && first.total != total
    {
        bail!("the directory says the file has {total} bytes, the bucket's certified response says {}", first.total);
    }
    if total == 0 {
        verify_empty(depot, &grants, &trust).await?;
    }
    let chunk_count = u32::try_from(total.div_ceil(chunk_size)).context("too many chunks")?;

    let own;
    let bars = match bars {
        Some(b) => b,
        None => {
            own = Bars::single(total, opts.progress);
            &own
        }
    };
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Removed when dropped: an aborted download leaves nothing behind.
    let tmp = tempfile::Builder::new()
        .prefix(".depot-")
        .suffix(".partial")
        // As `File::create`: 0666 less the umask (tempfile's default is 0600).
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let mut f = std::io::BufWriter::new(tmp.as_file());
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    let mut put = |c: &VerifiedChunk| -> Result<()> {
        if c.total != total || c.start != written {
            bail!("certified chunk at {} of a {}-byte file does not follow byte {written}", c.start, c.total);
        }
        hasher.update(&c.bytes);
        f.write_all(&c.bytes)?;
        written += c.bytes.len() as u64;
        bars.inc(c.bytes.len() as u64);
        Ok(())
    };
    if let Some(first) = first {
        put(&first)?;
    }
    let mut chunks = stream::iter(1..chunk_count)
        .map(|i| {
            let start = i as u64 * chunk_size;
            fetch_chunk(depot, &grants, &trust, start, chunk_end(start))
        })
        .buffered(opts.parallel.max(1));
    while let Some(c) = chunks.next().await {
        let c = c?;
        let expected_end = chunk_end(c.start);
        if c.end != expected_end {
            bail!("certified chunk at {} ends at {}, expected {expected_end}", c.start, c.end);
        }
        put(&c)?;
    }
    drop(chunks);
    f.flush()?;
    drop(f);
    bars.file.finish_and_clear();
    if written != total {
        bail!("received {written} bytes, expected {total}");
    }
    let digest: [u8; 32] = hasher.finalize().into();
    let checked = match &meta.sha256 {
        Some(want) if want.as_slice() != digest => {
            bail!("SHA-256 mismatch: the downloaded bytes are not the uploaded file")
        }
        Some(_) => true,
        None => false,
    };
    tmp.as_file().sync_all().ok();
    let persisted = if opts.overwrite { tmp.persist(out) } else { tmp.persist_noclobber(out) };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!("{} appeared during the download: pass --force to replace it", out.display())
        } else {
            anyhow::Error::new(e.error).context(format!("moving the download to {}", out.display()))
        }
    })?;
    Ok(DownloadOutcome { bytes: written, chunks: chunk_count, sha256_checked: checked })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths() {
        let p = "/f/00112233445566778899aabbccddeeff?exp=1&kid=2&sig=AA";
        assert_eq!(path_of_url(&format!("http://aaaaa-aa.localhost:4943{p}")), Some(p));
        assert_eq!(path_of_url(&format!("https://aaaaa-aa.icp0.io{p}")), Some(p));
        assert_eq!(path_of_url("https://host-only"), None);
    }
}
