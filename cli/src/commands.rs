//! The billing commands: `pricing`, `balance`, `deposit`, `estimate`.

use anyhow::{Result, anyhow, bail};
use depot_api::billing::*;
use depot_cli::billing::{self, Pay, human_cycles, human_token};
use depot_cli::client::Depot;
use depot_cli::format::human_bytes;
use serde_json::json;

fn days(ns: u64) -> String {
    format!("{:.1} days", ns as f64 / 86_400e9)
}

pub async fn pricing(depot: &Depot, as_json: bool) -> Result<()> {
    let p = depot.get_pricing().await?;
    if as_json {
        let tokens: Vec<_> = p
            .tokens
            .iter()
            .map(|t| {
                json!({"symbol": t.symbol, "ledger": t.ledger.to_text(), "decimals": t.decimals,
                            "ledger_fee": t.ledger_fee, "cycles_per_unit": t.cycles_per_unit})
            })
            .collect();
        println!(
            "{}",
            json!({"storage_cycles_per_gib_month": p.storage_cycles_per_gib_month.to_string(),
                   "ingress_cycles_per_gib": p.ingress_cycles_per_gib.to_string(),
                   "call_fee_cycles": p.call_fee_cycles.to_string(), "min_deposit_cycles": p.min_deposit_cycles.to_string(),
                   "first_period_days": p.first_period_days, "free_bytes": p.free_bytes, "grace_days": p.grace_days,
                   "deletion_days": p.deletion_days, "cycles_ledger": CYCLES_LEDGER_ID, "tokens": tokens})
        );
        return Ok(());
    }
    println!("storage      {} per GiB per 30 days", human_cycles(p.storage_cycles_per_gib_month));
    println!("upload       {} per GiB, once", human_cycles(p.ingress_cycles_per_gib));
    if p.call_fee_cycles > 0 {
        println!("per upload   {}", human_cycles(p.call_fee_cycles));
    }
    println!("free         {} per user", human_bytes(p.free_bytes));
    println!("to upload    credit for {} days of storage of everything you would store", p.first_period_days);
    println!(
        "unpaid       files served for {} days, then refused; deleted {} days later",
        p.grace_days, p.deletion_days
    );
    println!("min deposit  {}", human_cycles(p.min_deposit_cycles));
    println!("pay with     cycles (cycles ledger {CYCLES_LEDGER_ID})");
    for t in &p.tokens {
        let per_token = u128::from(t.cycles_per_unit) * 10u128.pow(u32::from(t.decimals));
        println!("             {} (ledger {}): 1 {} = {}", t.symbol, t.ledger, t.symbol, human_cycles(per_token));
    }
    Ok(())
}

pub async fn balance(depot: &Depot, as_json: bool) -> Result<()> {
    let b = depot.get_balance().await?;
    let state = match b.state {
        AccountState::Active => "active".to_string(),
        AccountState::Grace { suspend_at_ns, .. } => {
            format!("grace: pay before {} or files stop being served", ns_date(suspend_at_ns))
        }
        AccountState::Suspended { delete_at_ns, .. } => {
            format!("suspended: files are not served, deleted on {}", ns_date(delete_at_ns))
        }
    };
    if as_json {
        let movements: Vec<_> = b.movements.iter().map(movement_json).collect();
        println!(
            "{}",
            json!({"balance_cycles": b.balance_cycles.to_string(), "owed_cycles": b.owed_cycles.to_string(),
                   "held_cycles": b.held_cycles.to_string(), "available_cycles": b.available_cycles.to_string(),
                   "billable_bytes": b.billable_bytes, "charged_bytes": b.charged_bytes, "free_bytes": b.free_bytes,
                   "burn_cycles_per_day": b.burn_cycles_per_day.to_string(), "runway_days": b.runway_days,
                   "state": state, "movements": movements})
        );
        return Ok(());
    }
    println!("balance    {}", human_cycles(b.balance_cycles));
    if b.owed_cycles > 0 {
        println!("owed       {}", human_cycles(b.owed_cycles));
    }
    println!("held       {} (uploads in progress)", human_cycles(b.held_cycles));
    println!(
        "stored     {} ({} free, {} charged)",
        human_bytes(b.billable_bytes),
        human_bytes(b.free_bytes),
        human_bytes(b.charged_bytes)
    );
    println!("burn       {} per day", human_cycles(b.burn_cycles_per_day));
    match b.runway_days {
        Some(d) => println!("runway     {d} days"),
        None => println!("runway     unlimited (nothing charged per day)"),
    }
    println!("state      {state}");
    for m in b.movements.iter().take(10) {
        println!("  {}  {}", ns_date(m.at_ns), movement_line(m));
    }
    Ok(())
}

pub fn ns_date(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

fn movement_line(m: &Movement) -> String {
    match &m.kind {
        MovementKind::Deposit { payment, amount, rate, .. } => {
            format!("+{}  deposit ({payment}, {amount} at {rate} cycles each)", human_cycles(m.cycles))
        }
        MovementKind::Charge { kind, from_ns, to_ns } => {
            let what = match kind {
                ChargeKind::Ingress => "upload".to_string(),
                ChargeKind::Storage => format!("storage for {}", days(to_ns - from_ns)),
            };
            format!("-{}  {what}", human_cycles(m.cycles))
        }
        MovementKind::Refund { reason } => format!("+{}  refund: {reason}", human_cycles(m.cycles)),
    }
}

fn movement_json(m: &Movement) -> serde_json::Value {
    let (kind, detail) = match &m.kind {
        MovementKind::Deposit { payment, ledger, amount, rate } => (
            "deposit",
            json!({"payment": payment, "ledger": ledger.map(|l| l.to_text()), "amount": amount, "rate": rate}),
        ),
        MovementKind::Charge { kind, from_ns, to_ns } => {
            ("charge", json!({"what": format!("{kind:?}"), "from_ns": from_ns, "to_ns": to_ns}))
        }
        MovementKind::Refund { reason } => ("refund", json!({"reason": reason})),
    };
    json!({"seq": m.seq, "at_ns": m.at_ns, "kind": kind, "cycles": m.cycles.to_string(), "detail": detail})
}

pub async fn deposit(depot: &Depot, cycles: Option<String>, token: Option<Vec<String>>, as_json: bool) -> Result<()> {
    let pay = match (cycles, token) {
        (Some(c), None) => Pay::Cycles(billing::parse_cycles(&c)?),
        (None, Some(t)) => {
            let [symbol, amount] = t.as_slice() else { bail!("--token takes a symbol and an amount") };
            let pricing = depot.get_pricing().await?;
            let price =
                pricing.tokens.iter().find(|p| p.symbol.eq_ignore_ascii_case(symbol)).cloned().ok_or_else(|| {
                    let known: Vec<_> = pricing.tokens.iter().map(|t| t.symbol.as_str()).collect();
                    anyhow!(
                        "token {symbol} is not accepted here; accepted: cycles{}{}",
                        if known.is_empty() { "" } else { ", " },
                        known.join(", ")
                    )
                })?;
            let units = billing::parse_decimal(amount, u32::from(price.decimals))?;
            Pay::Token { price, units }
        }
        _ => bail!("give --cycles AMOUNT or --token SYMBOL AMOUNT"),
    };
    let paid = match &pay {
        Pay::Cycles(c) => human_cycles(*c),
        Pay::Token { price, units } => human_token(*units, price.decimals, &price.symbol),
    };
    let r = billing::deposit(depot, pay).await?;
    if as_json {
        println!(
            "{}",
            json!({"credited_cycles": r.credited_cycles.to_string(), "rate": r.rate,
                   "balance_cycles": r.balance_cycles.to_string(), "movement": r.movement})
        );
    } else {
        println!(
            "paid {paid}, credited {}; balance {}",
            human_cycles(r.credited_cycles),
            human_cycles(r.balance_cycles)
        );
    }
    Ok(())
}

pub fn estimate(c: &UploadCost, p: &Pricing, size: u64, as_json: bool) {
    if as_json {
        let tokens: Vec<_> = c
            .tokens
            .iter()
            .map(|t| json!({"symbol": t.symbol, "ledger": t.ledger.to_text(), "amount": t.amount}))
            .collect();
        println!(
            "{}",
            json!({"size": size, "billable_bytes": c.billable_bytes, "charged_bytes": c.charged_bytes,
                   "upload_cycles": c.upload_cycles.to_string(), "first_period_cycles": c.first_period_cycles.to_string(),
                   "cycles": c.cycles.to_string(), "required_cycles": c.required_cycles.to_string(),
                   "available_cycles": c.available_cycles.to_string(), "short_in_tokens": tokens})
        );
        return;
    }
    println!(
        "size        {} ({} billed, {} beyond the free tier)",
        human_bytes(size),
        human_bytes(c.billable_bytes),
        human_bytes(c.charged_bytes)
    );
    println!("upload      {}", human_cycles(c.upload_cycles));
    println!(
        "storage     {} for the first {} days, then {} per day",
        human_cycles(c.first_period_cycles),
        p.first_period_days,
        human_cycles(c.first_period_cycles / u128::from(p.first_period_days.max(1)))
    );
    println!(
        "needs       {} of credit ({} available)",
        human_cycles(c.required_cycles),
        human_cycles(c.available_cycles)
    );
    if c.required_cycles > c.available_cycles {
        println!("add         {}", billing::deposit_hint(c.required_cycles - c.available_cycles, p.min_deposit_cycles));
        for t in &c.tokens {
            let price = p.tokens.iter().find(|x| x.ledger == t.ledger);
            if let Some(price) = price {
                // The quote includes the ledger's fee, which the approval adds.
                let units = u128::from(t.amount.saturating_sub(price.ledger_fee));
                println!(
                    "       or   depot deposit --token {} {}",
                    t.symbol,
                    human_token(units, price.decimals, "").trim_end()
                );
            }
        }
    }
}

/// Cycles as a number (`Nat` past u128 shows as the maximum).
fn t(n: &candid::Nat) -> u128 {
    u128::try_from(n.0.clone()).unwrap_or(u128::MAX)
}

/// `depot stat --json`: `buckets` is an array of objects (id, state,
/// used_bytes, files, cycles, ...); cycles are decimal strings, as JSON
/// numbers lose precision past 2^53.
pub fn stat_json(s: &depot_api::directory::AdminStats) -> serde_json::Value {
    let p = &s.provisioning;
    let buckets: Vec<_> = s
        .buckets
        .iter()
        .map(|b| {
            json!({"id": b.id.to_text(), "state": format!("{:?}", b.state), "used_bytes": b.used_bytes,
                   "reserved_bytes": b.reserved_bytes, "files": b.files_count, "max_files": b.max_files,
                   "soft_limit_bytes": b.soft_limit_bytes, "hard_limit_bytes": b.hard_limit_bytes,
                   "in_pool": b.in_pool, "provisioned": b.provisioned,
                   "cycles": b.cycles.as_ref().map(|c| t(c).to_string()),
                   "burn_cycles_per_day": b.burn_cycles_per_day.as_ref().map(|c| t(c).to_string()),
                   "module_hash": b.module_hash.as_ref().map(hex::encode)})
        })
        .collect();
    json!({"total_bytes": s.total_bytes, "total_files": s.total_files, "users": s.users_count,
        "buckets_count": s.buckets_count, "buckets": buckets, "active_uploads": s.active_uploads,
        "reserved_bytes": s.reserved_bytes, "pending_bucket_deletes": s.pending_bucket_deletes,
        "bucket_wasm": s.bucket_wasm.as_ref().map(|w| json!({"sha256": hex::encode(&w.sha256), "bytes": w.bytes, "version": w.version})),
        "provisioning": {"pool_target": p.pool_target, "pool_ready": p.pool_ready, "in_progress": p.in_progress.len(),
            "paused_reason": p.paused_reason, "directory_cycles": t(&p.directory_cycles).to_string(),
            "reserve_cycles": t(&p.reserve_cycles).to_string(), "buckets_created": p.buckets_created,
            "top_up_cycles_sent": t(&p.top_up_cycles_sent).to_string()},
        "rollout": s.rollout.as_ref().map(rollout_json)})
}

/// `depot stat`: totals, provisioning and one line (or object) per bucket.
pub async fn stat(depot: &Depot, as_json: bool) -> Result<()> {
    let s = depot.admin_get_stats().await?;
    if as_json {
        println!("{}", stat_json(&s));
        return Ok(());
    }
    let p = &s.provisioning;
    println!("files     {} ({})", s.total_files, human_bytes(s.total_bytes));
    println!("users     {}", s.users_count);
    println!("uploads   {} in progress ({} reserved)", s.active_uploads, human_bytes(s.reserved_bytes));
    println!("deletes   {} pending in buckets", s.pending_bucket_deletes);
    match &s.bucket_wasm {
        Some(w) => {
            println!("wasm      bucket {} ({}, sha256 {})", w.version, human_bytes(w.bytes), hex::encode(&w.sha256))
        }
        None => println!("wasm      none embedded: this directory cannot create buckets"),
    }
    println!(
        "cycles    {} (reserve {}); {} buckets created, {} sent as top-ups",
        human_cycles(t(&p.directory_cycles)),
        human_cycles(t(&p.reserve_cycles)),
        p.buckets_created,
        human_cycles(t(&p.top_up_cycles_sent))
    );
    println!("pool      {} of {} ready, {} being made", p.pool_ready, p.pool_target, p.in_progress.len());
    if let Some(why) = &p.paused_reason {
        println!("          not creating buckets: {why}");
    }
    if let Some(r) = &s.rollout {
        println!("rollout   {}", rollout_line(r));
    }
    println!("buckets   {}", s.buckets_count);
    for b in &s.buckets {
        let cycles = b.cycles.as_ref().map(|c| human_cycles(t(c))).unwrap_or_else(|| "?".into());
        let pool = if b.in_pool { "  [pool]" } else { "" };
        println!(
            "  {}  {:<8} {:>10} of {:>10}  {:>7} files  {} cycles{pool}",
            b.id,
            format!("{:?}", b.state),
            human_bytes(b.used_bytes),
            human_bytes(b.hard_limit_bytes),
            b.files_count,
            cycles
        );
    }
    Ok(())
}

/// One line on a rollout: progress, what is under way, why it waits.
pub fn rollout_line(r: &depot_api::directory::RolloutInfo) -> String {
    let mut line =
        format!("{} of {} buckets upgraded to {}", r.upgraded, r.total, &hex::encode(&r.target_sha256)[..12]);
    if r.finished_at_ns.is_some() {
        line.push_str(", done");
    } else if let Some((b, step)) = &r.current {
        line.push_str(&format!(", {b} {step}"));
    }
    if let Some(why) = &r.paused_reason {
        line.push_str(&format!("; paused: {why}"));
    }
    line
}

pub fn rollout_json(r: &depot_api::directory::RolloutInfo) -> serde_json::Value {
    json!({"target_sha256": hex::encode(&r.target_sha256), "total": r.total, "upgraded": r.upgraded,
           "waiting": r.waiting, "canary": r.canary.map(|c| c.to_text()), "batch_size": r.batch_size,
           "current": r.current.as_ref().map(|(b, s)| json!({"bucket": b.to_text(), "step": s})),
           "failed": r.failed.iter().map(|f| json!({"bucket": f.bucket.to_text(), "error": f.error})).collect::<Vec<_>>(),
           "paused_reason": r.paused_reason, "finished": r.finished_at_ns.is_some()})
}

#[cfg(test)]
mod tests {
    use super::*;
    use candid::{Nat, Principal};
    use depot_api::directory::{AdminStats, BucketInfo, BucketState, ProvisioningStats};

    #[test]
    fn stat_json_lists_the_fleet_as_objects() {
        let bucket = BucketInfo {
            id: Principal::from_slice(&[1, 2, 3]),
            state: BucketState::Draining,
            used_bytes: 10,
            reserved_bytes: 0,
            soft_limit_bytes: 90,
            hard_limit_bytes: 100,
            files_count: 2,
            keys_version: 1,
            reserved_files: 0,
            max_files: 2,
            in_pool: false,
            provisioned: true,
            cycles: Some(Nat::from(u128::MAX)),
            module_hash: None,
            status_at_ns: None,
            burn_cycles_per_day: None,
            top_up_below_cycles: None,
        };
        let s = AdminStats {
            total_bytes: 10,
            total_files: 2,
            users_count: 1,
            buckets_count: 1,
            active_uploads: 0,
            reserved_bytes: 0,
            pending_bucket_deletes: 0,
            signing_key_ids: vec![1],
            active_signing_key_id: Some(1),
            pending_signing_key_id: None,
            keys_version: 1,
            bucket_wasm: None,
            provisioning: ProvisioningStats {
                pool_target: 1,
                pool_ready: 0,
                in_progress: vec![],
                paused_reason: Some("why".into()),
                directory_cycles: Nat::from(5u8),
                reserve_cycles: Nat::from(1u8),
                buckets_created: 1,
                top_up_cycles_sent: Nat::from(0u8),
            },
            buckets: vec![bucket],
            rollout: None,
        };
        let j = stat_json(&s);
        let b = &j["buckets"][0];
        assert_eq!(b["id"], Principal::from_slice(&[1, 2, 3]).to_text());
        assert_eq!(
            (b["state"].as_str(), b["used_bytes"].as_u64(), b["files"].as_u64()),
            (Some("Draining"), Some(10), Some(2))
        );
        assert_eq!(b["cycles"], u128::MAX.to_string(), "exact, as a string");
        assert_eq!(j["buckets_count"], 1);
        assert_eq!(j["provisioning"]["paused_reason"], "why");
    }
}
