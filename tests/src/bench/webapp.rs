//! Section 9: the web app. The size of what the gateway serves (`www/dist`,
//! raw and gzipped), the time from opening the app to an interactive list
//! in headless Chromium, and one 100 MiB upload from the browser beside the
//! CLI's upload of the same bytes, both over devnet's HTTP interface.

use super::*;
use crate::browser::{ensure_browser, run_script};
use crate::env::{DepotEnv, EnvOpts};
use depot_cli::upload::{DEFAULT_PARALLEL, UploadOpts, upload as cli_upload};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The file uploaded from the browser and from the CLI.
const FILE_BYTES: usize = 100 * MIB;

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/dist")
}

fn gzipped(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory").len()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() { files_under(&p, out)? } else { out.push(p) }
    }
    Ok(())
}

pub async fn run() -> Result<()> {
    let mut files = vec![];
    files_under(&dist(), &mut files).map_err(|e| anyhow!("www/dist: {e} (scripts/build-wasm.sh builds it)"))?;
    files.sort();
    heading("9. The web app (www/, served by the gateway canister)");
    let (mut raw, mut gz) = (0, 0);
    for f in &files {
        let bytes = std::fs::read(f)?;
        let name = f.strip_prefix(dist())?.display().to_string();
        row(
            &format!("asset {name}"),
            format!("{:>9} B, gzipped {:>8} B", thousands(bytes.len() as u64), thousands(gzipped(&bytes) as u64)),
        );
        raw += bytes.len();
        gz += gzipped(&bytes);
    }
    row("all assets", format!("{:>9} B, gzipped {:>8} B", thousands(raw as u64), thousands(gz as u64)));

    ensure_browser();
    let scratch = tempfile::tempdir()?;
    let path = scratch.path().join("hundred.bin");
    std::fs::write(&path, pattern(FILE_BYTES, 9))?;
    let env = DepotEnv::start(EnvOpts {
        buckets: 1,
        directory_init: raised_limits(depot_api::limits::CHUNK_SIZE),
        ..EnvOpts::default()
    })
    .await?;
    let app = format!("http://{}.localhost:{}/", env.deployment.gateway, env.port());
    let input = serde_json::json!({"app": app, "file": path});
    let seen = tokio::task::spawn_blocking(move || run_script("bench-upload.mjs", "DEPOT_BENCH_CASE", &input)).await?;
    if seen["state"] != "done" {
        return Err(anyhow!("the browser upload did not finish: {seen}"));
    }
    let ms = |k: &str| seen[k].as_f64().unwrap_or(f64::NAN);
    row("open the app → sign-in screen (Chromium, devnet)", format!("{:>8.0} ms", ms("ms_to_sign_in")));
    row("sign in → interactive (empty) file list", format!("{:>8.0} ms", ms("ms_sign_in_to_list")));
    let mb = FILE_BYTES as f64 / 1e6;
    row(
        &format!("browser upload of {} (hash, then 4 chunks in flight)", size_label(FILE_BYTES)),
        format!(
            "{:>8.2} s {:>8.1} MB/s (of which hashing {:.2} s; sending alone {:.1} MB/s)",
            ms("ms_upload") / 1e3,
            mb / (ms("ms_upload") / 1e3),
            ms("ms_hashing") / 1e3,
            mb / ((ms("ms_upload") - ms("ms_hashing")) / 1e3)
        ),
    );
    let client = env.client(DepotEnv::identity(1)).await?;
    let opts = UploadOpts {
        path: path.clone(),
        name: None,
        mime: None,
        parallel: DEFAULT_PARALLEL,
        progress: false,
        stop_after: None,
        retention_days: None,
    };
    let t = Instant::now();
    cli_upload(&client, &scratch.path().join("cli-config"), opts).await?;
    let secs = t.elapsed().as_secs_f64();
    row(
        &format!("depot upload of the same file ({DEFAULT_PARALLEL} chunks in flight)"),
        format!("{secs:>8.2} s {:>8.1} MB/s", mb / secs),
    );
    env.server.stop().await?;
    Ok(())
}
