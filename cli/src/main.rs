//! `depot`: the command-line client.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use depot_api::DirectoryError;
use depot_api::directory::{FileStatus, GetDownloadUrlReq, ListFilesReq};
use depot_api::url::Disposition;
use depot_cli::billing::{deposit_hint, human_cycles};
use depot_cli::client::{CallError, Depot};
use depot_cli::format::human_bytes;
use depot_cli::{download, identity, network, upload};
use serde_json::json;
use std::io::IsTerminal;
use std::path::PathBuf;

mod commands;

#[derive(Parser)]
#[command(name = "depot", version, about = "Store files on the Internet Computer with Depot")]
struct Cli {
    /// local, ic, or the URL of an IC API endpoint.
    #[arg(long, global = true, env = "DEPOT_NETWORK", default_value = "local")]
    network: String,
    /// Directory canister id (default: the one `scripts/start.sh` saved for the network).
    #[arg(long, global = true, env = "DEPOT_DIRECTORY")]
    directory: Option<String>,
    /// PEM identity file (dfx/icp-cli compatible); default: a key kept in the config dir.
    #[arg(long, global = true, env = "DEPOT_IDENTITY")]
    identity: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Upload a file (resumes an interrupted upload of the same file).
    Upload {
        file: PathBuf,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        mime: Option<String>,
        /// Chunks in flight at once.
        #[arg(long, default_value_t = upload::DEFAULT_PARALLEL)]
        parallel: usize,
        /// Delete the file this many days after the upload; it is charged
        /// for that long only (default: kept until you delete it).
        #[arg(long, value_name = "DAYS")]
        retention_days: Option<u32>,
        /// Fail at once when the directory asks to retry later (too many
        /// uploads started, or no bucket ready yet) instead of waiting.
        #[arg(long)]
        no_wait: bool,
    },
    /// Download a file, verifying every chunk against the IC's certified
    /// data (and the SHA-256 declared at upload).
    ///
    /// Without -o the file is written into the current directory under its
    /// stored name made safe: the last path component only, no control
    /// characters, no leading dot, at most 255 bytes.
    Download {
        file_id: String,
        /// Where to write: a file path, or an existing directory to write into.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Chunks in flight at once.
        #[arg(long, default_value_t = download::DEFAULT_PARALLEL)]
        parallel: usize,
        /// Replace the target file if it already exists.
        #[arg(short, long)]
        force: bool,
    },
    /// List your files.
    Ls {
        /// Include uploads in progress.
        #[arg(long)]
        all: bool,
    },
    /// Delete a file, or abort its upload when it is still in progress.
    Rm { file_id: String },
    /// Print a signed download URL.
    Url {
        file_id: String,
        /// Lifetime in seconds.
        #[arg(long)]
        ttl: Option<u64>,
        /// Make browsers save the file instead of showing it.
        #[arg(long)]
        download: bool,
    },
    /// Show your usage and quota.
    Usage,
    /// Set when a file is deleted: DAYS from now, or `forever` (kept until
    /// you delete it). Storage is charged until then.
    Retain { file_id: String, days: String },
    /// Show system statistics and the bucket fleet (controllers only).
    Stat,
    /// Roll the bucket wasm the directory carries out to its buckets: a
    /// canary, then BATCH per minute (controllers only). Again: resumes a
    /// paused rollout. `depot stat` shows progress.
    UpgradeBuckets {
        #[arg(long)]
        batch: Option<u32>,
    },
    /// Show what Depot charges and the tokens it accepts.
    Pricing,
    /// Show your credit: balance, burn rate, runway, state and last movements.
    Balance,
    /// Add credit, paid from your account on the cycles ledger or on a token
    /// ledger (approves the directory, then deposits).
    #[command(group(clap::ArgGroup::new("pay").required(true).args(["cycles", "token"])))]
    Deposit {
        /// Cycles, e.g. 2T, 0.5T, 300B.
        #[arg(long)]
        cycles: Option<String>,
        /// A token `depot pricing` lists and an amount, e.g. --token TUSD 12.5
        #[arg(long, num_args = 2, value_names = ["SYMBOL", "AMOUNT"])]
        token: Option<Vec<String>>,
    },
    /// What uploading a file would cost you now.
    Estimate { file: PathBuf },
    /// Print a shell completion script, e.g. `depot completions bash >
    /// ~/.local/share/bash-completion/completions/depot`.
    Completions { shell: clap_complete::Shell },
}

fn main() {
    let cli = Cli::parse();
    // Needs no network: answered before connecting.
    if let Cmd::Completions { shell } = cli.cmd {
        clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "depot", &mut std::io::stdout());
        return;
    }
    let json = cli.json;
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(e) = rt.block_on(run(cli)) {
        if json {
            println!("{}", json!({ "error": format!("{e:#}") }));
        } else {
            eprintln!("error: {e:#}");
        }
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let config_dir = network::config_dir()?;
    let net = network::resolve(&config_dir, &cli.network, cli.directory.as_deref())?;
    let id = match &cli.identity {
        Some(p) => identity::from_pem_file(p)?,
        None => identity::load_or_create_default(&config_dir)?,
    };
    let mut depot = Depot::connect(&net.url, !net.is_mainnet, id, net.directory).await?;
    let tty = std::io::stderr().is_terminal() && !cli.json;
    match cli.cmd {
        Cmd::Upload { file, name, mime, parallel, retention_days, no_wait } => {
            if !no_wait {
                depot.max_wait = Some(upload::DEFAULT_MAX_WAIT);
            }
            let size = std::fs::metadata(&file).with_context(|| format!("cannot read {}", file.display()))?.len();
            let cost = depot.estimate_upload_cost(size).await?;
            if cost.cycles > 0 && !cli.json {
                eprintln!("{}", cost_line(&cost));
            }
            let opts = upload::UploadOpts {
                path: file,
                name,
                mime,
                parallel,
                progress: tty,
                stop_after: None,
                retention_days,
            };
            let out = match upload::upload(&depot, &config_dir, opts).await {
                Err(e) => return Err(explain_short_credit(&depot, e).await),
                Ok(out) => out,
            };
            let key = out.meta.file_id.key().context("malformed file id")?.to_hex();
            let url = depot
                .get_download_url(GetDownloadUrlReq {
                    file_id: out.meta.file_id.clone(),
                    ttl_secs: None,
                    disposition: None,
                })
                .await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"file_id": key, "name": out.meta.name, "size": out.meta.size_bytes, "bucket": out.meta.bucket.to_text(),
                           "url": url.url, "resumed": out.resumed, "sent_chunks": out.sent_chunks, "skipped_chunks": out.skipped_chunks})
                );
            } else {
                if out.resumed {
                    eprintln!("resumed: {} chunk(s) were already stored", out.skipped_chunks);
                }
                println!("{key}  {}  {}", out.meta.name, human_bytes(out.meta.size_bytes));
                println!("{}", url.url);
            }
        }
        Cmd::Download { file_id, output, parallel, force } => {
            let fid = upload::parse_file_id(&depot, &file_id)?;
            let opts = download::DownloadOpts { parallel, progress: tty, overwrite: force };
            let (out, r) = download::download_file(&depot, fid, output.as_deref(), &opts).await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"path": out, "bytes": r.bytes, "chunks_verified": r.chunks, "sha256_checked": r.sha256_checked})
                );
            } else {
                println!(
                    "{} ({}, {} certified chunk(s){})",
                    out.display(),
                    human_bytes(r.bytes),
                    r.chunks,
                    if r.sha256_checked { ", SHA-256 ok" } else { "" }
                );
            }
        }
        Cmd::Ls { all } => {
            let mut cursor = None;
            let mut rows = vec![];
            loop {
                let page = depot
                    .list_files(ListFilesReq { cursor: cursor.take(), limit: None, include_pending: Some(all) })
                    .await?;
                rows.extend(page.files);
                match page.next {
                    Some(n) => cursor = Some(n),
                    None => break,
                }
            }
            if cli.json {
                let v: Vec<_> = rows
                    .iter()
                    .map(|f| json!({"file_id": f.file_id.key().map(|k| k.to_hex()), "name": f.name, "size": f.size_bytes,
                                    "mime": f.mime, "status": format!("{:?}", f.status), "created_at_ns": f.created_at_ns,
                                    "delete_at_ns": f.delete_at_ns}))
                    .collect();
                println!("{}", serde_json::Value::Array(v));
            } else {
                for f in rows {
                    let status =
                        if f.status == FileStatus::Ready { String::new() } else { format!("  [{:?}]", f.status) };
                    let key = f.file_id.key().map(|k| k.to_hex()).unwrap_or_default();
                    let until =
                        f.delete_at_ns.map(|t| format!("  (deleted on {})", commands::ns_date(t))).unwrap_or_default();
                    println!("{key}  {:>10}  {}{status}{until}", human_bytes(f.size_bytes), f.name);
                }
            }
        }
        Cmd::Rm { file_id } => {
            let fid = upload::parse_file_id(&depot, &file_id)?;
            let r = depot.delete_file(fid).await?;
            if cli.json {
                println!("{}", json!({"deleted": file_id, "freed_bytes": r.freed_bytes}));
            } else {
                println!("deleted {file_id} ({} freed)", human_bytes(r.freed_bytes));
            }
        }
        Cmd::Url { file_id, ttl, download } => {
            let fid = upload::parse_file_id(&depot, &file_id)?;
            let disposition = Some(if download { Disposition::Attachment } else { Disposition::Inline });
            let u = depot.get_download_url(GetDownloadUrlReq { file_id: fid, ttl_secs: ttl, disposition }).await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"url": u.url, "expires_at_secs": u.expires_at_secs, "bucket": u.bucket.to_text()})
                );
            } else {
                println!("{}", u.url);
            }
        }
        Cmd::Usage => {
            let u = depot.get_usage().await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"user": u.user.to_text(), "used_bytes": u.used_bytes, "reserved_bytes": u.reserved_bytes,
                           "quota_bytes": u.quota_bytes, "files": u.files_count, "uploads_in_progress": u.uploads_in_progress})
                );
            } else {
                println!("user      {}", u.user);
                println!("used      {} of {}", human_bytes(u.used_bytes), human_bytes(u.quota_bytes));
                println!(
                    "reserved  {} ({} upload(s) in progress)",
                    human_bytes(u.reserved_bytes),
                    u.uploads_in_progress
                );
                println!("files     {}", u.files_count);
            }
        }
        Cmd::Stat => commands::stat(&depot, cli.json).await?,
        Cmd::UpgradeBuckets { batch } => {
            let req = depot_api::directory::UpgradeBucketsReq { batch_size: batch };
            let r = depot.admin_upgrade_buckets(req).await?;
            if cli.json {
                println!("{}", commands::rollout_json(&r));
            } else {
                println!("{}", commands::rollout_line(&r));
            }
        }
        Cmd::Retain { file_id, days } => {
            let days = match days.as_str() {
                "forever" => None,
                d => Some(d.trim_end_matches('d').parse::<u32>().context("DAYS is a number of days, or `forever`")?),
            };
            let fid = upload::parse_file_id(&depot, &file_id)?;
            let meta = depot.set_retention(depot_api::directory::SetRetentionReq { file_id: fid, days }).await?;
            match (cli.json, meta.delete_at_ns) {
                (true, at) => println!("{}", json!({"file_id": file_id, "delete_at_ns": at})),
                (false, Some(at)) => println!("{} is deleted on {}", meta.name, commands::ns_date(at)),
                (false, None) => println!("{} is kept until you delete it", meta.name),
            }
        }
        Cmd::Completions { .. } => unreachable!("answered in main, before connecting"),
        Cmd::Pricing => commands::pricing(&depot, cli.json).await?,
        Cmd::Balance => commands::balance(&depot, cli.json).await?,
        Cmd::Deposit { cycles, token } => commands::deposit(&depot, cycles, token, cli.json).await?,
        Cmd::Estimate { file } => {
            let size = std::fs::metadata(&file).with_context(|| format!("cannot read {}", file.display()))?.len();
            let cost = depot.estimate_upload_cost(size).await?;
            let pricing = depot.get_pricing().await?;
            commands::estimate(&cost, &pricing, size, cli.json);
        }
    }
    Ok(())
}

fn cost_line(c: &depot_api::billing::UploadCost) -> String {
    format!(
        "cost: {} to upload, {} for the first period of storage (held until the upload ends)",
        human_cycles(c.upload_cycles),
        human_cycles(c.first_period_cycles)
    )
}

/// Short credit: the amounts and the exact command that fixes it.
async fn explain_short_credit(depot: &Depot, e: anyhow::Error) -> anyhow::Error {
    let Some(CallError::Directory(DirectoryError::InsufficientCredit { required, available })) =
        e.downcast_ref::<CallError>()
    else {
        return e;
    };
    let min = depot.get_pricing().await.map(|p| p.min_deposit_cycles).unwrap_or(0);
    let short = u128::from(*required).saturating_sub(u128::from(*available));
    anyhow::anyhow!(
        "insufficient credit: this upload needs {} of credit, you have {} available. Add credit with:\n  {}",
        human_cycles(u128::from(*required)),
        human_cycles(u128::from(*available)),
        deposit_hint(short, min)
    )
}
