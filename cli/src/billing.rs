//! Paying for storage: amounts as people type and read them, and a deposit
//! as the two calls it takes (the ledger's `icrc2_approve`, then the
//! directory's `deposit`, which pulls the approved amount through PAPI).

use crate::client::{CallError, Depot};
use anyhow::{Context, Result, anyhow, bail};
use candid::{Decode, Encode, Nat, Principal};
use depot_api::billing::*;
use icrc_ledger_types::icrc1::account::Account as IcrcAccount;
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use serde_bytes::ByteBuf;

pub const TRILLION: u128 = 1_000_000_000_000;

/// Cycles as written by people: `2T`, `0.5T`, `300B` (billions; `G` too),
/// `5M`, `1000`, with `_` or `,` allowed between digits.
pub fn parse_cycles(s: &str) -> Result<u128> {
    let t: String = s.trim().chars().filter(|c| *c != '_' && *c != ',').collect();
    let (num, scale) = match t.chars().last() {
        Some('T' | 't') => (&t[..t.len() - 1], 12),
        Some('B' | 'b' | 'G' | 'g') => (&t[..t.len() - 1], 9),
        Some('M' | 'm') => (&t[..t.len() - 1], 6),
        Some('K' | 'k') => (&t[..t.len() - 1], 3),
        _ => (t.as_str(), 0),
    };
    parse_decimal(num, scale).with_context(|| format!("{s:?} is not an amount of cycles (e.g. 2T, 0.5T, 300B)"))
}

/// `12.5` with `decimals` places as an integer of the smallest unit.
pub fn parse_decimal(s: &str, decimals: u32) -> Result<u128> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() || !(whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())) {
        bail!("{s:?} is not a number");
    }
    if frac.len() > decimals as usize {
        bail!("{s:?} has more than {decimals} decimal places");
    }
    let digits = format!("{whole}{frac:0<width$}", width = decimals as usize);
    digits
        .trim_start_matches('0')
        .parse::<u128>()
        .or_else(|_| if digits.chars().all(|c| c == '0') { Ok(0) } else { Err(anyhow!("{s:?} is too large")) })
}

/// `1.250 T` for cycles.
pub fn human_cycles(c: u128) -> String {
    if c >= TRILLION / 1000 {
        format!("{}.{:03} T", c / TRILLION, (c % TRILLION) / 1_000_000_000)
    } else {
        format!("{c} cycles")
    }
}

/// The smallest unit as `12.500000 TUSD`.
pub fn human_token(units: u128, decimals: u8, symbol: &str) -> String {
    let d = 10u128.pow(u32::from(decimals));
    if decimals == 0 {
        return format!("{units} {symbol}");
    }
    format!("{}.{:0w$} {symbol}", units / d, units % d, w = decimals as usize)
}

/// What to run when credit is short: cycles, rounded up to a thousandth of
/// a T and to the minimum deposit.
pub fn deposit_hint(short: u128, min_deposit: u128) -> String {
    let step = TRILLION / 1000;
    let c = short.max(min_deposit).div_ceil(step) * step;
    format!("depot deposit --cycles {}.{:03}T", c / TRILLION, (c % TRILLION) / step)
}

pub fn explain_billing_error(e: &BillingError) -> String {
    match e {
        BillingError::BelowMinimum { amount_cycles, min_cycles } => format!(
            "a deposit must be at least {} (this one is {})",
            human_cycles(*min_cycles),
            human_cycles(*amount_cycles)
        ),
        BillingError::PaymentFailed { ledger, reason } => {
            format!("the ledger {ledger} refused the transfer, so nothing was deposited: {reason}")
        }
        BillingError::UnsupportedToken { ledger } => {
            format!("ledger {ledger} is not accepted here (`depot pricing` lists the tokens)")
        }
        other => other.to_string(),
    }
}

/// The IC's certified time, so that an approval's expiry and a deposit's
/// `created_at_ns` do not depend on this machine's clock (the directory
/// refuses a deposit outside its window of the IC's time).
pub async fn ic_time_ns(depot: &Depot) -> Result<u64> {
    let cert = depot
        .agent
        .read_state_raw(vec![vec!["time".into()]], depot.directory)
        .await
        .context("reading the IC's time")?;
    let bytes = ic_agent::lookup_value(&cert, ["time".as_bytes()]).context("the IC's time in its certificate")?;
    leb128_u64(bytes).ok_or_else(|| anyhow!("malformed time in the IC's certificate"))
}

fn leb128_u64(bytes: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn nonce() -> Result<ByteBuf> {
    let mut n = [0u8; depot_api::limits::DEPOSIT_NONCE_BYTES];
    getrandom::fill(&mut n).map_err(|e| anyhow!("no randomness for a deposit nonce: {e}"))?;
    Ok(ByteBuf::from(n.to_vec()))
}

/// Approves the directory to take `amount + fee` on `ledger`, for ten
/// minutes of the IC's time.
async fn approve(depot: &Depot, ledger: Principal, amount: u128, now_ns: u64) -> Result<()> {
    let fee = Decode!(&depot.raw_query(ledger, "icrc1_fee", Encode!()?).await?, Nat)?;
    let args = ApproveArgs {
        from_subaccount: None,
        spender: IcrcAccount { owner: depot.directory, subaccount: None },
        amount: Nat::from(amount) + fee,
        expected_allowance: None,
        expires_at: Some(now_ns.saturating_add(10 * 60 * 1_000_000_000)),
        fee: None,
        memo: None,
        created_at_time: None,
    };
    let reply = depot.raw_update(ledger, "icrc2_approve", Encode!(&args)?).await?;
    Decode!(&reply, Result<Nat, ApproveError>)?
        .map_err(|e| anyhow!("the ledger {ledger} refused the approval: {e:?}"))?;
    Ok(())
}

/// What to pay with.
pub enum Pay {
    Cycles(u128),
    /// An amount in the token's smallest unit.
    Token {
        price: TokenPrice,
        units: u128,
    },
}

/// Approve, then deposit (caller pays). A failed deposit leaves the
/// approval, which expires in ten minutes.
pub async fn deposit(depot: &Depot, pay: Pay) -> Result<DepositRes, CallError> {
    let (ledger, amount, payment) = match &pay {
        Pay::Cycles(c) => (cycles_ledger_id(), *c, Payment::CallerPaysIcrc2Cycles),
        Pay::Token { price, units } => {
            (price.ledger, *units, Payment::CallerPaysIcrc2Tokens(CallerPaysIcrc2Tokens { ledger: price.ledger }))
        }
    };
    let amount = u64::try_from(amount).map_err(|_| CallError::Failed("amount too large".into()))?;
    let failed = |e: anyhow::Error| CallError::Failed(format!("{e:#}"));
    let now_ns = ic_time_ns(depot).await.map_err(failed)?;
    approve(depot, ledger, u128::from(amount), now_ns).await.map_err(failed)?;
    let req = DepositReq { payment, amount, nonce: nonce().map_err(failed)?, created_at_ns: now_ns };
    // A network error leaves the outcome unknown: the same nonce asks again
    // and is never credited twice.
    for _ in 0..IN_PROGRESS_WAITS {
        match crate::client::retry(|| depot.deposit(req.clone())).await {
            Err(CallError::Billing(BillingError::DepositInProgress)) => {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await
            }
            other => return other,
        }
    }
    Err(CallError::Billing(BillingError::DepositInProgress))
}

/// Seconds to wait for the outcome of a deposit whose first answer was lost.
const IN_PROGRESS_WAITS: usize = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_as_people_write_them() {
        assert_eq!(parse_cycles("2T").unwrap(), 2 * TRILLION);
        assert_eq!(parse_cycles("0.5T").unwrap(), TRILLION / 2);
        assert_eq!(parse_cycles("300B").unwrap(), 300_000_000_000);
        assert_eq!(parse_cycles("1_000").unwrap(), 1000);
        assert_eq!(parse_cycles("0").unwrap(), 0);
        for bad in ["", "T", "1.2.3T", "-1T", "1e12", "0.0000000000001T", "abc"] {
            assert!(parse_cycles(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_decimal("12.5", 6).unwrap(), 12_500_000);
        assert_eq!(parse_decimal("12", 0).unwrap(), 12);
        assert!(parse_decimal("1.5", 0).is_err());
    }

    #[test]
    fn amounts_print_as_people_read_them() {
        assert_eq!(human_cycles(2 * TRILLION + TRILLION / 4), "2.250 T");
        assert_eq!(human_cycles(999), "999 cycles");
        assert_eq!(human_token(12_500_000, 6, "TUSD"), "12.500000 TUSD");
        assert_eq!(deposit_hint(1, TRILLION / 10), "depot deposit --cycles 0.100T");
        assert_eq!(deposit_hint(1_234_567_890_123, 0), "depot deposit --cycles 1.235T");
    }

    #[test]
    fn the_ics_time_decodes_from_leb128() {
        assert_eq!(leb128_u64(&[0xe5, 0x8e, 0x26]), Some(624_485));
        assert_eq!(leb128_u64(&[0x00]), Some(0));
        assert_eq!(leb128_u64(&[0x80]), None, "unterminated");
        assert_eq!(leb128_u64(&[0xff; 11]), None, "too long");
    }
}
