//! Section 4: wall-clock throughput over devnet's HTTP interface: the CLI's
//! upload (ic-agent, signed calls) and a download of the file's signed URL
//! through devnet's verifying HTTP gateway.

use super::*;
use crate::env::{DepotEnv, EnvOpts};
use depot_cli::upload::{DEFAULT_PARALLEL, UploadOpts, upload as cli_upload};
use std::path::PathBuf;
use std::time::Instant;

/// The file moved each way.
const FILE_BYTES: usize = 256 * MIB;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mb_per_s(bytes: usize, secs: f64) -> String {
    format!("{:>8.2} s {:>8.1} MB/s", secs, bytes as f64 / 1e6 / secs)
}

pub async fn run() -> Result<()> {
    let scratch = Scratch(std::env::temp_dir().join(format!("depot-bench-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0)?;
    let data = pattern(FILE_BYTES, 3);
    let sha = Sha256::digest(&data);
    let path = scratch.0.join("large.bin");
    std::fs::write(&path, &data)?;
    drop(data);

    let env = DepotEnv::start(EnvOpts::default()).await?;
    let client = env.client(DepotEnv::identity(1)).await?;
    let opts = UploadOpts {
        path,
        name: None,
        mime: None,
        parallel: DEFAULT_PARALLEL,
        progress: false,
        stop_after: None,
        retention_days: None,
    };
    let t = Instant::now();
    let out = cli_upload(&client, &scratch.0.join("cli-config"), opts).await?;
    let upload_secs = t.elapsed().as_secs_f64();
    if out.meta.sha256.as_deref().map(|h| h.as_slice()) != Some(&sha[..]) {
        return Err(anyhow!("the directory recorded another SHA-256"));
    }

    let url = client
        .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id.clone(), ttl_secs: None, disposition: None })
        .await?;
    let t = Instant::now();
    let mut resp = env.http().get(&url.url).send().await?;
    let status = resp.status();
    let (mut received, mut hasher) = (0usize, Sha256::new());
    while let Some(part) = resp.chunk().await? {
        received += part.len();
        hasher.update(&part);
    }
    let download_secs = t.elapsed().as_secs_f64();
    let download_ok = status.is_success() && received == FILE_BYTES && hasher.finalize() == sha;

    heading(&format!(
        "4. Transfer over devnet's HTTP interface, one {} file (MB = 10^6 bytes)",
        size_label(FILE_BYTES)
    ));
    row(
        &format!("depot upload (CLI code path, {DEFAULT_PARALLEL} chunks in flight)"),
        format!("{}   {} chunks", mb_per_s(FILE_BYTES, upload_secs), out.sent_chunks),
    );
    row(
        "gateway GET of the signed URL (verified by devnet)",
        format!(
            "{}   status {}, {} B, SHA-256 {}",
            mb_per_s(received, download_secs),
            status.as_u16(),
            thousands(received as u64),
            if download_ok { "ok" } else { "MISMATCH" }
        ),
    );
    env.server.stop().await?;
    if !download_ok {
        return Err(anyhow!("the download did not return the file"));
    }
    Ok(())
}
