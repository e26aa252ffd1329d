//! `devnet start`: a local Internet Computer on one port — the IC HTTP
//! interface under `/api/…` and the HTTP gateway for `<id>.localhost`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Args, Parser, Subcommand};
use depot_devnet::http::ApiConfig;
use depot_devnet::http::server;
use depot_devnet::persistence::{Autosave, SaveOutcome, StateDir};
use depot_devnet::{Devnet, DevnetConfig};

/// How long a stop waits for calls in flight before the final save.
const SHUTDOWN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Parser)]
#[command(
    name = "devnet",
    version,
    about = "A local Internet Computer for real IC clients (ic-agent, @icp-sdk/core, browsers)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the network and serve until Ctrl-C.
    ///
    /// Without --state-dir the state lives in memory only: stopping the
    /// process loses every canister, and a fresh root key is generated at
    /// each start (the same one for the same --seed). With --state-dir the
    /// state (canisters, root key, time, finished requests) is saved there
    /// every few seconds and at Ctrl-C, and loaded at the next start.
    /// Clients fetch the root key from /api/v2/status (or --status-dir).
    Start(StartArgs),
}

#[derive(Args)]
struct StartArgs {
    /// Port of the HTTP interface and gateway (0 picks a free port).
    #[arg(long, default_value_t = 4943)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Keep the state in DIR: load it at start if DIR holds one (the saved
    /// root key and clock replace --seed and --start-time-ns), save what
    /// changed every --save-interval-secs and at Ctrl-C or SIGTERM. A crash
    /// loses at most the last interval, never the whole state.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Seconds between saves of the state (with --state-dir).
    #[arg(long, value_name = "N", default_value_t = depot_devnet::persistence::DEFAULT_SAVE_INTERVAL.as_secs())]
    save_interval_secs: u64,
    /// Write DIR/status.json ({"port", "gateway_port", "url", "root_key", "subnet_id", "subnets", "pid"})
    /// once the server listens, so scripts can find the port and root key.
    #[arg(long, value_name = "DIR")]
    status_dir: Option<PathBuf>,
    /// Model mainnet's update latency: an update call's outcome becomes
    /// visible N ms after it arrives (mainnet: about 1000–2000). Queries
    /// are not delayed. 0 answers as soon as the message has run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    update_latency_ms: u64,
    /// Seed for everything devnet draws at random (root key, node key,
    /// raw_rand): the same seed gives the same keys and bytes.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Start the clock at N nanoseconds since the Unix epoch and keep it
    /// there: it does not follow the wall clock. Clients reject certificates
    /// whose time is more than a few minutes from their own, so pick a time
    /// close to now.
    #[arg(long, value_name = "N")]
    start_time_ns: Option<u64>,
    /// Run N subnets (1 to 16). The first is the root subnet; each other
    /// owns its own range of canister ids, signs with its own key, and
    /// proves that key with a delegation from the root subnet, as on
    /// mainnet. Canisters go on the subnet of the effective canister id
    /// they were created through (the root subnet for aaaaa-aa), and a
    /// canister creates canisters on its own subnet. A state directory
    /// keeps its subnet count.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=depot_devnet::subnets::MAX_SUBNETS as i64))]
    subnets: u16,
    /// Set when icp-cli runs devnet as its network launcher.
    #[arg(skip)]
    launcher: Option<LauncherMode>,
}

/// Started by icp-cli: the system canisters' wasm, and its status format.
#[derive(Clone)]
struct LauncherMode {
    system_wasm_dir: PathBuf,
}

/// icp-cli's network-launcher command line (interface 1.x), as icp-cli
/// 1.5 passes it: `--interface-version 1.1.0 --state-dir D --bind ADDR
/// [--gateway-port N] --status-dir S [--verbose] --domain=…`.
#[derive(Parser)]
#[command(name = "devnet", about = "devnet as icp-cli's network launcher (ICP_CLI_NETWORK_LAUNCHER_PATH)")]
struct LauncherCli {
    #[arg(long)]
    interface_version: String,
    #[arg(long)]
    state_dir: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// 0 (or absent): any free port.
    #[arg(long, default_value_t = 0)]
    gateway_port: u16,
    #[arg(long)]
    status_dir: PathBuf,
    #[arg(long)]
    verbose: bool,
    /// Domains the gateway answers for: devnet answers for any host.
    #[arg(long)]
    domain: Vec<String>,
    #[arg(long)]
    artificial_delay_ms: Option<u64>,
    #[arg(long)]
    ii: bool,
    #[arg(long)]
    nns: bool,
    #[arg(long)]
    subnet: Vec<String>,
    #[arg(long)]
    bitcoind_addr: Vec<String>,
    #[arg(long)]
    dogecoind_addr: Vec<String>,
}

/// The launcher interface major version devnet speaks.
const LAUNCHER_INTERFACE_MAJOR: &str = "1";

impl LauncherCli {
    /// The `devnet start` this asks for, or why devnet cannot do it.
    fn into_start(self) -> Result<StartArgs, String> {
        if self.interface_version.split('.').next() != Some(LAUNCHER_INTERFACE_MAJOR) {
            return Err(format!(
                "launcher interface {} is not supported: devnet speaks {LAUNCHER_INTERFACE_MAJOR}.x",
                self.interface_version
            ));
        }
        let unsupported = [
            (self.ii, "--ii: Internet Identity's wasm cannot be had here"),
            (self.nns, "--nns: the NNS canisters' wasm cannot be had here"),
            (!self.bitcoind_addr.is_empty(), "--bitcoind-addr: devnet has no Bitcoin adapter"),
            (!self.dogecoind_addr.is_empty(), "--dogecoind-addr: devnet has no Dogecoin adapter"),
            (
                self.subnet.iter().any(|s| s != "application"),
                "--subnet other than application: devnet runs application subnets only",
            ),
            (self.subnet.len() > depot_devnet::subnets::MAX_SUBNETS, "more than 16 subnets"),
        ];
        if let Some((_, what)) = unsupported.iter().find(|(asked, _)| *asked) {
            return Err(format!("not supported by devnet: {what}"));
        }
        let bind = match self.bind.as_str() {
            "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            other => other.parse().map_err(|e| format!("--bind {other}: {e}"))?,
        };
        let exe = std::env::current_exe().map_err(|e| format!("cannot find devnet's own path: {e}"))?;
        Ok(StartArgs {
            port: self.gateway_port,
            bind,
            state_dir: self.state_dir,
            save_interval_secs: depot_devnet::persistence::DEFAULT_SAVE_INTERVAL.as_secs(),
            status_dir: Some(self.status_dir),
            update_latency_ms: self.artificial_delay_ms.unwrap_or(0),
            seed: None,
            start_time_ns: None,
            // The first application subnet is also the root subnet.
            subnets: self.subnet.len().max(1) as u16,
            launcher: Some(LauncherMode { system_wasm_dir: depot_devnet::launcher::system_wasm_dir(&exe) }),
        })
    }
}

fn main() -> ExitCode {
    let launcher = std::env::args().any(|a| a == "--interface-version" || a.starts_with("--interface-version="));
    let command = if launcher {
        match LauncherCli::parse().into_start() {
            Ok(args) => Command::Start(args),
            Err(e) => {
                eprintln!("devnet: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        Cli::parse().command
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("devnet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::Start(args) => runtime.block_on(start(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("devnet: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn start(args: StartArgs) -> Result<(), String> {
    let config = DevnetConfig {
        seed: args.seed,
        start_time_ns: args.start_time_ns,
        subnets: usize::from(args.subnets),
        ..DevnetConfig::default()
    };
    let (devnet, state_dir) = match &args.state_dir {
        None => (Devnet::new(config), None),
        Some(dir) => {
            let mut state = StateDir::open(dir)?;
            let devnet = match state.load(config.clone())? {
                Some(d) => {
                    println!("state loaded from {} ({} canisters)", dir.display(), d.canister_ids().len());
                    d
                }
                None => {
                    println!("state directory {} is new: starting empty", dir.display());
                    Devnet::new(config)
                }
            };
            (devnet, Some(state))
        }
    };
    let mut devnet = devnet;
    if let Some(launcher) = &args.launcher
        && devnet.canister_ids().is_empty()
    {
        depot_devnet::launcher::install_system_canisters(&mut devnet, &launcher.system_wasm_dir)?;
    }
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    let devnet = Arc::new(Mutex::new(devnet));
    let interval = std::time::Duration::from_secs(args.save_interval_secs.max(1));
    let autosave = state_dir.map(|dir| Autosave::start(devnet.clone(), dir, interval));
    let (root_key, subnet_ids) = {
        let d = devnet.lock().map_err(|_| "devnet lock poisoned")?;
        (d.root_key_der(), d.subnet_ids())
    };
    let subnet_id = subnet_ids[0];
    let url = format!(
        "http://{}:{}",
        if args.bind.is_unspecified() { "localhost".into() } else { args.bind.to_string() },
        addr.port()
    );

    let status_file = match &args.status_dir {
        Some(dir) => {
            let status = match args.launcher {
                Some(_) => depot_devnet::launcher::status_line(addr.port(), &root_key),
                None => status_json(addr.port(), &url, &root_key, &subnet_ids),
            };
            Some(write_status(dir, &status)?)
        }
        None => None,
    };
    println!("devnet listening on {url}");
    println!("root key: {}", hex::encode(&root_key));
    println!("subnet:   {subnet_id}");
    for (k, id) in subnet_ids.iter().enumerate().skip(1) {
        println!("subnet {k}: {id}");
    }
    println!("gateway:  http://<canister-id>.localhost:{}/  (raw: <canister-id>.raw.localhost)", addr.port());

    let api =
        ApiConfig { update_latency: std::time::Duration::from_millis(args.update_latency_ms), ..ApiConfig::default() };
    let result = server::run(listener, devnet, api, shutdown_signal()).await;
    if let Some(autosave) = autosave {
        match autosave.finish(SHUTDOWN_PATIENCE).await {
            Ok(SaveOutcome::Saved { snapshot, bytes_written, took }) => {
                println!("state saved ({snapshot}, {bytes_written} bytes written in {took:.2?})")
            }
            Ok(SaveOutcome::Unchanged) => println!("state saved"),
            Ok(SaveOutcome::Busy) => {
                eprintln!("devnet: calls still in flight after {SHUTDOWN_PATIENCE:?}: the state saved last is kept")
            }
            Err(e) => eprintln!("devnet: saving the state failed: {e}; the state saved last is kept"),
        }
    }
    if let Some(file) = status_file {
        let _ = std::fs::remove_file(file);
    }
    println!("devnet stopped");
    result.map_err(|e| format!("server error: {e}"))
}

/// `subnet_id` is the root subnet's; `subnets` lists every subnet, root first.
fn status_json(port: u16, url: &str, root_key: &[u8], subnet_ids: &[candid::Principal]) -> String {
    serde_json::json!({
        "port": port,
        "gateway_port": port,
        "url": url,
        "root_key": hex::encode(root_key),
        "subnet_id": subnet_ids[0].to_text(),
        "subnets": subnet_ids.iter().map(|s| s.to_text()).collect::<Vec<_>>(),
        "pid": std::process::id(),
    })
    .to_string()
}

fn write_status(dir: &std::path::Path, status: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create status dir {}: {e}", dir.display()))?;
    let path = dir.join("status.json");
    // Write then rename, so a script polling for the file never reads half of it.
    let tmp = dir.join("status.json.tmp");
    std::fs::write(&tmp, status).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
