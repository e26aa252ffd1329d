//! `depot download`: chunk by chunk from the file's bucket, several in
//! flight, written in order, checked against the file's SHA-256.

use crate::client::Depot;
use anyhow::{Context, Result, bail};
use depot_api::FileId;
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

pub struct DownloadOutcome {
    pub bytes: u64,
    pub sha256_checked: bool,
}

pub async fn download(
    depot: &Depot,
    file_id: FileId,
    out: &Path,
    parallel: usize,
    progress: bool,
) -> Result<DownloadOutcome> {
    let plan = depot.get_download_plan(file_id.clone()).await?;
    let bar = if progress { ProgressBar::new(plan.size_bytes) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}").expect("valid"),
    );
    let tmp = out.with_extension("depot-partial");
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?);
    let mut hasher = Sha256::new();
    let jobs: Vec<(u32, candid::Principal)> =
        plan.locations.iter().flat_map(|r| (r.first_chunk..=r.last_chunk).map(move |i| (i, r.bucket))).collect();
    if jobs.len() as u32 != plan.chunk_count {
        bail!("download plan covers {} of {} chunks", jobs.len(), plan.chunk_count);
    }
    let mut chunks = stream::iter(jobs)
        .map(|(i, bucket)| {
            let fid = file_id.clone();
            async move { depot.get_chunk(bucket, fid, i).await.with_context(|| format!("chunk {i}")) }
        })
        .buffered(parallel.max(1));
    let mut total = 0u64;
    while let Some(bytes) = chunks.next().await {
        let bytes = bytes?;
        hasher.update(&bytes);
        f.write_all(&bytes)?;
        total += bytes.len() as u64;
        bar.inc(bytes.len() as u64);
    }
    f.flush()?;
    drop(f);
    bar.finish_and_clear();
    if total != plan.size_bytes {
        bail!("received {total} bytes, expected {}", plan.size_bytes);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    let checked = match &plan.sha256 {
        Some(want) if want.as_slice() != digest => {
            let _ = std::fs::remove_file(&tmp);
            bail!("SHA-256 mismatch: the downloaded bytes are not the uploaded file");
        }
        Some(_) => true,
        None => false,
    };
    std::fs::rename(&tmp, out)?;
    Ok(DownloadOutcome { bytes: total, sha256_checked: checked })
}
