//! Billing rules (`docs/billing.md`): what an upload costs, how storage
//! accrues, how a credit account changes, and deposits before and after
//! their payment. Pure functions over `State`, like the rest of `logic`.
//!
//! An account changes only through a [`CreditChange`]: a copy of the
//! account plus the movements it records, written back as one step, so an
//! operation that fails part-way writes nothing.

use crate::model::State;
use crate::model::billing::{CreditAccount, DepositEntry, DepositState, Reservation, StoredMovement};
use crate::model::storable::{DepositKey, MovementKey};
use crate::model::users::{NANOS_PER_SEC, check_window, record_in_window};
use candid::Principal;
use depot_api::DirectoryError;
use depot_api::billing::*;
use depot_api::limits::*;

pub const NANOS_PER_DAY: u64 = 86_400 * NANOS_PER_SEC;
/// A billing month: 30 days.
pub const MONTH_NS: u128 = 30 * NANOS_PER_DAY as u128;
pub const GIB: u128 = 1 << 30;

/// Each chunk billed as at least `MIN_BILLABLE_CHUNK_BYTES`; an empty file
/// as one minimum (its record and certified responses).
pub fn billable_bytes(size: u64, chunk_size: u32) -> u64 {
    let chunk = u64::from(chunk_size.max(1));
    let full = size / chunk;
    let rest = size % chunk;
    let per_full = chunk.max(MIN_BILLABLE_CHUNK_BYTES);
    let last = if rest > 0 { rest.max(MIN_BILLABLE_CHUNK_BYTES) } else { 0 };
    let total = full.saturating_mul(per_full).saturating_add(last);
    total.max(MIN_BILLABLE_CHUNK_BYTES)
}

/// Ingress of `bytes`, rounded up.
pub fn ingress_cycles(p: &Pricing, bytes: u64) -> u128 {
    (u128::from(bytes) * p.ingress_cycles_per_gib).div_ceil(GIB)
}

/// Storage of `bytes` for `nanos`; rounded up for holds and quotes, down
/// for accrual (so the rounding of frequent accruals favours the user).
pub fn storage_cycles(p: &Pricing, bytes: u64, nanos: u64, round_up: bool) -> u128 {
    let num = u128::from(bytes) * p.storage_cycles_per_gib_month;
    let den = GIB * MONTH_NS;
    // bytes ≤ 2^64 and prices ≤ 2^64 in practice; saturate rather than
    // overflow on absurd settings (admin_set_pricing bounds them).
    let num = num.saturating_mul(u128::from(nanos));
    if round_up { num.div_ceil(den) } else { num / den }
}

fn days_ns(days: u32) -> u64 {
    u64::from(days) * NANOS_PER_DAY
}

/// Stored bytes that are charged: beyond the free tier.
pub fn charged_stored_bytes(p: &Pricing, a: &CreditAccount) -> u64 {
    a.stored_bytes.saturating_sub(p.free_bytes)
}

pub fn burn_per_day(p: &Pricing, a: &CreditAccount) -> u128 {
    storage_cycles(p, charged_stored_bytes(p, a), NANOS_PER_DAY, true)
}

/// The account's state at `now`: a function of when it first owed, so it
/// never lags behind a job.
pub fn account_state_at(p: &Pricing, a: &CreditAccount, now_ns: u64) -> AccountState {
    let Some(since) = a.owed_since_ns else { return AccountState::Active };
    let suspend_at = since.saturating_add(days_ns(p.grace_days));
    if now_ns < suspend_at {
        return AccountState::Grace { since_ns: since, suspend_at_ns: suspend_at };
    }
    AccountState::Suspended { since_ns: suspend_at, delete_at_ns: suspend_at.saturating_add(days_ns(p.deletion_days)) }
}

/// An account with the changes of one operation, written as one step.
pub struct CreditChange {
    pub user: Principal,
    pub account: CreditAccount,
    movements: Vec<(MovementKind, u128)>,
}

impl CreditChange {
    /// Opens `user`'s account and folds in the storage accrued until `now`.
    pub fn open(state: &State, user: Principal, now_ns: u64) -> Self {
        let mut change = Self { user, account: state.account(user), movements: Vec::new() };
        change.accrue(state.pricing(), now_ns);
        change
    }

    /// Charges storage from the last accrual to `now`.
    fn accrue(&mut self, p: &Pricing, now_ns: u64) {
        let a = &mut self.account;
        if a.last_accrual_ns == 0 || now_ns <= a.last_accrual_ns {
            a.last_accrual_ns = a.last_accrual_ns.max(now_ns);
            return;
        }
        let bytes = charged_stored_bytes(p, a);
        let cost = storage_cycles(p, bytes, now_ns - a.last_accrual_ns, false);
        if bytes > 0 && cost == 0 {
            // Less than a cycle so far: keep accruing from the same point.
            return;
        }
        let from = a.last_accrual_ns;
        a.last_accrual_ns = now_ns;
        if cost > 0 {
            // Owed from the moment the balance ran out within the period,
            // so the state does not depend on when the account is looked at.
            let paid = cost.min(self.account.balance);
            let ran_out = from + clamp_u64(u128::from(now_ns - from) * paid / cost);
            self.debit(cost, ran_out);
            self.movements
                .push((MovementKind::Charge { kind: ChargeKind::Storage, from_ns: from, to_ns: now_ns }, cost));
        }
    }

    /// Takes `cycles` from the balance; what it cannot pay is owed.
    fn debit(&mut self, cycles: u128, now_ns: u64) {
        let a = &mut self.account;
        a.charged = a.charged.saturating_add(cycles);
        let paid = cycles.min(a.balance);
        a.balance -= paid;
        let rest = cycles - paid;
        if rest > 0 {
            a.owed = a.owed.saturating_add(rest);
            a.owed_since_ns.get_or_insert(now_ns);
        }
    }

    /// Adds `cycles`, paying what is owed first.
    fn credit(&mut self, cycles: u128) {
        let a = &mut self.account;
        a.deposited = a.deposited.saturating_add(cycles);
        let to_owed = cycles.min(a.owed);
        a.owed -= to_owed;
        a.balance = a.balance.saturating_add(cycles - to_owed);
        if a.owed == 0 {
            a.owed_since_ns = None;
        }
    }

    /// Writes the account and its movements; returns the last movement's
    /// sequence number.
    pub fn write(mut self, state: &mut State, now_ns: u64) -> Option<u64> {
        let mut last = None;
        for (kind, cycles) in std::mem::take(&mut self.movements) {
            last = Some(record_movement(state, self.user, &mut self.account, kind, cycles, now_ns));
        }
        state.accounts.insert(self.user, self.account);
        last
    }
}

/// Appends a movement, dropping the oldest past `MAX_MOVEMENTS_PER_USER`.
/// Consecutive storage charges merge into one (one line per stretch of
/// accrual, not one per touch of the account).
fn record_movement(
    state: &mut State,
    user: Principal,
    a: &mut CreditAccount,
    kind: MovementKind,
    cycles: u128,
    now_ns: u64,
) -> u64 {
    if let MovementKind::Charge { kind: ChargeKind::Storage, to_ns, .. } = kind
        && let Some(prev) = a.next_movement.checked_sub(1)
    {
        let key = MovementKey::movement(user, prev);
        if let Some(StoredMovement(mut m)) = state.movements.get(&key)
            && let MovementKind::Charge { kind: ChargeKind::Storage, to_ns: ref mut end, .. } = m.kind
            && now_ns / NANOS_PER_DAY == m.at_ns / NANOS_PER_DAY
        {
            *end = to_ns;
            m.cycles = m.cycles.saturating_add(cycles);
            state.movements.insert(key, StoredMovement(m));
            return prev;
        }
    }
    let seq = a.next_movement;
    a.next_movement += 1;
    state
        .movements
        .insert(MovementKey::movement(user, seq), StoredMovement(Movement { seq, at_ns: now_ns, kind, cycles }));
    if let Some(old) = seq.checked_sub(MAX_MOVEMENTS_PER_USER) {
        state.movements.remove(&MovementKey::movement(user, old));
    }
    seq
}

// ---- uploads ----

/// What `start_upload` of `size` bytes (kept `retention_days`, or until
/// deleted) would hold for `user` now.
pub fn quote(state: &State, user: Principal, size: u64, retention_days: Option<u32>, now_ns: u64) -> UploadCost {
    let change = CreditChange::open(state, user, now_ns);
    quote_for(state, &change.account, size, retention_days)
}

fn quote_for(state: &State, a: &CreditAccount, size: u64, retention_days: Option<u32>) -> UploadCost {
    let p = state.pricing();
    let billable = billable_bytes(size, state.settings().chunk_size);
    let free_left = p.free_bytes.saturating_sub(a.stored_bytes.saturating_add(a.held_bytes));
    let charged = billable.saturating_sub(free_left);
    // A file kept for less than the first period is held for its retention.
    let first_days = retention_days.map_or(p.first_period_days, |r| r.min(p.first_period_days));
    let period = days_ns(first_days);
    let upload_cycles = ingress_cycles(p, charged) + if charged > 0 { p.call_fee_cycles } else { 0 };
    let first_period_cycles = storage_cycles(p, charged, period, true);
    let cycles = upload_cycles + first_period_cycles;
    let existing = storage_cycles(p, charged_stored_bytes(p, a), days_ns(p.first_period_days), true);
    let required = cycles + existing + a.owed;
    let available = a.available();
    let short = required.saturating_sub(available);
    let tokens = if short == 0 {
        Vec::new()
    } else {
        // What to deposit: the shortfall, and at least the minimum deposit.
        let to_pay = short.max(p.min_deposit_cycles);
        p.tokens
            .iter()
            .map(|t| TokenAmount {
                ledger: t.ledger,
                symbol: t.symbol.clone(),
                amount: u64::try_from(to_pay.div_ceil(u128::from(t.cycles_per_unit.max(1))))
                    .unwrap_or(u64::MAX)
                    .saturating_add(t.ledger_fee),
            })
            .collect()
    };
    UploadCost {
        billable_bytes: billable,
        charged_bytes: charged,
        upload_cycles,
        first_period_cycles,
        cycles,
        required_cycles: required,
        available_cycles: available,
        tokens,
    }
}

fn clamp_u64(x: u128) -> u64 {
    u64::try_from(x).unwrap_or(u64::MAX)
}

/// `start_upload`: holds the upload's cost, or refuses with
/// `InsufficientCredit` (also while storage is owed). Nothing is written
/// on refusal; on success the returned change must be written.
pub fn reserve(
    state: &State,
    user: Principal,
    size: u64,
    retention_days: Option<u32>,
    now_ns: u64,
) -> Result<(Reservation, CreditChange), DirectoryError> {
    let mut change = CreditChange::open(state, user, now_ns);
    let cost = quote_for(state, &change.account, size, retention_days);
    if cost.required_cycles > cost.available_cycles || change.account.owed > 0 {
        return Err(DirectoryError::InsufficientCredit {
            required: clamp_u64(cost.required_cycles),
            available: clamp_u64(cost.available_cycles),
        });
    }
    let a = &mut change.account;
    a.held += cost.cycles;
    a.held_bytes = a.held_bytes.saturating_add(cost.billable_bytes);
    let reservation = Reservation::Credit {
        user,
        bytes: size,
        billable: cost.billable_bytes,
        upload_cycles: cost.upload_cycles,
        hold: cost.cycles,
    };
    Ok((reservation, change))
}

/// The credit side of a drift: a hold that the account does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditDrift(pub String);

fn unhold(a: &mut CreditAccount, billable: u64, hold: u128) -> Result<(), CreditDrift> {
    let held = a.held.checked_sub(hold);
    let held_bytes = a.held_bytes.checked_sub(billable);
    match (held, held_bytes) {
        (Some(h), Some(b)) => {
            a.held = h;
            a.held_bytes = b;
            Ok(())
        }
        _ => Err(CreditDrift(format!(
            "credit account holds {} cycles and {} bytes, cannot release {hold} and {billable}",
            a.held, a.held_bytes
        ))),
    }
}

/// Commit: charges the upload and starts billing its bytes.
pub fn settle(state: &State, reservation: &Reservation, now_ns: u64) -> Result<Option<CreditChange>, CreditDrift> {
    let Reservation::Credit { user, billable, upload_cycles, hold, .. } = *reservation else { return Ok(None) };
    let mut change = CreditChange::open(state, user, now_ns);
    unhold(&mut change.account, billable, hold)?;
    change.account.stored_bytes = change.account.stored_bytes.saturating_add(billable);
    if upload_cycles > 0 {
        change.debit(upload_cycles, now_ns);
        change
            .movements
            .push((MovementKind::Charge { kind: ChargeKind::Ingress, from_ns: now_ns, to_ns: now_ns }, upload_cycles));
    }
    Ok(Some(change))
}

/// Abort, expiry, hash mismatch: gives the hold back.
pub fn release(state: &State, reservation: &Reservation, now_ns: u64) -> Result<Option<CreditChange>, CreditDrift> {
    let Reservation::Credit { user, billable, hold, .. } = *reservation else { return Ok(None) };
    let mut change = CreditChange::open(state, user, now_ns);
    unhold(&mut change.account, billable, hold)?;
    Ok(Some(change))
}

/// Deleting a Ready file: its bytes stop accruing now. Files stored before
/// billing existed were never added, hence the saturation.
pub fn forget_file(state: &State, user: Principal, size: u64, chunk_size: u32, now_ns: u64) -> CreditChange {
    let mut change = CreditChange::open(state, user, now_ns);
    let a = &mut change.account;
    a.stored_bytes = a.stored_bytes.saturating_sub(billable_bytes(size, chunk_size));
    change
}

// ---- the storage-charging job ----

/// Accounts visited per maintenance tick: at one tick a minute, 10^5 users
/// are all charged within a day (`ACCRUAL_PERIOD_SECS`) with room to spare.
pub const ACCRUAL_BATCH: usize = 500;
/// An account not touched for this long is charged by the job.
pub const ACCRUAL_PERIOD_SECS: u64 = 12 * 60 * 60;

/// What one run of [`accrue_due`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccrualRun {
    pub charged: usize,
    /// Visited accounts whose files must be held back, served again or
    /// deleted (`logic::suspension`).
    pub attention: Vec<Principal>,
}

/// Charges storage to the next `batch` accounts (from a cursor that wraps)
/// whose last accrual is older than `ACCRUAL_PERIOD_SECS`, and reports the
/// visited accounts the suspension job must look at. Every account is
/// visited at least once per `accounts / batch` ticks, so storage is
/// debited at least daily.
pub fn accrue_due(state: &mut State, now_ns: u64, batch: usize) -> AccrualRun {
    let cursor = state.runtime().accrual_cursor;
    let period = ACCRUAL_PERIOD_SECS * NANOS_PER_SEC;
    let mut visited: Vec<(Principal, bool)> = Vec::with_capacity(batch);
    use std::ops::Bound::{Excluded, Unbounded};
    let start = cursor.map_or(Unbounded, Excluded);
    for e in state.accounts.range((start, Unbounded)).take(batch) {
        let due = e.value().last_accrual_ns.saturating_add(period) <= now_ns;
        visited.push((*e.key(), due));
    }
    let next = if visited.len() < batch { None } else { visited.last().map(|(p, _)| *p) };
    let mut run = AccrualRun::default();
    for (user, due) in visited {
        if due {
            CreditChange::open(state, user, now_ns).write(state, now_ns);
            run.charged += 1;
        }
        if super::suspension::needs_attention(state, user, now_ns) {
            run.attention.push(user);
        }
    }
    state.update_runtime(|rt| rt.accrual_cursor = next);
    run
}

// ---- balance ----

pub fn get_balance(state: &State, user: Principal, now_ns: u64) -> Balance {
    let p = state.pricing();
    let change = CreditChange::open(state, user, now_ns);
    let a = &change.account;
    let burn = burn_per_day(p, a);
    let available = a.available();
    let mut movements: Vec<Movement> =
        state.movements.range(MovementKey::range_of(user)).map(|e| e.value().0).collect();
    // Accrual not yet written shows as the newest line.
    for (kind, cycles) in &change.movements {
        movements.push(Movement { seq: a.next_movement, at_ns: now_ns, kind: kind.clone(), cycles: *cycles });
    }
    movements.reverse();
    movements.truncate(MAX_MOVEMENTS_PER_USER as usize);
    Balance {
        balance_cycles: a.balance,
        owed_cycles: a.owed,
        held_cycles: a.held,
        available_cycles: available,
        billable_bytes: a.stored_bytes,
        charged_bytes: charged_stored_bytes(p, a),
        free_bytes: p.free_bytes,
        burn_cycles_per_day: burn,
        runway_days: (burn > 0).then(|| clamp_u64(available / burn)),
        state: account_state_at(p, a, now_ns),
        deposited_cycles: a.deposited,
        charged_cycles: a.charged,
        movements,
    }
}

// ---- deposits ----

/// A deposit validated and journaled, awaiting its payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepositPlan {
    pub user: Principal,
    pub key: DepositKey,
    pub payment: Payment,
    pub amount: u64,
    pub rate: u64,
    pub credited: u128,
}

pub enum DepositStart {
    /// The nonce was seen: its recorded outcome.
    Replay(DepositResult),
    /// Journaled InFlight: collect the payment, then `finish_deposit`.
    Pay(DepositPlan),
}

fn invalid(reason: impl Into<String>) -> BillingError {
    BillingError::InvalidRequest { reason: reason.into() }
}

/// Validates a deposit and journals it InFlight before any payment is
/// asked for. A refusal writes nothing.
pub fn begin_deposit(
    state: &mut State,
    caller: Principal,
    req: &DepositReq,
    directory: Principal,
    now_ns: u64,
) -> Result<DepositStart, BillingError> {
    super::require_user(caller)?;
    let nonce: [u8; DEPOSIT_NONCE_BYTES] =
        req.nonce.as_slice().try_into().map_err(|_| invalid(format!("nonce must be {DEPOSIT_NONCE_BYTES} bytes")))?;
    let key = DepositKey::new(caller, nonce);
    if let Some(entry) = state.deposits.get(&key) {
        if entry.payment != req.payment || entry.amount != req.amount || entry.created_at_ns != req.created_at_ns {
            return Err(invalid("this nonce was used for another deposit"));
        }
        return match entry.state {
            DepositState::InFlight { .. } => Err(BillingError::DepositInProgress),
            DepositState::Credited(res) => Ok(DepositStart::Replay(Ok(res))),
            DepositState::Failed(e) => Ok(DepositStart::Replay(Err(e))),
        };
    }
    let window = DEPOSIT_WINDOW_SECS * NANOS_PER_SEC;
    if req.created_at_ns.saturating_add(window) < now_ns {
        return Err(BillingError::OutsideDepositWindow {
            reason: format!("older than {DEPOSIT_WINDOW_SECS} s: make a new deposit with a new nonce"),
        });
    }
    if req.created_at_ns > now_ns.saturating_add(DEPOSIT_FUTURE_SLACK_SECS * NANOS_PER_SEC) {
        return Err(BillingError::OutsideDepositWindow {
            reason: format!("more than {DEPOSIT_FUTURE_SLACK_SECS} s in the future"),
        });
    }
    if req.amount == 0 {
        return Err(invalid("amount must be positive"));
    }
    let p = state.pricing();
    let rate = match &req.payment {
        Payment::AttachedCycles | Payment::CallerPaysIcrc2Cycles => 1,
        Payment::PatronPaysIcrc2Cycles(patron) => {
            check_patron(patron, caller, directory)?;
            1
        }
        Payment::CallerPaysIcrc2Tokens(t) => token_rate(p, t.ledger)?,
        Payment::PatronPaysIcrc2Tokens(t) => {
            check_patron(&t.patron, caller, directory)?;
            token_rate(p, t.ledger)?
        }
    };
    let credited = u128::from(req.amount) * u128::from(rate);
    if credited < p.min_deposit_cycles {
        return Err(BillingError::BelowMinimum { amount_cycles: credited, min_cycles: p.min_deposit_cycles });
    }
    let mut account = state.account(caller);
    if account.deposits_in_flight >= MAX_DEPOSITS_IN_FLIGHT_PER_USER {
        return Err(BillingError::TooManyDepositsInProgress { limit: MAX_DEPOSITS_IN_FLIGHT_PER_USER });
    }
    check_window(&account.recent_deposits_ns, now_ns, DEPOSITS_PER_MINUTE, RATE_WINDOW_SECS)
        .map_err(|retry_after_secs| BillingError::RateLimited { retry_after_secs })?;
    record_in_window(&mut account.recent_deposits_ns, now_ns, DEPOSITS_PER_MINUTE, RATE_WINDOW_SECS);
    account.deposits_in_flight += 1;
    state.accounts.insert(caller, account);
    state.deposits.insert(
        key,
        DepositEntry {
            payment: req.payment.clone(),
            amount: req.amount,
            created_at_ns: req.created_at_ns,
            state: DepositState::InFlight { since_ns: now_ns },
        },
    );
    Ok(DepositStart::Pay(DepositPlan {
        user: caller,
        key,
        payment: req.payment.clone(),
        amount: req.amount,
        rate,
        credited,
    }))
}

fn check_patron(patron: &Account, caller: Principal, directory: Principal) -> Result<(), BillingError> {
    if patron.owner == directory {
        return Err(invalid("the patron cannot be the directory"));
    }
    if patron.owner == caller && patron.subaccount.as_ref().is_none_or(|s| s.iter().all(|b| *b == 0)) {
        return Err(invalid("the patron is the caller: use CallerPays"));
    }
    if patron.subaccount.as_ref().is_some_and(|s| s.len() != 32) {
        return Err(invalid("a subaccount is 32 bytes"));
    }
    Ok(())
}

fn token_rate(p: &Pricing, ledger: Principal) -> Result<u64, BillingError> {
    p.tokens
        .iter()
        .find(|t| t.ledger == ledger)
        .map(|t| t.cycles_per_unit)
        .ok_or(BillingError::UnsupportedToken { ledger })
}

/// After the payment: credits it (or records the failure) and closes the
/// journal entry, in one message with no fallible step, so a payment taken
/// is never lost.
pub fn finish_deposit(
    state: &mut State,
    plan: &DepositPlan,
    paid: Result<(), BillingError>,
    now_ns: u64,
) -> DepositResult {
    let mut change = CreditChange::open(state, plan.user, now_ns);
    change.account.deposits_in_flight = change.account.deposits_in_flight.saturating_sub(1);
    let result = match paid {
        Ok(()) => {
            change.credit(plan.credited);
            change.movements.push((
                MovementKind::Deposit {
                    payment: plan.payment.kind().to_string(),
                    ledger: plan.payment.token_ledger(),
                    amount: plan.amount,
                    rate: plan.rate,
                },
                plan.credited,
            ));
            let balance = change.account.balance;
            let movement = change.write(state, now_ns).unwrap_or_default();
            Ok(DepositRes { credited_cycles: plan.credited, rate: plan.rate, balance_cycles: balance, movement })
        }
        Err(e) => {
            change.write(state, now_ns);
            Err(e)
        }
    };
    if let Some(mut entry) = state.deposits.get(&plan.key) {
        entry.state = match &result {
            Ok(res) => DepositState::Credited(res.clone()),
            Err(e) => DepositState::Failed(e.clone()),
        };
        state.deposits.insert(plan.key, entry);
    }
    result
}

/// The operator settles a deposit whose ledger call never returned: only
/// one InFlight for longer than `DEPOSIT_STALE_SECS`, credited (`paid`) or
/// closed as failed, as its own reply would have.
pub fn resolve_deposit(state: &mut State, req: &ResolveDepositReq, now_ns: u64) -> DepositResult {
    let nonce: [u8; DEPOSIT_NONCE_BYTES] =
        req.nonce.as_slice().try_into().map_err(|_| invalid(format!("nonce must be {DEPOSIT_NONCE_BYTES} bytes")))?;
    let key = DepositKey::new(req.user, nonce);
    let entry = state.deposits.get(&key).ok_or_else(|| invalid("no deposit with this nonce"))?;
    let DepositState::InFlight { since_ns } = entry.state else {
        return Err(invalid("this deposit is already settled"));
    };
    if since_ns.saturating_add(DEPOSIT_STALE_SECS * NANOS_PER_SEC) > now_ns {
        return Err(BillingError::DepositInProgress);
    }
    let rate = match entry.payment.token_ledger() {
        None => 1,
        Some(ledger) => token_rate(state.pricing(), ledger)?,
    };
    let plan = DepositPlan {
        user: req.user,
        key,
        payment: entry.payment.clone(),
        amount: entry.amount,
        rate,
        credited: u128::from(entry.amount) * u128::from(rate),
    };
    let outcome = if req.paid {
        Ok(())
    } else {
        Err(BillingError::PaymentFailed {
            ledger: entry.payment.token_ledger().unwrap_or_else(cycles_ledger_id),
            reason: "resolved as not paid by the operator".into(),
        })
    };
    finish_deposit(state, &plan, outcome, now_ns)
}

/// The operator credits `cycles` to a user (a correction), recorded as a
/// `Refund` movement with its reason.
pub fn refund(state: &mut State, req: &RefundReq, now_ns: u64) -> Result<(), BillingError> {
    if req.cycles == 0 || req.cycles > MAX_PRICE_CYCLES {
        return Err(invalid(format!("a refund is 1..={MAX_PRICE_CYCLES} cycles")));
    }
    if req.reason.trim().is_empty() || req.reason.len() > MAX_REFUND_REASON_BYTES {
        return Err(invalid(format!("a refund needs a reason of at most {MAX_REFUND_REASON_BYTES} bytes")));
    }
    let mut change = CreditChange::open(state, req.user, now_ns);
    change.credit(req.cycles);
    change.movements.push((MovementKind::Refund { reason: req.reason.clone() }, req.cycles));
    change.write(state, now_ns);
    Ok(())
}

/// Journal entries dropped per maintenance tick.
pub const PRUNE_BATCH: usize = 500;

/// Drops journal entries whose deposit window has passed (their nonce can
/// no longer be replayed); InFlight entries stay. At most `batch`.
pub fn prune_deposits(state: &mut State, now_ns: u64, batch: usize) -> usize {
    let window = DEPOSIT_WINDOW_SECS * NANOS_PER_SEC;
    let old: Vec<DepositKey> = state
        .deposits
        .iter()
        .filter(|e| {
            let v = e.value();
            !matches!(v.state, DepositState::InFlight { .. }) && v.created_at_ns.saturating_add(window) < now_ns
        })
        .map(|e| *e.key())
        .take(batch)
        .collect();
    for k in &old {
        state.deposits.remove(k);
    }
    old.len()
}

// ---- pricing ----

/// Bounds a pricing must respect: every product of the rules stays far
/// from u128 overflow, and token lists stay small.
pub const MAX_PRICE_CYCLES: u128 = 1_000_000 * 1_000_000_000_000;

pub fn validate_pricing(p: &Pricing) -> Result<(), BillingError> {
    for (name, v) in [
        ("storage_cycles_per_gib_month", p.storage_cycles_per_gib_month),
        ("ingress_cycles_per_gib", p.ingress_cycles_per_gib),
        ("call_fee_cycles", p.call_fee_cycles),
        ("min_deposit_cycles", p.min_deposit_cycles),
    ] {
        if v > MAX_PRICE_CYCLES {
            return Err(invalid(format!("{name} above {MAX_PRICE_CYCLES}")));
        }
    }
    if p.first_period_days > 366 || p.grace_days > 366 || p.deletion_days > 366 {
        return Err(invalid("periods are at most 366 days"));
    }
    if p.tokens.len() > MAX_PRICED_TOKENS {
        return Err(invalid(format!("at most {MAX_PRICED_TOKENS} tokens")));
    }
    for (i, t) in p.tokens.iter().enumerate() {
        if t.symbol.is_empty()
            || t.symbol.len() > MAX_TOKEN_SYMBOL_BYTES
            || !t.symbol.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(invalid(format!(
                "token symbol {:?}: 1..={MAX_TOKEN_SYMBOL_BYTES} ASCII letters or digits",
                t.symbol
            )));
        }
        if t.cycles_per_unit == 0 || t.decimals > 18 {
            return Err(invalid(format!("token {}: cycles_per_unit must be positive, decimals at most 18", t.symbol)));
        }
        if p.tokens[..i].iter().any(|o| o.ledger == t.ledger || o.symbol == t.symbol) {
            return Err(invalid(format!("token {} is listed twice", t.symbol)));
        }
    }
    Ok(())
}
