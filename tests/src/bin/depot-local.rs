//! The README's main job: devnet with Depot deployed (the directory, which
//! creates its buckets as they are needed) and devnet's test ledgers beside
//! it (the CLI's identity gets test tokens and cycles credit, and controls
//! the directory, so `depot stat` shows the fleet), serving the IC HTTP
//! interface and the gateway until Ctrl-C.
//!
//! `--bucket-capacity BYTES` (or `DEPOT_BUCKET_CAPACITY`): capacity of the
//! buckets the directory creates, so that a demo fills them within a few
//! uploads. `DEPOT_BUCKETS=N` registers N buckets by hand instead (no pool).

use anyhow::{Context, Result, bail};
use candid::Encode;
use depot_api::directory::DirectoryInit;
use depot_cli::network::{Deployment, config_dir, deployment_file};
use depot_devnet::management::types::{CanisterSettings, UpdateSettingsArgs};
use depot_tests::env::{DepotEnv, EnvOpts};
use depot_tests::ledgers::{
    CYCLES_LEDGER_FEE, NEWCOMER_CYCLES, NEWCOMER_TOKENS, TOKEN_DECIMALS, TOKEN_SYMBOL, accept_test_token,
    deploy_ledgers, fund_newcomer,
};

#[tokio::main]
async fn main() -> Result<()> {
    let port = std::env::var("DEPOT_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(4943);
    let buckets = std::env::var("DEPOT_BUCKETS").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    let capacity = bucket_capacity()?;
    // DEPOT_UPDATE_LATENCY_MS models mainnet's consensus latency (about
    // 1000–2000 ms) for update calls; queries are not delayed.
    let latency_ms = std::env::var("DEPOT_UPDATE_LATENCY_MS").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    let update_latency = std::time::Duration::from_millis(latency_ms);
    let config = config_dir()?;
    let me = depot_cli::identity::load_or_create_default(&config)?.sender().map_err(anyhow::Error::msg)?;
    let directory_init = DirectoryInit {
        bucket_capacity_bytes: capacity,
        // The local operator (the CLI's identity) controls the buckets too.
        bucket_controllers: Some(vec![depot_tests::deploy::admin_principal(), me]),
        ..DirectoryInit::default()
    };
    let env = DepotEnv::start(EnvOpts { buckets, port, update_latency, directory_init }).await?;
    let url = env.url();
    let saved = Deployment {
        url: url.clone(),
        directory: env.directory().to_text(),
        buckets: env.deployment.buckets.iter().map(|b| b.to_text()).collect(),
    };
    let admin = env.deployment.admin;
    let deployment = env.deployment.clone();
    let ledgers = env.with_devnet(|d| -> Result<_> {
        let l = deploy_ledgers(d, admin, admin, &[])?;
        fund_newcomer(d, admin, &l, me)?;
        accept_test_token(d, &deployment, &l)?;
        // `depot stat` (controllers only) works for the local user.
        let settings = CanisterSettings { controllers: Some(vec![admin, me]), ..Default::default() };
        let arg = UpdateSettingsArgs { canister_id: deployment.directory, settings, sender_canister_version: None };
        let out = d.update(admin, candid::Principal::management_canister(), "update_settings", &Encode!(&arg)?)?;
        out.result.map_err(|r| anyhow::anyhow!("update_settings: {r:?}"))?;
        Ok(l)
    })?;
    let file = deployment_file(&config, "local");
    std::fs::create_dir_all(file.parent().expect("has a parent"))?;
    std::fs::write(&file, serde_json::to_vec_pretty(&saved)?)?;

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
    if buckets == 0 {
        let cap = capacity.map(|c| format!("{c} bytes")).unwrap_or_else(|| "the default capacity".into());
        println!("  the directory creates more buckets ({cap} each) as uploads fill them: `depot stat` lists them");
    }
    println!("  root key   {}", hex::encode(&env.server.root_key_der));
    println!("  test ledgers (devnet/test-canisters, never on mainnet):");
    println!(
        "    cycles ledger  {}   your identity {me} holds {} T cycles",
        ledgers.cycles,
        (NEWCOMER_CYCLES - CYCLES_LEDGER_FEE) as f64 / 1e12
    );
    println!(
        "    token ledger   {}   {TOKEN_SYMBOL}: you hold {}",
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
    println!("Ctrl-C stops.");
    tokio::signal::ctrl_c().await?;
    println!("stopping");
    env.server.stop().await?;
    Ok(())
}

/// `--bucket-capacity BYTES`, else `DEPOT_BUCKET_CAPACITY`, else none (the
/// directory's default).
fn bucket_capacity() -> Result<Option<u64>> {
    let mut args = std::env::args().skip(1);
    let mut value = std::env::var("DEPOT_BUCKET_CAPACITY").ok();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bucket-capacity" => value = Some(args.next().context("--bucket-capacity needs BYTES")?),
            other => bail!("unknown argument {other}: depot-local takes --bucket-capacity BYTES"),
        }
    }
    value
        .map(|v| v.parse::<u64>().with_context(|| format!("bucket capacity {v:?} is not a number of bytes")))
        .transpose()
}
