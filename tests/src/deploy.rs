//! Deploys the directory and its buckets onto a devnet, the way an operator
//! deploys them on the IC: create, install, then register each bucket with
//! the directory (which pushes its public keys to the bucket).

use anyhow::{Context, Result, anyhow, bail};
use candid::utils::ArgumentEncoder;
use candid::{CandidType, Encode, Principal};
use depot_api::DirectoryError;
use depot_api::bucket::BucketInit;
use depot_api::directory::{AdminStats, DirectoryInit, RegisterBucketReq};
use depot_api::gateway::GatewayInit;
use depot_api::keys::PublicKeyInfo;
use depot_api::methods::{Method, directory as dm};
use depot_devnet::{CallOutcome, Devnet, DevnetError, InstallMode};
use serde::de::DeserializeOwned;

/// Cycles each canister starts with: plenty for a local session.
pub const CANISTER_CYCLES: u128 = 100_000_000_000_000;
/// Bucket limits registered with the directory (logical bytes).
pub const BUCKET_SOFT_LIMIT: u64 = 40 * 1024 * 1024 * 1024;
pub const BUCKET_HARD_LIMIT: u64 = 50 * 1024 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Deployment {
    pub admin: Principal,
    pub directory: Principal,
    pub buckets: Vec<Principal>,
    /// Serves share links (`/s/<id>`) for the directory.
    pub gateway: Principal,
}

/// The operator's principal: a fixed, self-authenticating id (devnet's
/// library API needs no signature).
pub fn admin_principal() -> Principal {
    Principal::self_authenticating(b"depot devnet operator")
}

fn decode<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
    method: Method<A, R>,
    out: Result<CallOutcome, DevnetError>,
) -> Result<R> {
    let name = method.name;
    let out = out.map_err(|e| anyhow!("{name}: {e}"))?;
    let bytes = out.result.map_err(|r| anyhow!("{name} rejected: {r:?}"))?;
    method.decode(&bytes).with_context(|| format!("decoding the reply of {name}"))
}

/// An update call through devnet's library API, decoded.
pub fn call<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
    dev: &mut Devnet,
    sender: Principal,
    canister: Principal,
    method: Method<A, R>,
    args: A,
) -> Result<R> {
    let arg = method.encode(args)?;
    decode(method, dev.update(sender, canister, method.name, &arg))
}

/// A query through devnet's library API, decoded.
pub fn query<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
    dev: &mut Devnet,
    sender: Principal,
    canister: Principal,
    method: Method<A, R>,
    args: A,
) -> Result<R> {
    let arg = method.encode(args)?;
    decode(method, dev.query(sender, canister, method.name, &arg))
}

pub struct DeployOpts {
    pub buckets: usize,
    /// `{bucket}.localhost:<port>`: where download URLs point.
    pub domain_template: String,
    pub directory_init: DirectoryInit,
}

pub fn deploy(dev: &mut Devnet, opts: DeployOpts) -> Result<Deployment> {
    let admin = admin_principal();
    let directory_wasm = crate::wasm::canister_wasm("directory")?;
    let bucket_wasm = crate::wasm::canister_wasm("bucket")?;

    let directory = dev.create_canister(admin, CANISTER_CYCLES, None)?;
    // Created first: share links point at it.
    let gateway = dev.create_canister(admin, CANISTER_CYCLES, None)?;
    let share_url = format!("http://{}/s/{{share}}", opts.domain_template.replace("{bucket}", &gateway.to_text()));
    let init = DirectoryInit {
        domain_template: Some(opts.domain_template.clone()),
        share_url_template: opts.directory_init.share_url_template.clone().or(Some(share_url)),
        url_scheme: Some("http".into()),
        // A fleet registered by hand is the whole fleet: no pool, unless
        // the test asks for one.
        bucket_pool_target: opts.directory_init.bucket_pool_target.or((opts.buckets > 0).then_some(0)),
        ..opts.directory_init
    };
    dev.install_code(admin, directory, &directory_wasm, &Encode!(&init)?, InstallMode::Install)?;
    // The directory draws its signing key from raw_rand in a timer after init.
    for _ in 0..20 {
        dev.tick();
        let keys: Result<Vec<PublicKeyInfo>, DirectoryError> = query(dev, admin, directory, dm::GET_PUBLIC_KEYS, ())?;
        if keys.is_ok_and(|k| !k.is_empty()) {
            break;
        }
    }

    let stats = admin_stats(dev, admin, directory)?;
    if stats.bucket_wasm.is_none() {
        bail!("the directory wasm embeds no bucket wasm: build it with scripts/build-wasm.sh");
    }
    let gateway_wasm = crate::wasm::canister_wasm("gateway")?;
    // `{bucket}.localhost:<port>` → `http://localhost:<port>`: the network the web app talks to.
    let local_network = format!("http://{}", opts.domain_template.replace("{bucket}.", ""));
    dev.install_code(
        admin,
        gateway,
        &gateway_wasm,
        &Encode!(&GatewayInit { directory: Some(directory), local_network: Some(local_network) })?,
        InstallMode::Install,
    )?;
    let mut d = Deployment { admin, directory, buckets: vec![], gateway };
    for _ in 0..opts.buckets {
        add_bucket(dev, &mut d, &bucket_wasm)?;
    }
    Ok(d)
}

/// Creates a bucket running `wasm`, installs it with the directory as its
/// writer and registers it. `deploy` uses the release wasm; `depot-bench`
/// also adds a bucket built with its `bench` feature.
pub fn add_bucket(dev: &mut Devnet, d: &mut Deployment, wasm: &[u8]) -> Result<Principal> {
    let bucket = dev.create_canister(d.admin, CANISTER_CYCLES, None)?;
    let init = BucketInit { directory: d.directory, keys: vec![], capacity_bytes: None };
    dev.install_code(d.admin, bucket, wasm, &Encode!(&init)?, InstallMode::Install)?;
    let req =
        RegisterBucketReq { id: bucket, soft_limit_bytes: BUCKET_SOFT_LIMIT, hard_limit_bytes: BUCKET_HARD_LIMIT };
    let r: Result<(), DirectoryError> = call(dev, d.admin, d.directory, dm::ADMIN_REGISTER_BUCKET, (req.clone(),))?;
    if let Err(e) = r {
        bail!("registering bucket {bucket}: {e}");
    }
    d.buckets.push(bucket);
    Ok(bucket)
}

/// `admin_get_stats`, as the operator.
pub fn admin_stats(dev: &mut Devnet, admin: Principal, directory: Principal) -> Result<AdminStats> {
    query(dev, admin, directory, dm::ADMIN_GET_STATS, ())?.map_err(|e| anyhow!("admin_get_stats: {e}"))
}

/// Most devnet rounds `wait_for_pool` runs.
pub const POOL_WAIT_TICKS: usize = 200;

/// Runs devnet rounds until the directory's pool holds `ready` buckets,
/// then lists every registered bucket in `d.buckets`.
pub fn wait_for_pool(dev: &mut Devnet, d: &mut Deployment, ready: u32) -> Result<()> {
    for _ in 0..POOL_WAIT_TICKS {
        let stats = admin_stats(dev, d.admin, d.directory)?;
        if stats.provisioning.pool_ready >= ready && stats.provisioning.in_progress.is_empty() {
            d.buckets = stats.buckets.iter().map(|b| b.id).collect();
            return Ok(());
        }
        dev.tick();
    }
    let stats = admin_stats(dev, d.admin, d.directory)?;
    bail!("the pool did not reach {ready} ready buckets: {:?}", stats.provisioning)
}

/// Most devnet rounds `settle` runs.
pub const SETTLE_TICKS: usize = 50;

/// Runs devnet rounds until the work a deployment starts by itself is done
/// (the timers set at install: each bucket fetches its streaming secret
/// from `raw_rand`, which costs it two executions), so that a test's first
/// measurement does not count it.
pub fn settle(dev: &mut Devnet) -> Result<()> {
    for _ in 0..SETTLE_TICKS {
        dev.tick();
        if dev.is_idle() {
            return Ok(());
        }
    }
    bail!("devnet still busy after {SETTLE_TICKS} rounds")
}

/// Prices of zero and no free tier: nothing is ever charged.
pub fn zero_pricing() -> depot_api::billing::Pricing {
    depot_api::billing::Pricing {
        storage_cycles_per_gib_month: 0,
        ingress_cycles_per_gib: 0,
        call_fee_cycles: 0,
        min_deposit_cycles: 0,
        free_bytes: 0,
        ..Default::default()
    }
}

/// `admin_set_pricing`, as the operator.
pub fn set_pricing(dev: &mut Devnet, d: &Deployment, pricing: depot_api::billing::Pricing) -> Result<()> {
    call(dev, d.admin, d.directory, dm::ADMIN_SET_PRICING, (pricing,))?.map_err(|e| anyhow!("admin_set_pricing: {e}"))
}
