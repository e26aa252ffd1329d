//! The README's main job: devnet with Depot deployed (the directory, which
//! creates its buckets as they are needed) and devnet's test ledgers beside
//! it (the CLI's identity gets test tokens and cycles credit, and controls
//! the directory, so `depot stat` shows the fleet), serving the IC HTTP
//! interface and the gateway until Ctrl-C.
//!
//! The state (canisters, files, root key) is kept in a state directory and
//! comes back at the next start, with the same ids and URLs:
//! `--state-dir DIR` (or `DEPOT_STATE_DIR`), by default `depot/devnet` in the
//! user's data directory (`~/.local/share` on Linux). `--fresh` empties it
//! first. It is saved every few seconds and at Ctrl-C; a crash loses at most
//! the last seconds.
//!
//! `--bucket-capacity BYTES` (or `DEPOT_BUCKET_CAPACITY`): capacity of the
//! buckets the directory creates, so that a demo fills them within a few
//! uploads (a new deployment only). `DEPOT_BUCKETS=N` registers N buckets
//! by hand instead (no pool).
//!
//! `--subnets N` (a new deployment only): devnet runs N subnets, Depot's
//! directory and gateway on the root subnet and, for N > 1, its buckets on
//! the last subnet (created through the stand-in CMC), so every download
//! is certified by a subnet with a delegation, as on mainnet.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use candid::{Encode, Principal};
use depot_api::directory::DirectoryInit;
use depot_cli::network::{Deployment as NetworkDeployment, config_dir, deployment_file};
use depot_devnet::DevnetConfig;
use depot_devnet::management::types::{CanisterSettings, UpdateSettingsArgs};
use depot_devnet::persistence::{Autosave, DEFAULT_SAVE_INTERVAL, SaveOutcome, StateDir};
use depot_tests::deploy::Deployment;
use depot_tests::env::{DepotEnv, EnvOpts};
use depot_tests::ledgers::{
    CYCLES_LEDGER_FEE, NEWCOMER_CYCLES, NEWCOMER_TOKENS, TOKEN_DECIMALS, TOKEN_SYMBOL, accept_test_token,
    deploy_ledgers, fund_newcomer,
};
use serde::{Deserialize, Serialize};

/// The ledgers' ids, as the banner prints them.
struct Ledgers {
    cycles: Principal,
    token: Principal,
}

/// What a restart needs besides devnet's own state: where Depot is.
#[derive(Serialize, Deserialize)]
struct LocalDeployment {
    /// The port the deployment was made for: bucket URLs name it.
    port: u16,
    directory: Principal,
    gateway: Principal,
    buckets: Vec<Principal>,
    cycles_ledger: Principal,
    token_ledger: Principal,
}

const LOCAL_DEPLOYMENT: &str = "depot-local.json";

#[tokio::main]
async fn main() -> Result<()> {
    let opts = Options::parse()?;
    let port = std::env::var("DEPOT_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(4943);
    let buckets = std::env::var("DEPOT_BUCKETS").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    // DEPOT_UPDATE_LATENCY_MS models mainnet's consensus latency (about
    // 1000–2000 ms) for update calls; queries are not delayed.
    let latency_ms = std::env::var("DEPOT_UPDATE_LATENCY_MS").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    let update_latency = std::time::Duration::from_millis(latency_ms);
    let config = config_dir()?;
    let me = depot_cli::identity::load_or_create_default(&config)?.sender().map_err(anyhow::Error::msg)?;

    if opts.fresh {
        empty_state_dir(&opts.state_dir)?;
    }
    let mut state = StateDir::open(&opts.state_dir).map_err(anyhow::Error::msg)?;
    let local_file = opts.state_dir.join(LOCAL_DEPLOYMENT);
    let (env, local, resumed) = if state.has_state().map_err(anyhow::Error::msg)? {
        let local: LocalDeployment = serde_json::from_slice(
            &std::fs::read(&local_file).with_context(|| format!("reading {}", local_file.display()))?,
        )
        .with_context(|| format!("{} is damaged", local_file.display()))?;
        let dev = state
            .load(DevnetConfig { debug_print: false, ..DevnetConfig::default() })
            .map_err(|e| anyhow::anyhow!("{e}\n(start with --fresh to begin again)"))?
            .context("the saved state vanished")?;
        if opts.subnets > 1 && dev.subnet_ids().len() != opts.subnets {
            println!(
                "note: --subnets is for a new deployment; this state keeps its {} subnet(s)",
                dev.subnet_ids().len()
            );
        }
        if local.port != port {
            println!("note: this state was deployed on port {}, whose URLs it keeps: serving there", local.port);
        }
        let deployment = Deployment {
            admin: depot_tests::deploy::admin_principal(),
            directory: local.directory,
            buckets: local.buckets.clone(),
            gateway: local.gateway,
        };
        let env = DepotEnv::resume(dev, deployment, local.port, update_latency).await?;
        (env, local, true)
    } else {
        let (env, local) = deploy_fresh(port, buckets, &opts, update_latency, me).await?;
        std::fs::write(&local_file, serde_json::to_vec_pretty(&local)?)?;
        // Saved at once: the next start finds the deployment even if this
        // one is killed before its first periodic save.
        env.with_devnet(|d| state.save(d, true)).map_err(anyhow::Error::msg)?;
        (env, local, false)
    };
    let autosave = Autosave::start(env.devnet.clone(), state, DEFAULT_SAVE_INTERVAL);
    let url = env.url();
    let saved = NetworkDeployment {
        url: url.clone(),
        directory: env.directory().to_text(),
        buckets: env.deployment.buckets.iter().map(|b| b.to_text()).collect(),
    };
    let deployment = env.deployment.clone();
    let ledgers = Ledgers { cycles: local.cycles_ledger, token: local.token_ledger };
    let file = deployment_file(&config, "local");
    std::fs::create_dir_all(file.parent().expect("has a parent"))?;
    std::fs::write(&file, serde_json::to_vec_pretty(&saved)?)?;

    if resumed {
        println!("Depot resumed from {} (--fresh starts over)", opts.state_dir.display());
    } else {
        println!("Depot deployed; its state is kept in {}", opts.state_dir.display());
    }
    println!("Depot is running on devnet at {url}");
    println!();
    println!("  Web app: http://{}.localhost:{}/   (open it in a browser)", deployment.gateway, env.port());
    println!();
    println!("  directory  {}", env.directory());
    println!(
        "  gateway    {}   the web app, and share links http://{}.localhost:{}/s/<share-id>",
        deployment.gateway,
        deployment.gateway,
        env.port()
    );
    for b in &env.deployment.buckets {
        println!("  bucket     {b}   gateway http://{b}.localhost:{}/", env.port());
    }
    if buckets == 0 && !resumed {
        let cap = opts.capacity.map(|c| format!("{c} bytes")).unwrap_or_else(|| "the default capacity".into());
        println!("  the directory creates more buckets ({cap} each) as uploads fill them: `depot stat` lists them");
    }
    println!("  root key   {}", hex::encode(&env.server.root_key_der));
    println!("  test ledgers (devnet/test-canisters, never on mainnet):");
    println!(
        "    cycles ledger  {}   your identity {me} was given {} T cycles",
        ledgers.cycles,
        (NEWCOMER_CYCLES - CYCLES_LEDGER_FEE) as f64 / 1e12
    );
    println!(
        "    token ledger   {}   {TOKEN_SYMBOL}: you were given {}",
        ledgers.token,
        NEWCOMER_TOKENS / 10u128.pow(TOKEN_DECIMALS as u32)
    );
    println!("  Depot accepts both: `depot pricing`, `depot deposit --cycles 2T` or `--token {TOKEN_SYMBOL} 5`");
    println!("  saved for the CLI in {}", file.display());
    println!();
    println!("Quick start (in another terminal):");
    println!("  cargo run -q -p depot-cli -- upload ./some-file        # prints the file id and a signed URL");
    println!("  cargo run -q -p depot-cli -- url <file-id>");
    println!("  cargo run -q -p depot-cli -- share <file-id> --expires 7d  # a link anyone can open");
    println!("  curl -o out \"<signed URL>\"                             # verified by devnet's HTTP gateway");
    println!();
    println!("Ctrl-C stops (the state is saved).");
    stop_signal().await;
    println!("stopping");
    env.server.stop().await?;
    match autosave.finish(std::time::Duration::from_secs(10)).await {
        Ok(SaveOutcome::Busy) => println!("calls still in flight: the state saved last is kept"),
        Ok(_) => println!("state saved in {}", opts.state_dir.display()),
        Err(e) => eprintln!("saving the state failed: {e}; the state saved last is kept"),
    }
    Ok(())
}

/// Deploys Depot and the test ledgers on a new devnet.
async fn deploy_fresh(
    port: u16,
    buckets: usize,
    opts: &Options,
    update_latency: std::time::Duration,
    me: Principal,
) -> Result<(DepotEnv, LocalDeployment)> {
    let directory_init = DirectoryInit {
        bucket_capacity_bytes: opts.capacity,
        // The local operator (the CLI's identity) controls the buckets too.
        bucket_controllers: Some(vec![depot_tests::deploy::admin_principal(), me]),
        ..DirectoryInit::default()
    };
    let (subnets, bucket_subnet) = (opts.subnets, (opts.subnets > 1).then(|| opts.subnets - 1));
    if bucket_subnet.is_some() && buckets > 0 {
        bail!("--subnets with DEPOT_BUCKETS: buckets on another subnet are the directory's to create");
    }
    let env =
        DepotEnv::start(EnvOpts { buckets, port, update_latency, directory_init, subnets, bucket_subnet }).await?;
    let admin = env.deployment.admin;
    let deployment = env.deployment.clone();
    let ledgers = env.with_devnet(|d| -> Result<_> {
        let l = deploy_ledgers(d, admin, admin, &[])?;
        fund_newcomer(d, admin, &l, me)?;
        accept_test_token(d, &deployment, &l)?;
        // `depot stat` (controllers only) works for the local user.
        let settings = CanisterSettings { controllers: Some(vec![admin, me]), ..Default::default() };
        let arg = UpdateSettingsArgs { canister_id: deployment.directory, settings, sender_canister_version: None };
        let out = d.update(admin, Principal::management_canister(), "update_settings", &Encode!(&arg)?)?;
        out.result.map_err(|r| anyhow::anyhow!("update_settings: {r:?}"))?;
        Ok(l)
    })?;
    let local = LocalDeployment {
        port: env.port(),
        directory: deployment.directory,
        gateway: deployment.gateway,
        buckets: deployment.buckets.clone(),
        cycles_ledger: ledgers.cycles,
        token_ledger: ledgers.token,
    };
    Ok((env, local))
}

/// Empties a state directory for `--fresh`, refusing one that holds
/// anything but a saved state (a mistyped path must not lose files).
fn empty_state_dir(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name == LOCAL_DEPLOYMENT || name == "CURRENT" || name == "lock" || name.starts_with("snap-");
        if !ours {
            bail!("--fresh: {} holds {name}, which is not a devnet state; not emptying it", dir.display());
        }
    }
    std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {},
    }
}

struct Options {
    state_dir: PathBuf,
    fresh: bool,
    /// `--bucket-capacity BYTES`, else `DEPOT_BUCKET_CAPACITY`, else none
    /// (the directory's default).
    capacity: Option<u64>,
    /// `--subnets N`: devnet's subnets for a new deployment (default 1).
    subnets: usize,
}

impl Options {
    fn parse() -> Result<Self> {
        let mut args = std::env::args().skip(1);
        let mut capacity = std::env::var("DEPOT_BUCKET_CAPACITY").ok();
        let mut state_dir = std::env::var("DEPOT_STATE_DIR").ok().map(PathBuf::from);
        let mut fresh = false;
        let mut subnets = 1;
        while let Some(a) = args.next() {
            match a.as_str() {
                "--subnets" => {
                    let n = args.next().context("--subnets needs N")?;
                    subnets = n
                        .parse()
                        .ok()
                        .filter(|n| (1..=depot_devnet::subnets::MAX_SUBNETS).contains(n))
                        .with_context(|| format!("--subnets {n:?}: 1 to {}", depot_devnet::subnets::MAX_SUBNETS))?;
                }
                "--bucket-capacity" => capacity = Some(args.next().context("--bucket-capacity needs BYTES")?),
                "--state-dir" => state_dir = Some(args.next().context("--state-dir needs DIR")?.into()),
                "--fresh" => fresh = true,
                other => bail!(
                    "unknown argument {other}: depot-local takes --bucket-capacity BYTES, --state-dir DIR, --fresh, --subnets N"
                ),
            }
        }
        let capacity = capacity
            .map(|v| v.parse::<u64>().with_context(|| format!("bucket capacity {v:?} is not a number of bytes")))
            .transpose()?;
        let state_dir = match state_dir {
            Some(d) => d,
            None => dirs::data_dir()
                .context("no data directory on this system; pass --state-dir DIR")?
                .join("depot")
                .join("devnet"),
        };
        Ok(Options { state_dir, fresh, capacity, subnets })
    }
}
