//! `depot`: the command-line client.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use depot_api::DirectoryError;
use depot_api::directory::{FileStatus, GetDownloadUrlReq};
use depot_api::url::Disposition;
use depot_cli::billing::{deposit_hint, human_cycles};
use depot_cli::client::{CallError, Depot};
use depot_cli::format::human_bytes;
use depot_cli::{batch, download, identity, network, upload};
use serde_json::json;
use std::io::IsTerminal;
use std::path::PathBuf;

mod commands;
mod sharing;

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
    /// Upload files, and with -r folders (resumes an interrupted upload of
    /// the same file under the same name).
    ///
    /// A folder's files are stored under their path relative to it
    /// (`photos/2024/a.jpg`); symbolic links inside folders are skipped.
    /// With several files, one that fails does not stop the others.
    Upload {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Upload the files in folders, at any depth.
        #[arg(short, long)]
        recursive: bool,
        /// Store the (one) file under this name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        mime: Option<String>,
        /// Chunks in flight at once, per file.
        #[arg(long, default_value_t = upload::DEFAULT_PARALLEL)]
        parallel: usize,
        /// Files in flight at once.
        #[arg(long, default_value_t = batch::DEFAULT_PARALLEL_FILES)]
        parallel_files: usize,
        /// Skip a file already stored under the same name with the same
        /// size and SHA-256.
        #[arg(long)]
        skip_existing: bool,
        /// Delete the file this many days after the upload; it is charged
        /// for that long only (default: kept until you delete it).
        #[arg(long, value_name = "DAYS")]
        retention_days: Option<u32>,
        /// Fail at once when the directory asks to retry later (too many
        /// uploads started, or no bucket ready yet) instead of waiting.
        #[arg(long)]
        no_wait: bool,
    },
    /// Download files, verifying every chunk against the IC's certified
    /// data (and the SHA-256 declared at upload).
    ///
    /// One file without -o is written into the current directory under its
    /// stored name made safe: the last path component only, no control
    /// characters, no leading dot, at most 255 bytes. Several files (or
    /// --all) go into the -o folder (default: the current one), each under
    /// its stored name with its folders, every part made safe the same way.
    Download {
        #[arg(value_name = "FILE_ID", required_unless_present = "all", conflicts_with = "all")]
        file_ids: Vec<String>,
        /// Every file you have, or with --prefix those whose name starts so.
        #[arg(long)]
        all: bool,
        /// With --all: only names starting with this (e.g. `photos/2024/`).
        #[arg(long, requires = "all")]
        prefix: Option<String>,
        /// Where to write: a file path, or a folder to write into.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Chunks in flight at once, per file.
        #[arg(long, default_value_t = download::DEFAULT_PARALLEL)]
        parallel: usize,
        /// Files in flight at once.
        #[arg(long, default_value_t = batch::DEFAULT_PARALLEL_FILES)]
        parallel_files: usize,
        /// Replace target files that already exist.
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
    /// Share a file: a link anyone can open, no sign-in, until it expires
    /// or you revoke it. The link's page shows the file; its `/raw` form
    /// redirects to the file itself (for curl -L, <img>, <video>).
    Share {
        file_id: String,
        /// Lifetime: 30m, 12h, 7d (at most 365d); default: until revoked.
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
        /// Browsers save the file rather than show it.
        #[arg(long)]
        download_only: bool,
        /// The link works this many times.
        #[arg(long, value_name = "N")]
        max_uses: Option<u32>,
    },
    /// List your shares.
    Shares,
    /// Revoke a share: its link stops working at once.
    Unshare { share_id: String },
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
        Cmd::Upload {
            paths,
            recursive,
            name,
            mime,
            parallel,
            parallel_files,
            skip_existing,
            retention_days,
            no_wait,
        } => {
            if !no_wait {
                depot.max_wait = Some(upload::DEFAULT_MAX_WAIT);
            }
            let collected = batch::collect(&paths, recursive, name.as_deref())?;
            for why in &collected.skipped {
                eprintln!("skipped {why}");
            }
            let single = collected.jobs.len() == 1;
            if single {
                let size = std::fs::metadata(&collected.jobs[0].path)?.len();
                let cost = depot.estimate_upload_cost(size).await?;
                if cost.cycles > 0 && !cli.json {
                    eprintln!("{}", cost_line(&cost));
                }
            }
            let opts = batch::ManyOpts {
                parallel_files,
                parallel,
                mime,
                retention_days,
                skip_existing,
                progress: tty,
                urls: cli.json || single,
            };
            let total = collected.jobs.len();
            let mut first_error = None;
            let summary = batch::upload_many(&depot, &config_dir, collected.jobs, &opts, |bars, done| {
                let line = upload_line(done, cli.json, single);
                if !line.is_empty() {
                    bars.println(&line);
                }
                if let Err(e) = &done.result {
                    if !cli.json {
                        eprintln!("failed {}: {e:#}", done.job.name);
                    }
                    first_error.get_or_insert_with(|| anyhow::anyhow!("{e:#}"));
                }
            })
            .await?;
            if cli.json {
                println!("{}", summary.json());
            } else if !single {
                eprintln!("{}", summary_line("uploaded", &summary));
            }
            if let Some(e) = first_error {
                if single {
                    return Err(explain_short_credit(&depot, e).await);
                }
                anyhow::bail!("{} of {total} files failed (run the same command again to retry them)", summary.failed);
            }
        }
        Cmd::Download { file_ids, all, prefix, output, parallel, parallel_files, force } => {
            let opts = download::DownloadOpts { parallel, progress: tty, overwrite: force };
            if let [one] = file_ids.as_slice() {
                let fid = upload::parse_file_id(&depot, one)?;
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
                return Ok(());
            }
            let files = if all {
                let prefix = prefix.unwrap_or_default();
                let files: Vec<_> =
                    batch::list_all(&depot, false).await?.into_iter().filter(|f| f.name.starts_with(&prefix)).collect();
                if files.is_empty() {
                    anyhow::bail!("no file's name starts with {prefix:?}: `depot ls` lists them");
                }
                files
            } else {
                let mut files = vec![];
                for id in &file_ids {
                    files.push(depot.get_file_meta(upload::parse_file_id(&depot, id)?).await?);
                }
                files
            };
            let dir = output.unwrap_or_else(|| PathBuf::from("."));
            let total = files.len();
            let summary = batch::download_many(&depot, files, &dir, &opts, parallel_files, |bars, done| {
                let key = done.meta.file_id.key().map(|k| k.to_hex()).unwrap_or_default();
                use batch::Fetched;
                let line = match (&done.result, cli.json) {
                    (Ok(Fetched::AlreadyThere), true) => {
                        json!({"file_id": key, "name": done.meta.name, "path": done.path,
                        "skipped": "the file there holds the same bytes"})
                        .to_string()
                    }
                    (Ok(Fetched::AlreadyThere), false) => String::new(),
                    (Ok(Fetched::Downloaded(r)), true) => {
                        json!({"file_id": key, "name": done.meta.name, "path": done.path, "bytes": r.bytes,
                                            "chunks_verified": r.chunks, "sha256_checked": r.sha256_checked})
                        .to_string()
                    }
                    (Err(e), true) => {
                        json!({"file_id": key, "name": done.meta.name, "error": format!("{e:#}")}).to_string()
                    }
                    (Ok(_), false) => done.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                    (Err(e), false) => {
                        eprintln!("failed {}: {e:#}", done.meta.name);
                        String::new()
                    }
                };
                if !line.is_empty() {
                    bars.println(&line);
                }
            })
            .await?;
            if cli.json {
                println!("{}", summary.json());
            } else {
                eprintln!("{}", summary_line("downloaded", &summary));
            }
            if summary.failed > 0 {
                anyhow::bail!("{} of {total} files failed", summary.failed);
            }
        }
        Cmd::Ls { all } => {
            let rows = batch::list_all(&depot, all).await?;
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
        Cmd::Share { file_id, expires, download_only, max_uses } => {
            let expires_in_secs = expires.as_deref().map(sharing::parse_duration_secs).transpose()?;
            let req = depot_api::share::CreateShareReq {
                file_id: upload::parse_file_id(&depot, &file_id)?,
                expires_in_secs,
                download_only,
                max_uses,
            };
            let s = depot.create_share(req).await?;
            if cli.json {
                println!("{}", sharing::share_json(&s));
            } else {
                match &s.url {
                    Some(url) => println!("{url}"),
                    None => println!("share {} (this directory has no gateway for share links)", s.share_id),
                }
            }
        }
        Cmd::Shares => sharing::shares(&depot, cli.json).await?,
        Cmd::Unshare { share_id } => {
            let revoked = depot.revoke_share(&share_id).await?;
            if cli.json {
                println!("{}", json!({"share_id": share_id, "revoked": revoked}));
            } else if revoked {
                println!("revoked {share_id}");
            } else {
                anyhow::bail!("you have no share {share_id:?}: `depot shares` lists yours");
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

/// What `depot upload` prints for one file: a JSON object per file with
/// `--json`; else, for one file, its id, name and size and its URL, and for
/// several a line per file.
fn upload_line(done: &batch::UploadDone, as_json: bool, single: bool) -> String {
    use batch::Uploaded;
    let key = |m: &depot_api::directory::FileMeta| m.file_id.key().map(|k| k.to_hex()).unwrap_or_default();
    match (&done.result, as_json) {
        (Ok(Uploaded::Sent { outcome: o, url }), true) => json!({"file_id": key(&o.meta), "name": o.meta.name,
            "size": o.meta.size_bytes, "bucket": o.meta.bucket.to_text(), "url": url, "resumed": o.resumed,
            "sent_chunks": o.sent_chunks, "skipped_chunks": o.skipped_chunks, "path": done.job.path})
        .to_string(),
        (Ok(Uploaded::Skipped(m)), true) => json!({"file_id": key(m), "name": m.name, "size": m.size_bytes,
            "skipped": "already stored with the same size and SHA-256", "path": done.job.path})
        .to_string(),
        (Err(e), true) => json!({"name": done.job.name, "path": done.job.path, "error": format!("{e:#}")}).to_string(),
        (Ok(Uploaded::Sent { outcome: o, url }), false) => {
            let resumed = if o.resumed {
                format!("  (resumed: {} chunk(s) already stored)", o.skipped_chunks)
            } else {
                String::new()
            };
            let line = format!("{}  {:>10}  {}{resumed}", key(&o.meta), human_bytes(o.meta.size_bytes), o.meta.name);
            match (single, url) {
                (true, Some(u)) => format!("{line}\n{u}"),
                _ => line,
            }
        }
        (Ok(Uploaded::Skipped(m)), false) => {
            format!("{}  {:>10}  {}  (already stored)", key(m), human_bytes(m.size_bytes), m.name)
        }
        (Err(_), false) => String::new(),
    }
}

/// The last line of a batch: counts, bytes and rate.
fn summary_line(verb: &str, s: &batch::Summary) -> String {
    let secs = s.elapsed.as_secs_f64().max(0.001);
    format!(
        "{verb} {} file(s), {} in {:.1} s ({}/s); {} skipped, {} failed",
        s.done,
        human_bytes(s.bytes),
        secs,
        human_bytes((s.bytes as f64 / secs) as u64),
        s.skipped,
        s.failed
    )
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
