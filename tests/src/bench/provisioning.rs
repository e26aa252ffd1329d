//! Section 8: bucket provisioning. What creating and installing one bucket
//! costs the directory and the bucket, how long devnet takes from an empty
//! pool to a ready bucket, and the directory's routing cost with 10 and
//! 1,000 buckets registered (`bench_add_buckets` of a directory built with
//! its `bench` feature adds synthetic records).

use super::*;
use crate::deploy::{admin_principal, admin_stats, wait_for_pool};
use crate::wasm::bench_directory_wasm;
use depot_api::bucket::BucketInit;
use depot_api::keys::PublicKeyInfo;
use depot_devnet::InstallMode;
use std::time::Instant;

/// `start_upload` calls measured per fleet size.
const ROUTED_UPLOADS: usize = 20;

fn start_instructions(dev: &mut Devnet, directory: Principal, n: usize) -> Result<f64> {
    let mut total = 0u64;
    for i in 0..n {
        let req = StartUploadReq {
            name: format!("r{i}.bin"),
            mime: None,
            size_bytes: 1000,
            sha256: None,
            retention_days: None,
        };
        let out = dev.update(user(), directory, dm::START_UPLOAD.name, &Encode!(&req)?)?;
        Decode!(&reply("start_upload", &out)?, StartUploadResult)?.map_err(|e| anyhow!("start_upload: {e}"))?;
        total += out.instructions;
    }
    Ok(total as f64 / n as f64)
}

fn add_buckets(dev: &mut Devnet, directory: Principal, n: u32) -> Result<()> {
    let out = dev.update(admin_principal(), directory, "bench_add_buckets", &Encode!(&n)?)?;
    Decode!(&reply("bench_add_buckets", &out)?, Result<(), DirectoryError>)?.map_err(|e| anyhow!("{e}"))
}

/// Routing cost: `start_upload` with `small` and then `large` buckets.
fn routing(small: u32, large: u32) -> Result<(f64, f64)> {
    let wasm = bench_directory_wasm()?;
    let mut dev = new_devnet();
    let admin = admin_principal();
    let directory = dev.create_canister(admin, crate::deploy::CANISTER_CYCLES, None)?;
    let init = DirectoryInit { bucket_pool_target: Some(0), ..raised_limits(depot_api::limits::CHUNK_SIZE) };
    dev.install_code(admin, directory, &wasm, &Encode!(&init)?, InstallMode::Install)?;
    for _ in 0..20 {
        dev.tick();
    }
    let keys: Result<Vec<PublicKeyInfo>, DirectoryError> =
        crate::deploy::query(&mut dev, admin, directory, dm::GET_PUBLIC_KEYS, ())?;
    if keys.map_or(true, |k| k.is_empty()) {
        anyhow::bail!("the bench directory did not initialise");
    }
    add_buckets(&mut dev, directory, small)?;
    let few = start_instructions(&mut dev, directory, ROUTED_UPLOADS)?;
    add_buckets(&mut dev, directory, large - small)?;
    let many = start_instructions(&mut dev, directory, ROUTED_UPLOADS)?;
    Ok((few, many))
}

pub fn run() -> Result<()> {
    heading("8. Bucket provisioning");
    // One bucket made from an empty pool, in a deployment with none.
    let mut dev = new_devnet();
    let init = DirectoryInit { bucket_pool_target: Some(1), ..raised_limits(depot_api::limits::CHUNK_SIZE) };
    let mut d = deploy_on(&mut dev, 0, init)?;
    wait_for_pool(&mut dev, &mut d, 1)?;
    // Take the pooled bucket: the directory makes its replacement.
    let before = dev.cycle_balance(d.directory);
    let creation = admin_stats(&mut dev, d.admin, d.directory)?;
    let fleet_before = creation.buckets.len();
    let started = Instant::now();
    let req = StartUploadReq { name: "a.bin".into(), mime: None, size_bytes: 10, sha256: None, retention_days: None };
    let r: StartUploadResult = call(&mut dev, user(), d.directory, dm::START_UPLOAD, (req,))?;
    r.map_err(|e| anyhow!("start_upload: {e}"))?;
    let mut rounds = 0;
    loop {
        dev.tick();
        rounds += 1;
        let s = admin_stats(&mut dev, d.admin, d.directory)?;
        if s.provisioning.pool_ready == 1 && s.buckets.len() > fleet_before {
            break;
        }
        if rounds > 500 {
            anyhow::bail!("no bucket after 500 rounds: {:?}", s.provisioning);
        }
    }
    let elapsed = started.elapsed();
    let after = dev.cycle_balance(d.directory);
    let creation_cycles = depot_api::limits::DEFAULT_BUCKET_CREATION_CYCLES;
    let spent = before.saturating_sub(after);
    // The bucket's own install (init) as the directory's install_code runs
    // it: the embedded module, its init argument.
    let gz = crate::wasm::embedded_bucket_wasm()?;
    let probe = dev.create_canister(d.admin, crate::deploy::CANISTER_CYCLES, None)?;
    let arg = BucketInit { directory: d.directory, keys: vec![], capacity_bytes: None };
    dev.install_code(d.admin, probe, &gz, &Encode!(&arg)?, InstallMode::Install)?;
    let init_instructions = dev.last_instructions();
    row(
        "cycles one bucket costs the directory",
        format!(
            "{:.3} T: {:.3} T attached to create_canister (devnet's fee model takes 0.5 T of it, a 13-node subnet's fee), {:.4} T of calls and execution",
            spent as f64 / 1e12,
            creation_cycles as f64 / 1e12,
            spent.saturating_sub(creation_cycles) as f64 / 1e12
        ),
    );
    row("bucket init (install_code of the embedded wasm)", minstr(init_instructions as f64));
    row("empty pool to a ready bucket on devnet", format!("{} rounds, {:.0} ms", rounds, elapsed.as_secs_f64() * 1e3));

    let (few, many) = routing(10, 1000)?;
    row("start_upload with 10 buckets", minstr(few));
    row("start_upload with 1,000 buckets", format!("{} (ratio {:.2})", minstr(many), many / few));
    Ok(())
}
