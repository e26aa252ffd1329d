//! Section 7: what billing costs the directory (instructions of a paid
//! `start_upload` against a free one, and of the storage-charging job per
//! account), and what Depot charges per GiB-month beside the IC's own fee.

use super::*;
use crate::ledgers::{deploy_ledgers, fund_newcomer};
use depot_api::billing::*;
use icrc_ledger_types::icrc1::account::Account as IcrcAccount;
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};

/// Users seeded for the job's figures; `DEPOT_BENCH_BILLING_USERS` sets
/// another count (100000 takes about half an hour to seed).
const USERS_ENV: &str = "DEPOT_BENCH_BILLING_USERS";
const DEFAULT_USERS: usize = 1_000;
/// `start_upload`s measured in each mode.
const STARTS: usize = 20;
/// The IC's storage fee on a 13-node subnet, cycles per GiB-second
/// (`../shared/notes/ic-platform.md`).
const IC_STORAGE_CYCLES_PER_GIB_SECOND: u128 = 127_000;
const MONTH_SECS: u128 = 30 * 86_400;

fn users() -> Result<usize> {
    match std::env::var(USERS_ENV) {
        Err(_) => Ok(DEFAULT_USERS),
        Ok(v) => v.parse().map_err(|_| anyhow!("{USERS_ENV} must be a number of users")),
    }
}

fn start(dev: &mut Devnet, d: &Deployment, who: Principal, size: u64) -> Result<(StartUploadRes, u64)> {
    let req =
        StartUploadReq { name: "bench.bin".into(), mime: None, size_bytes: size, sha256: None, retention_days: None };
    let out = dev.update(who, d.directory, dm::START_UPLOAD.name, &Encode!(&req)?)?;
    let res = Decode!(&reply("start_upload", &out)?, StartUploadResult)?.map_err(|e| anyhow!("start_upload: {e}"))?;
    Ok((res, out.instructions))
}

fn abort(dev: &mut Devnet, d: &Deployment, who: Principal, upload_id: ByteBuf) -> Result<()> {
    let r: UnitResult = call(dev, who, d.directory, dm::ABORT_UPLOAD, (upload_id,))?;
    r.map_err(|e| anyhow!("abort_upload: {e}"))
}

fn mean_starts(dev: &mut Devnet, d: &Deployment, size: u64) -> Result<f64> {
    let mut instructions = vec![];
    for _ in 0..STARTS {
        let (res, n) = start(dev, d, user(), size)?;
        instructions.push(n);
        abort(dev, d, user(), res.upload_id)?;
    }
    Ok(mean(&instructions))
}

/// `user()` pays `cycles` of credit through the cycles ledger (approve,
/// then `deposit`), as the CLI does.
fn deposit(dev: &mut Devnet, d: &Deployment, ledger: Principal, cycles: u64) -> Result<()> {
    let approve = ApproveArgs {
        from_subaccount: None,
        spender: IcrcAccount { owner: d.directory, subaccount: None },
        amount: candid::Nat::from(u128::from(cycles) + crate::ledgers::CYCLES_LEDGER_FEE),
        expected_allowance: None,
        expires_at: None,
        fee: None,
        memo: None,
        created_at_time: None,
    };
    let out = dev.update(user(), ledger, "icrc2_approve", &Encode!(&approve)?)?;
    Decode!(&reply("icrc2_approve", &out)?, Result<candid::Nat, ApproveError>)?
        .map_err(|e| anyhow!("icrc2_approve: {e:?}"))?;
    let req = DepositReq {
        payment: Payment::CallerPaysIcrc2Cycles,
        amount: cycles,
        nonce: ByteBuf::from(vec![7; depot_api::limits::DEPOSIT_NONCE_BYTES]),
        created_at_ns: dev.time_ns(),
    };
    let r: DepositResult = call(dev, user(), d.directory, dm::DEPOSIT, (req,))?;
    r.map(drop).map_err(|e| anyhow!("deposit: {e}"))
}

pub fn run() -> Result<()> {
    let n_users = users()?;
    let mut dev = new_devnet();
    let d = deploy_on(&mut dev, 1, raised_limits(depot_api::limits::CHUNK_SIZE))?;
    heading("7. Billing: a paid start_upload, the storage-charging job, and the price of a GiB-month");

    // start_upload of 10 MiB: free (zero prices) and paid (default prices,
    // no free tier, credit deposited through the cycles ledger).
    let size = 10 * MIB as u64;
    let free = mean_starts(&mut dev, &d, size)?;
    let l = deploy_ledgers(&mut dev, d.admin, d.admin, &[])?;
    fund_newcomer(&mut dev, d.admin, &l, user())?;
    deposit(&mut dev, &d, l.cycles, 5_000_000_000_000)?;
    let paid_pricing = Pricing { free_bytes: 0, ..Pricing::default() };
    crate::deploy::set_pricing(&mut dev, &d, paid_pricing.clone())?;
    let paid = mean_starts(&mut dev, &d, size)?;
    row("start_upload, 10 MiB, free (zero prices)", minstr(free));
    row("start_upload, 10 MiB, paid (hold of its cost)", minstr(paid));
    row("  the hold costs", format!("{:>+10.2} M instr", (paid - free) / 1e6));

    // The job: users with one empty file each (billed as 4 KiB).
    crate::deploy::set_pricing(&mut dev, &d, crate::deploy::zero_pricing())?;
    let t = std::time::Instant::now();
    for i in 0..n_users {
        let who = Principal::self_authenticating(format!("bench billing user {i}").as_bytes());
        let (res, _) = start(&mut dev, &d, who, 0)?;
        let req = CommitUploadReq { upload_id: res.upload_id, uploaded_chunk_count: None, final_sha256: None };
        let r: CommitUploadResult = call(&mut dev, who, d.directory, dm::COMMIT_UPLOAD, (req,))?;
        r.map_err(|e| anyhow!("commit_upload: {e}"))?;
    }
    println!("  seeded {} users with one file each in {:.0} s", thousands(n_users as u64), t.elapsed().as_secs_f64());
    crate::deploy::set_pricing(&mut dev, &d, paid_pricing)?;
    dev.advance_time(std::time::Duration::from_secs(13 * 3600));
    let mut per_call = vec![];
    let mut charged = 0u64;
    loop {
        let out = dev.update(d.admin, d.directory, dm::ADMIN_CHARGE_STORAGE.name, &Encode!()?)?;
        let run = Decode!(&reply("admin_charge_storage", &out)?, ChargeRunResult)?
            .map_err(|e| anyhow!("admin_charge_storage: {e}"))?;
        if run.charged == 0 {
            break;
        }
        charged += run.charged;
        per_call.push((out.instructions, run.charged));
    }
    let instructions: u64 = per_call.iter().map(|(i, _)| i).sum();
    row(&format!("storage-charging job, {} accounts", thousands(charged)), minstr(instructions as f64));
    row("  per account charged", format!("{:>10.0} instr", instructions as f64 / charged.max(1) as f64));
    row(
        "  per step (at most 500 accounts, one per minute)",
        minstr(per_call.iter().map(|(i, _)| *i as f64).fold(0.0, f64::max)),
    );

    let p = Pricing::default();
    let ic = IC_STORAGE_CYCLES_PER_GIB_SECOND * MONTH_SECS;
    row(
        "Depot charges per GiB stored for 30 days (default)",
        format!("{:>10.3} T cycles", p.storage_cycles_per_gib_month as f64 / 1e12),
    );
    row("the IC charges for that GiB-month (13-node subnet)", format!("{:>10.3} T cycles", ic as f64 / 1e12));
    row("  margin", format!("{:>10.2} ×", p.storage_cycles_per_gib_month as f64 / ic as f64));
    Ok(())
}
