//! Section 6: time to first byte of a seek through devnet's verifying
//! gateway, with devnet's modelled update latency at 0 and at 1,500 ms
//! (mainnet's consensus round is about 1–2 s). A media element's seek is
//! answered by the query (the certified chunk holding the byte); a client
//! asking for exact bytes mid-chunk is answered by `http_request_update`,
//! which waits for consensus.

use super::*;
use crate::env::{DepotEnv, EnvOpts};
use depot_api::limits::CHUNK_SIZE;
use depot_cli::upload::{DEFAULT_PARALLEL, UploadOpts, upload as cli_upload};
use std::time::{Duration, Instant};

/// Seeks timed per case; the median is printed.
const SEEKS: usize = 7;
const LATENCIES_MS: [u64; 2] = [0, 1500];

async fn first_byte(http: &reqwest::Client, url: &str, headers: &[(&str, String)]) -> Result<Duration> {
    let mut req = http.get(url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let t = Instant::now();
    let mut resp = req.send().await?;
    if resp.status() != 206 {
        return Err(anyhow!("seek answered {}", resp.status()));
    }
    resp.chunk().await?.ok_or_else(|| anyhow!("empty body"))?;
    let elapsed = t.elapsed();
    while resp.chunk().await?.is_some() {}
    Ok(elapsed)
}

fn median_ms(mut xs: Vec<Duration>) -> String {
    xs.sort();
    format!("{:>8.1} ms", xs[xs.len() / 2].as_secs_f64() * 1e3)
}

pub async fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("depot-bench-seek-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let c = CHUNK_SIZE as usize;
    let path = dir.join("clip.bin");
    std::fs::write(&path, pattern(4 * c + 99, 6))?;
    heading("6. Time to first byte of a seek through the verifying gateway (median)");
    for latency_ms in LATENCIES_MS {
        let update_latency = Duration::from_millis(latency_ms);
        let env = DepotEnv::start(EnvOpts { update_latency, ..EnvOpts::default() }).await?;
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
        let out = cli_upload(&client, &dir.join("cfg"), opts).await?;
        let url = client
            .get_download_url(GetDownloadUrlReq { file_id: out.meta.file_id, ttl_secs: None, disposition: None })
            .await?
            .url;
        let http = env.http();
        let (mut media, mut exact) = (Vec::new(), Vec::new());
        for i in 0..SEEKS {
            let at = (i % 4) * c + 12_345 + i;
            let media_headers = [("Range", format!("bytes={at}-")), ("Sec-Fetch-Dest", "video".to_string())];
            media.push(first_byte(&http, &url, &media_headers).await?);
            exact.push(first_byte(&http, &url, &[("Range", format!("bytes={at}-{}", at + 9_999))]).await?);
        }
        row(&format!("update latency {latency_ms:>4} ms: <video> seek (certified chunk, query)"), median_ms(media));
        row(&format!("update latency {latency_ms:>4} ms: exact range mid-chunk (update call)"), median_ms(exact));
        env.server.stop().await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
