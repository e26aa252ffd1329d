//! Billing rules at the default prices: quotes, holds around commit, abort
//! and expiry, storage accrual, the account states, deposits exactly once,
//! and the books after a random mix.

use super::*;
use crate::jobs::reaper::reap_expired_uploads;
use crate::logic::billing::{self, DepositStart, GIB as GIB128, NANOS_PER_DAY, billable_bytes};
use crate::logic::files::delete_file_impl;
use crate::logic::upload::abort_upload_impl;
use crate::model::billing::TRILLION;
use depot_api::billing::*;
use depot_api::directory::{SetRetentionReq, StartUploadReq};
use depot_api::limits::*;
use proptest::prelude::*;

const DIRECTORY: Principal = Principal::from_slice(&[0xd1; 10]);

fn token() -> TokenPrice {
    TokenPrice {
        ledger: Principal::from_slice(&[0x70; 10]),
        symbol: "TUSD".into(),
        decimals: 6,
        ledger_fee: 10_000,
        cycles_per_unit: 740_000,
    }
}

fn paid() -> Fx {
    let mut fx = Fx::new();
    fx.s.set_pricing(Pricing { tokens: vec![token()], ..Pricing::default() });
    fx
}

fn nonce(n: u8) -> ByteBuf {
    ByteBuf::from(vec![n; DEPOSIT_NONCE_BYTES])
}

fn deposit_req(fx: &Fx, payment: Payment, amount: u64, n: u8) -> DepositReq {
    DepositReq { payment, amount, nonce: nonce(n), created_at_ns: fx.now }
}

/// A deposit whose payment succeeds (or fails with `paid`).
fn deposit_with(fx: &mut Fx, user: Principal, req: &DepositReq, paid: Result<(), BillingError>) -> DepositResult {
    let plan = match billing::begin_deposit(&mut fx.s, user, req, DIRECTORY, fx.now)? {
        DepositStart::Replay(r) => return r,
        DepositStart::Pay(plan) => plan,
    };
    let r = billing::finish_deposit(&mut fx.s, &plan, paid, fx.now);
    fx.books();
    r
}

/// A deposit; the clock then moves on 7 s, under the deposit rate.
fn deposit_cycles(fx: &mut Fx, user: Principal, cycles: u64, n: u8) -> DepositRes {
    let req = deposit_req(fx, Payment::CallerPaysIcrc2Cycles, cycles, n);
    let r = deposit_with(fx, user, &req, Ok(())).expect("deposit");
    fx.advance_secs(7);
    r
}

fn balance(fx: &Fx, user: Principal) -> Balance {
    billing::get_balance(&fx.s, user, fx.now)
}

#[test]
fn costs_follow_the_prices_and_the_minimum_chunk() {
    let p = Pricing::default();
    assert_eq!(billable_bytes(0, 2_000_000), MIN_BILLABLE_CHUNK_BYTES);
    assert_eq!(billable_bytes(10, 2_000_000), MIN_BILLABLE_CHUNK_BYTES);
    assert_eq!(billable_bytes(2_000_000, 2_000_000), 2_000_000);
    assert_eq!(billable_bytes(2_000_001, 2_000_000), 2_000_000 + MIN_BILLABLE_CHUNK_BYTES);
    assert_eq!(billing::ingress_cycles(&p, GIB), 3 * TRILLION);
    assert_eq!(billing::storage_cycles(&p, GIB, 30 * NANOS_PER_DAY, false), TRILLION);
    // one byte for a day is 31.04 cycles: rounded up for holds and quotes,
    // down for accrual
    assert_eq!(billing::storage_cycles(&p, 1, NANOS_PER_DAY, true), 32);
    assert_eq!(billing::storage_cycles(&p, 1, NANOS_PER_DAY, false), 31);
    assert_eq!(GIB128, u128::from(GIB));
}

#[test]
fn the_free_tier_needs_no_credit_and_past_it_start_upload_needs_it() {
    let mut fx = paid();
    // 100 MiB free: a 50 MiB file costs nothing
    let q = billing::quote(&fx.s, alice(), 50 * MIB, None, fx.now);
    assert_eq!((q.charged_bytes, q.cycles, q.required_cycles), (0, 0, 0));
    fx.ready_file(alice(), 50 * MIB);
    // 1 GiB more: 50 MiB still free, the rest charged
    let q = billing::quote(&fx.s, alice(), GIB, None, fx.now);
    let charged = billable_bytes(GIB, CHUNK as u32) - 50 * MIB;
    assert_eq!(q.charged_bytes, charged);
    let p = fx.s.pricing().clone();
    assert_eq!(q.upload_cycles, billing::ingress_cycles(&p, charged));
    assert_eq!(q.first_period_cycles, billing::storage_cycles(&p, charged, 30 * NANOS_PER_DAY, true));
    // what is short, in tokens, ledger fee included
    let t = &q.tokens[0];
    assert_eq!(t.amount, u64::try_from(q.required_cycles.div_ceil(740_000)).unwrap() + 10_000);
    let expected = DirectoryError::InsufficientCredit { required: q.required_cycles as u64, available: 0 };
    assert_err_unchanged(&mut fx, expected, |fx| fx.start(alice(), GIB));
}

#[test]
fn a_hold_is_charged_at_commit_and_given_back_at_abort_and_expiry() {
    let mut fx = paid();
    fx.ready_file(alice(), 100 * MIB); // the free tier, used up
    deposit_cycles(&mut fx, alice(), 10 * TRILLION as u64, 1);
    let q = billing::quote(&fx.s, alice(), GIB, None, fx.now);
    let res = fx.start_ok(alice(), GIB);
    let b = balance(&fx, alice());
    assert_eq!((b.held_cycles, b.balance_cycles), (q.cycles, 10 * TRILLION));
    assert_eq!(b.available_cycles, 10 * TRILLION - q.cycles);
    fx.commit_ok(alice(), &res.upload_id);
    let b = balance(&fx, alice());
    assert_eq!((b.held_cycles, b.balance_cycles), (0, 10 * TRILLION - q.upload_cycles));
    assert_eq!(b.charged_bytes, q.charged_bytes);
    assert!(matches!(b.movements[0].kind, MovementKind::Charge { kind: ChargeKind::Ingress, .. }));
    assert_eq!(b.burn_cycles_per_day, billing::storage_cycles(fx.s.pricing(), q.charged_bytes, NANOS_PER_DAY, true));
    assert_eq!(b.runway_days, Some(u64::try_from(b.available_cycles / b.burn_cycles_per_day).unwrap()));

    // abort gives the hold back in full
    fx.advance_secs(60);
    let before = balance(&fx, alice()).balance_cycles;
    let res = fx.start_ok(alice(), 10 * MIB);
    assert!(balance(&fx, alice()).held_cycles > 0);
    abort_upload_impl(&mut fx.s, alice(), &res.upload_id, fx.now).unwrap();
    let b = balance(&fx, alice());
    assert_eq!(b.held_cycles, 0);
    assert!(b.balance_cycles <= before, "only storage accrued");
    // expiry too
    let _ = fx.start_ok(alice(), 10 * MIB);
    fx.advance_secs(fx.s.settings().upload_session_ttl_secs + 1);
    reap_expired_uploads(&mut fx.s, fx.now, usize::MAX);
    assert_eq!(balance(&fx, alice()).held_cycles, 0);
    fx.books();
}

#[test]
fn storage_accrues_by_the_day_and_stops_at_delete() {
    let mut fx = paid();
    deposit_cycles(&mut fx, alice(), 100 * TRILLION as u64, 1);
    let id = fx.ready_file(alice(), GIB + 100 * MIB);
    let b0 = balance(&fx, alice());
    let charged = b0.charged_bytes;
    // 30 days, touched every day: one storage line per day, a month's price
    for _ in 0..30 {
        fx.now += NANOS_PER_DAY;
        billing::CreditChange::open(&fx.s, alice(), fx.now).write(&mut fx.s, fx.now);
    }
    let b = balance(&fx, alice());
    let month = billing::storage_cycles(fx.s.pricing(), charged, 30 * NANOS_PER_DAY, false);
    let paid = b0.balance_cycles - b.balance_cycles;
    assert!(month - paid <= 30, "a month costs {month}, charged {paid} (floor per day)");
    let storage_lines =
        b.movements.iter().filter(|m| matches!(m.kind, MovementKind::Charge { kind: ChargeKind::Storage, .. }));
    assert_eq!(storage_lines.count(), 30);
    // deleted: nothing more accrues
    delete_file_impl(&mut fx.s, alice(), &id, fx.now).unwrap();
    let after_delete = balance(&fx, alice()).balance_cycles;
    fx.now += 10 * NANOS_PER_DAY;
    assert_eq!(balance(&fx, alice()).balance_cycles, after_delete);
    fx.books();
}

#[test]
fn an_empty_balance_owes_then_grace_then_suspension_and_a_deposit_clears_it() {
    let mut fx = paid();
    deposit_cycles(&mut fx, alice(), (7 * TRILLION / 4) as u64, 1);
    fx.ready_file(alice(), 100 * MIB + GIB / 4);
    // 1.75 T less 0.75 T of ingress leaves 1 T; at 1 T per GiB-month for a
    // quarter GiB it lasts 4 months (120 days), then
    // owing from the day it ran out
    fx.now += 130 * NANOS_PER_DAY;
    let b = balance(&fx, alice());
    assert_eq!(b.balance_cycles, 0);
    assert!(b.owed_cycles > 0);
    let AccountState::Grace { since_ns, suspend_at_ns } = b.state else { panic!("{:?}", b.state) };
    assert!(since_ns.abs_diff(T0 + 120 * NANOS_PER_DAY) < NANOS_PER_DAY, "ran out after 120 days");
    assert_eq!(suspend_at_ns, since_ns + 30 * NANOS_PER_DAY);
    assert_eq!(balance(&fx, alice()).state, b.state, "the state does not depend on when it is looked at");
    // uploads are refused while owing, even within the free tier
    assert!(matches!(fx.start(alice(), 0), Err(DirectoryError::InsufficientCredit { .. })));
    // (the moment it ran out is computed per accrual period: to the
    // nanosecond it may move by the rounding of a cycle)
    fx.now = suspend_at_ns + NANOS_PER_SEC;
    let b = balance(&fx, alice());
    let AccountState::Suspended { since_ns, delete_at_ns } = b.state else { panic!("{:?}", b.state) };
    assert!(since_ns.abs_diff(suspend_at_ns) < NANOS_PER_SEC);
    assert_eq!(delete_at_ns, since_ns + 30 * NANOS_PER_DAY);
    // a deposit pays what is owed first
    let owed = b.owed_cycles;
    let r = deposit_cycles(&mut fx, alice(), 5 * TRILLION as u64, 2);
    assert_eq!(r.balance_cycles, 5 * TRILLION - owed);
    let b = balance(&fx, alice());
    assert_eq!((b.owed_cycles, b.state), (0, AccountState::Active));
    fx.start_ok(alice(), MIB);
}

#[test]
fn a_deposit_is_credited_once_per_nonce() {
    let mut fx = paid();
    let req = deposit_req(
        &fx,
        Payment::CallerPaysIcrc2Tokens(CallerPaysIcrc2Tokens { ledger: token().ledger }),
        1_000_000,
        7,
    );
    let first = deposit_with(&mut fx, alice(), &req, Ok(())).unwrap();
    assert_eq!((first.credited_cycles, first.rate), (740_000 * 1_000_000, 740_000));
    // replayed: the same answer, no second credit
    let digest = fx.digest();
    assert_eq!(deposit_with(&mut fx, alice(), &req, Err(BillingError::DepositInProgress)), Ok(first.clone()));
    assert_eq!(fx.digest(), digest);
    // the same nonce for another deposit is refused
    let other = DepositReq { amount: 2_000_000, ..req.clone() };
    assert!(matches!(deposit_with(&mut fx, alice(), &other, Ok(())), Err(BillingError::InvalidRequest { .. })));
    // another user's nonce space is separate
    assert!(deposit_with(&mut fx, bob(), &req, Ok(())).is_ok());
    // while in flight, a retry is told so
    let r2 = deposit_req(&fx, Payment::CallerPaysIcrc2Cycles, TRILLION as u64, 8);
    let DepositStart::Pay(plan) = billing::begin_deposit(&mut fx.s, alice(), &r2, DIRECTORY, fx.now).unwrap() else {
        panic!()
    };
    assert!(matches!(
        billing::begin_deposit(&mut fx.s, alice(), &r2, DIRECTORY, fx.now),
        Err(BillingError::DepositInProgress)
    ));
    billing::finish_deposit(&mut fx.s, &plan, Ok(()), fx.now).unwrap();
    assert_eq!(balance(&fx, alice()).balance_cycles, first.credited_cycles + TRILLION);
    fx.books();
}

#[test]
fn a_failed_payment_changes_no_balance_and_is_replayed() {
    let mut fx = paid();
    let req = deposit_req(&fx, Payment::CallerPaysIcrc2Cycles, TRILLION as u64, 1);
    let failed = BillingError::PaymentFailed { ledger: DIRECTORY, reason: "InsufficientAllowance".into() };
    assert_eq!(deposit_with(&mut fx, alice(), &req, Err(failed.clone())), Err(failed.clone()));
    let b = balance(&fx, alice());
    assert_eq!((b.balance_cycles, b.movements.len()), (0, 0));
    assert_eq!(fx.s.account(alice()).deposits_in_flight, 0);
    assert_eq!(deposit_with(&mut fx, alice(), &req, Ok(())), Err(failed), "a nonce that failed stays failed");
    fx.books();
}

#[test]
fn hostile_deposits_are_refused_with_typed_errors_and_change_nothing() {
    let mut fx = paid();
    let now = fx.now;
    let cycles = Payment::CallerPaysIcrc2Cycles;
    let unknown = Principal::from_slice(&[0x66; 10]);
    let cases: Vec<(DepositReq, Principal, BillingError)> = vec![
        (deposit_req(&fx, cycles.clone(), 1, 1), anon(), BillingError::Unauthorised),
        (
            DepositReq { nonce: ByteBuf::from(vec![1; 15]), ..deposit_req(&fx, cycles.clone(), TRILLION as u64, 1) },
            alice(),
            BillingError::InvalidRequest { reason: format!("nonce must be {DEPOSIT_NONCE_BYTES} bytes") },
        ),
        (
            deposit_req(&fx, cycles.clone(), 0, 1),
            alice(),
            BillingError::InvalidRequest { reason: "amount must be positive".into() },
        ),
        (
            deposit_req(&fx, cycles.clone(), (TRILLION / 10 - 1) as u64, 1),
            alice(),
            BillingError::BelowMinimum { amount_cycles: TRILLION / 10 - 1, min_cycles: TRILLION / 10 },
        ),
        (
            deposit_req(&fx, Payment::CallerPaysIcrc2Tokens(CallerPaysIcrc2Tokens { ledger: unknown }), 1_000_000, 1),
            alice(),
            BillingError::UnsupportedToken { ledger: unknown },
        ),
        (
            deposit_req(
                &fx,
                Payment::PatronPaysIcrc2Cycles(Account { owner: DIRECTORY, subaccount: None }),
                TRILLION as u64,
                1,
            ),
            alice(),
            BillingError::InvalidRequest { reason: "the patron cannot be the directory".into() },
        ),
        (
            deposit_req(
                &fx,
                Payment::PatronPaysIcrc2Cycles(Account { owner: bob(), subaccount: Some(ByteBuf::from(vec![1; 3])) }),
                TRILLION as u64,
                1,
            ),
            alice(),
            BillingError::InvalidRequest { reason: "a subaccount is 32 bytes".into() },
        ),
    ];
    for (req, who, expected) in cases {
        let before = fx.digest();
        let got = billing::begin_deposit(&mut fx.s, who, &req, DIRECTORY, now).err();
        assert_eq!(got, Some(expected));
        assert_eq!(fx.digest(), before);
    }
    // the window: a day old is refused, five minutes ahead is the edge
    let window = DEPOSIT_WINDOW_SECS * NANOS_PER_SEC;
    let old = DepositReq { created_at_ns: now - window - 1, ..deposit_req(&fx, cycles.clone(), TRILLION as u64, 2) };
    assert!(matches!(
        billing::begin_deposit(&mut fx.s, alice(), &old, DIRECTORY, now),
        Err(BillingError::OutsideDepositWindow { .. })
    ));
    let slack = DEPOSIT_FUTURE_SLACK_SECS * NANOS_PER_SEC;
    let ahead = DepositReq { created_at_ns: now + slack + 1, ..old.clone() };
    assert!(matches!(
        billing::begin_deposit(&mut fx.s, alice(), &ahead, DIRECTORY, now),
        Err(BillingError::OutsideDepositWindow { .. })
    ));
    let edge = DepositReq { created_at_ns: now + slack, ..old };
    assert!(billing::begin_deposit(&mut fx.s, alice(), &edge, DIRECTORY, now).is_ok());
    // deposits in flight per user: the limit, then refused
    for n in 1..MAX_DEPOSITS_IN_FLIGHT_PER_USER as u8 {
        let req = deposit_req(&fx, cycles.clone(), TRILLION as u64, 10 + n);
        billing::begin_deposit(&mut fx.s, alice(), &req, DIRECTORY, now).unwrap();
    }
    let over = deposit_req(&fx, cycles, TRILLION as u64, 99);
    let before = fx.digest();
    assert_eq!(
        billing::begin_deposit(&mut fx.s, alice(), &over, DIRECTORY, now).err(),
        Some(BillingError::TooManyDepositsInProgress { limit: MAX_DEPOSITS_IN_FLIGHT_PER_USER })
    );
    assert_eq!(fx.digest(), before);
}

#[test]
fn the_journal_forgets_nonces_only_after_the_window() {
    let mut fx = paid();
    let created = fx.now;
    deposit_cycles(&mut fx, alice(), TRILLION as u64, 1);
    assert_eq!(billing::prune_deposits(&mut fx.s, created + DEPOSIT_WINDOW_SECS * NANOS_PER_SEC, 10), 0);
    assert_eq!(billing::prune_deposits(&mut fx.s, created + DEPOSIT_WINDOW_SECS * NANOS_PER_SEC + 1, 10), 1);
    assert!(fx.s.deposits.is_empty());
}

#[test]
fn concurrent_uploads_never_hold_more_than_the_credit() {
    let mut fx = Fx::with(DirectoryInit {
        start_upload_per_minute: Some(100),
        max_uploads_in_progress: Some(100),
        ..Default::default()
    });
    fx.s.set_pricing(Pricing { free_bytes: 0, ..Pricing::default() });
    deposit_cycles(&mut fx, alice(), TRILLION as u64, 1);
    let mut started = 0;
    while fx.start(alice(), 100 * MIB).is_ok() {
        started += 1;
    }
    assert!(started > 0);
    let b = balance(&fx, alice());
    assert!(b.held_cycles <= b.balance_cycles, "{b:?}");
    // the last start was refused with the numbers that show why
    let Err(DirectoryError::InsufficientCredit { required, available }) = fx.start(alice(), 100 * MIB) else {
        panic!()
    };
    assert!(u128::from(required) > u128::from(available) && u128::from(available) == b.available_cycles);
}

#[test]
fn movements_keep_the_newest_hundred() {
    let mut fx = paid();
    for n in 0..(MAX_MOVEMENTS_PER_USER + 5) {
        let req = DepositReq {
            nonce: ByteBuf::from([n.to_be_bytes(), [9; 8]].concat()),
            ..deposit_req(&fx, Payment::CallerPaysIcrc2Cycles, TRILLION as u64, 0)
        };
        deposit_with(&mut fx, alice(), &req, Ok(())).unwrap();
        fx.advance_secs(7);
    }
    let b = balance(&fx, alice());
    assert_eq!(b.movements.len() as u64, MAX_MOVEMENTS_PER_USER);
    assert_eq!(b.movements[0].seq, MAX_MOVEMENTS_PER_USER + 4);
    assert_eq!(fx.s.movements.len(), MAX_MOVEMENTS_PER_USER);
}

#[test]
fn pricing_is_validated() {
    let ok = Pricing { tokens: vec![token()], ..Pricing::default() };
    assert_eq!(billing::validate_pricing(&ok), Ok(()));
    let bad = [
        Pricing { storage_cycles_per_gib_month: billing::MAX_PRICE_CYCLES + 1, ..ok.clone() },
        Pricing { grace_days: 367, ..ok.clone() },
        Pricing { tokens: vec![token(), token()], ..ok.clone() },
        Pricing { tokens: vec![TokenPrice { symbol: "<b>".into(), ..token() }], ..ok.clone() },
        Pricing {
            tokens: vec![TokenPrice { symbol: "X".repeat(MAX_TOKEN_SYMBOL_BYTES + 1), ..token() }],
            ..ok.clone()
        },
        Pricing { tokens: vec![TokenPrice { cycles_per_unit: 0, ..token() }], ..ok.clone() },
        Pricing { tokens: vec![token(); MAX_PRICED_TOKENS + 1], ..ok.clone() },
    ];
    for p in bad {
        assert!(matches!(billing::validate_pricing(&p), Err(BillingError::InvalidRequest { .. })), "{p:?}");
    }
}

#[derive(Clone, Debug)]
enum Op {
    Deposit { user: u8, trillions: u8 },
    Start { user: u8, mib: u64 },
    Commit { pick: usize },
    Abort { pick: usize },
    Delete { pick: usize },
    Days { days: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0u8..2, 1u8..5).prop_map(|(user, trillions)| Op::Deposit { user, trillions }),
        3 => (0u8..2, 1u64..600).prop_map(|(user, mib)| Op::Start { user, mib }),
        3 => any::<usize>().prop_map(|pick| Op::Commit { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Abort { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Delete { pick }),
        1 => (1u8..60).prop_map(|days| Op::Days { days }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// After any mix the books balance per account (checked by the fixture
    /// after each step) and the deposits made equal what was credited.
    #[test]
    fn the_books_balance_after_a_random_mix(ops in proptest::collection::vec(op(), 1..40)) {
        let mut fx = Fx::with(DirectoryInit { start_upload_per_minute: Some(600), max_uploads_in_progress: Some(100), ..Default::default() });
        fx.s.set_pricing(Pricing { tokens: vec![token()], ..Pricing::default() });
        let users = [alice(), bob()];
        let mut deposited = [0u128; 2];
        let mut n = 0u8;
        for op in ops {
            let sessions: Vec<_> = fx.s.uploads.values().collect();
            let ready: Vec<_> = fx.s.files.values().filter(|f| f.meta.status == FileStatus::Ready).map(|f| f.meta.file_id).collect();
            match op {
                Op::Deposit { user, trillions } => {
                    n = n.wrapping_add(1);
                    let amount = u64::from(trillions) * TRILLION as u64;
                    deposit_cycles(&mut fx, users[user as usize], amount, n);
                    deposited[user as usize] += u128::from(amount);
                }
                Op::Start { user, mib } => { let _ = fx.start(users[user as usize], mib * MIB); }
                Op::Commit { pick } if !sessions.is_empty() => {
                    let s = &sessions[pick % sessions.len()];
                    if !s.is_expired(fx.now) {
                        fx.commit_ok(s.owner, &ByteBuf::from(s.upload_id.to_vec()));
                    }
                }
                Op::Abort { pick } if !sessions.is_empty() => {
                    let s = &sessions[pick % sessions.len()];
                    abort_upload_impl(&mut fx.s, s.owner, &ByteBuf::from(s.upload_id.to_vec()), fx.now).unwrap();
                }
                Op::Delete { pick } if !ready.is_empty() => {
                    let id = &ready[pick % ready.len()];
                    delete_file_impl(&mut fx.s, id.owner, id, fx.now).unwrap();
                }
                Op::Days { days } => fx.now += u64::from(days) * NANOS_PER_DAY,
                _ => {}
            }
            fx.books();
        }
        for (i, u) in users.iter().enumerate() {
            prop_assert_eq!(fx.s.account(*u).deposited, deposited[i]);
        }
    }
}

#[test]
fn the_job_charges_every_account_at_least_daily_in_batches() {
    let mut fx = paid();
    let users: Vec<Principal> = (1..=7u8).map(|n| Principal::from_slice(&[n; 10])).collect();
    for (i, u) in users.iter().enumerate() {
        deposit_cycles(&mut fx, *u, 10 * TRILLION as u64, i as u8);
        fx.ready_file(*u, 200 * MIB);
    }
    let before: Vec<u128> = users.iter().map(|u| fx.s.account(*u).balance).collect();
    // not due yet: visited, nothing charged
    assert_eq!(billing::accrue_due(&mut fx.s, fx.now, 3).charged, 0);
    fx.now += NANOS_PER_DAY;
    // batches of 3 over 7 accounts: 3, 3, 1, then round again
    let charged: Vec<usize> = (0..3).map(|_| billing::accrue_due(&mut fx.s, fx.now, 3).charged).collect();
    assert_eq!(charged.iter().sum::<usize>(), 7, "{charged:?}");
    for (u, b) in users.iter().zip(before) {
        let a = fx.s.account(*u);
        assert_eq!(a.last_accrual_ns, fx.now);
        assert!(a.balance < b, "charged");
    }
    assert_eq!(billing::accrue_due(&mut fx.s, fx.now, 3).charged, 0, "all charged for today");
    fx.books();
}

#[test]
fn a_suspended_account_is_held_back_served_again_when_paid_and_deleted_after_the_period() {
    use crate::logic::CallFailure;
    use crate::logic::suspension::*;
    use ic_cdk::api::call::RejectionCode;
    let mut fx = paid();
    deposit_cycles(&mut fx, alice(), (7 * TRILLION / 4) as u64, 1);
    let big = fx.ready_file(alice(), 100 * MIB + GIB / 4);
    let small = fx.ready_file(alice(), 10);
    let bobs = fx.ready_file(bob(), 10);
    assert!(!needs_attention(&fx.s, alice(), fx.now));
    assert_eq!(next_serving_change(&mut fx.s, alice(), fx.now), None);
    // owing from day 120, suspended from day 150
    fx.now += 149 * NANOS_PER_DAY;
    assert!(!should_suspend(&fx.s, alice(), fx.now), "still in grace");
    fx.now += 2 * NANOS_PER_DAY;
    assert!(should_suspend(&fx.s, alice(), fx.now) && needs_attention(&fx.s, alice(), fx.now));
    let change = next_serving_change(&mut fx.s, alice(), fx.now).unwrap();
    assert_eq!((change.suspend, change.bucket), (true, bucket(1)));
    assert_eq!(change.files, vec![big.clone(), small.clone()]);
    // a failed call changes nothing: the same change comes again
    let failed = Err(CallFailure::Rejected { code: RejectionCode::CanisterError, message: "trap".into() });
    assert!(!finish_serving_change(&mut fx.s, &change, failed));
    assert_eq!(next_serving_change(&mut fx.s, alice(), fx.now).as_ref(), Some(&change));
    assert!(finish_serving_change(&mut fx.s, &change, Ok(Ok(2))));
    assert_eq!(next_serving_change(&mut fx.s, alice(), fx.now), None);
    assert!(fx.s.account(alice()).files_suspended);
    assert!(!needs_attention(&fx.s, bob(), fx.now), "bob pays nothing (free tier)");

    // Paid: served again.
    deposit_cycles(&mut fx, alice(), 5 * TRILLION as u64, 2);
    let change = next_serving_change(&mut fx.s, alice(), fx.now).unwrap();
    assert_eq!((change.suspend, change.files.len()), (false, 2));
    assert!(finish_serving_change(&mut fx.s, &change, Ok(Ok(2))));
    assert_eq!(next_serving_change(&mut fx.s, alice(), fx.now), None);
    assert!(!fx.s.account(alice()).files_suspended && !needs_attention(&fx.s, alice(), fx.now));

    // Unpaid again until past the deletion period: the files are deleted,
    // their storage no longer charged, bob's untouched.
    // (5 T less what was owed, at ~0.26 T a month: ~18 months, then 60 days)
    fx.now += 2 * 365 * NANOS_PER_DAY;
    assert!(deletion_due(&fx.s, alice(), fx.now));
    assert_eq!(delete_unpaid(&mut fx.s, alice(), fx.now, 1).len(), 1, "in batches");
    assert_eq!(delete_unpaid(&mut fx.s, alice(), fx.now, DELETE_BATCH).len(), 1);
    assert!(delete_unpaid(&mut fx.s, alice(), fx.now, DELETE_BATCH).is_empty());
    let u = fx.usage(alice());
    assert_eq!((u.used_bytes, u.files_count), (0, 0));
    let b = balance(&fx, alice());
    assert_eq!((b.billable_bytes, b.burn_cycles_per_day), (0, 0));
    assert!(delete_unpaid(&mut fx.s, bob(), fx.now, DELETE_BATCH).is_empty());
    assert_eq!(fx.usage(bob()).files_count, 1);
    let _ = bobs;
    fx.books();
}

#[test]
fn a_retained_file_is_held_for_its_retention_only_and_deleted_when_it_ends() {
    use crate::logic::files::{expire_retained, set_retention_impl};
    use crate::logic::upload::start_upload_impl;
    let mut fx = paid();
    fx.s.set_pricing(Pricing { free_bytes: 0, ..Pricing::default() });
    deposit_cycles(&mut fx, alice(), 10 * TRILLION as u64, 1);
    let kept = |days| StartUploadReq { retention_days: days, ..req(GIB) };
    for bad in [0, MAX_RETENTION_DAYS + 1] {
        let expected = DirectoryError::InvalidRequest {
            reason: format!("retention of {bad} days: must be 1..={MAX_RETENTION_DAYS}"),
        };
        assert_err_unchanged(&mut fx, expected, |fx| start_upload_impl(&mut fx.s, alice(), kept(Some(bad)), fx.now));
    }
    // held for 10 days of storage, not the 30 of the first period
    let ten = billing::quote(&fx.s, alice(), GIB, Some(10), fx.now);
    let month = billing::quote(&fx.s, alice(), GIB, None, fx.now);
    assert!(ten.first_period_cycles * 3 <= month.first_period_cycles + 3, "{ten:?} {month:?}");
    let res = start_upload_impl(&mut fx.s, alice(), kept(Some(10)), fx.now).unwrap();
    assert_eq!(balance(&fx, alice()).held_cycles, ten.cycles);
    let meta = fx.commit_ok(alice(), &res.upload_id);
    let ten_days = fx.now + 10 * NANOS_PER_DAY;
    assert_eq!(meta.delete_at_ns, Some(ten_days));
    // the owner moves the date to 20 days from now; nobody else can
    let req = SetRetentionReq { file_id: meta.file_id.clone(), days: Some(20) };
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| {
        set_retention_impl(&mut fx.s, bob(), &req, fx.now)
    });
    let bad = SetRetentionReq { days: Some(0), ..req.clone() };
    assert!(matches!(set_retention_impl(&mut fx.s, alice(), &bad, fx.now), Err(DirectoryError::InvalidRequest { .. })));
    let moved = set_retention_impl(&mut fx.s, alice(), &req, fx.now).unwrap();
    assert_eq!(moved.delete_at_ns, Some(fx.now + 20 * NANOS_PER_DAY));
    // at day 10 the old date comes due and is dropped: the file stays
    fx.now = ten_days;
    assert!(expire_retained(&mut fx.s, fx.now, 10).is_empty());
    assert_eq!(fx.usage(alice()).files_count, 1);
    // at day 20 it is deleted, and its storage charged until then only
    fx.now = moved.delete_at_ns.unwrap() - 1;
    assert!(expire_retained(&mut fx.s, fx.now, 10).is_empty(), "not before its date");
    fx.now += 1;
    assert_eq!(expire_retained(&mut fx.s, fx.now, 10).len(), 1);
    assert_eq!(fx.usage(alice()).files_count, 0);
    let after = balance(&fx, alice()).balance_cycles;
    fx.now += 30 * NANOS_PER_DAY;
    assert_eq!(balance(&fx, alice()).balance_cycles, after, "nothing accrues once deleted");
    assert!(fx.s.retention.is_empty());
    // kept until deleted: no date
    let forever = fx.ready_file(alice(), 10);
    let req = SetRetentionReq { file_id: forever, days: None };
    assert_eq!(set_retention_impl(&mut fx.s, alice(), &req, fx.now).unwrap().delete_at_ns, None);
}

#[test]
fn the_operator_settles_a_lost_deposit_once_and_refunds_with_a_reason() {
    let mut fx = paid();
    let req = deposit_req(&fx, Payment::CallerPaysIcrc2Cycles, TRILLION as u64, 5);
    // the ledger call went out and its reply never came back
    let DepositStart::Pay(_) = billing::begin_deposit(&mut fx.s, alice(), &req, DIRECTORY, fx.now).unwrap() else {
        panic!()
    };
    let resolve = |paid| ResolveDepositReq { user: alice(), nonce: nonce(5), paid };
    // too early: the reply may still come
    assert_eq!(billing::resolve_deposit(&mut fx.s, &resolve(true), fx.now), Err(BillingError::DepositInProgress));
    fx.now += DEPOSIT_STALE_SECS * NANOS_PER_SEC;
    let unknown = ResolveDepositReq { nonce: nonce(6), ..resolve(true) };
    assert!(matches!(billing::resolve_deposit(&mut fx.s, &unknown, fx.now), Err(BillingError::InvalidRequest { .. })));
    let r = billing::resolve_deposit(&mut fx.s, &resolve(true), fx.now).unwrap();
    assert_eq!(r.credited_cycles, TRILLION);
    // once only; and the client's retry of the same nonce gets the outcome
    assert!(matches!(
        billing::resolve_deposit(&mut fx.s, &resolve(true), fx.now),
        Err(BillingError::InvalidRequest { .. })
    ));
    assert_eq!(deposit_with(&mut fx, alice(), &req, Ok(())), Ok(r));
    assert_eq!(fx.s.account(alice()).deposits_in_flight, 0);

    // a refund credits with its reason, bounded
    let refund = |cycles, reason: &str| RefundReq { user: alice(), cycles, reason: reason.into() };
    for bad in [refund(0, "x"), refund(1, " "), refund(1, &"x".repeat(MAX_REFUND_REASON_BYTES + 1))] {
        let before = fx.digest();
        assert!(matches!(billing::refund(&mut fx.s, &bad, fx.now), Err(BillingError::InvalidRequest { .. })));
        assert_eq!(fx.digest(), before);
    }
    billing::refund(&mut fx.s, &refund(5, "outage on 2026-12-01"), fx.now).unwrap();
    let b = balance(&fx, alice());
    assert_eq!(b.balance_cycles, TRILLION + 5);
    assert_eq!(b.movements[0].kind, MovementKind::Refund { reason: "outage on 2026-12-01".into() });
    fx.books();
}

#[test]
fn deposits_are_rate_limited_per_user() {
    let mut fx = paid();
    for n in 0..DEPOSITS_PER_MINUTE as u8 {
        let req = deposit_req(&fx, Payment::CallerPaysIcrc2Cycles, TRILLION as u64, n);
        deposit_with(&mut fx, alice(), &req, Ok(())).unwrap();
    }
    let over = deposit_req(&fx, Payment::CallerPaysIcrc2Cycles, TRILLION as u64, 99);
    let before = fx.digest();
    assert_eq!(
        billing::begin_deposit(&mut fx.s, alice(), &over, DIRECTORY, fx.now).err(),
        Some(BillingError::RateLimited { retry_after_secs: RATE_WINDOW_SECS })
    );
    assert_eq!(fx.digest(), before);
    // another user is not limited; alice may go on a window later
    let bobs = deposit_req(&fx, Payment::CallerPaysIcrc2Cycles, TRILLION as u64, 1);
    deposit_with(&mut fx, bob(), &bobs, Ok(())).unwrap();
    fx.advance_secs(RATE_WINDOW_SECS);
    let later = deposit_req(&fx, Payment::CallerPaysIcrc2Cycles, TRILLION as u64, 99);
    deposit_with(&mut fx, alice(), &later, Ok(())).unwrap();
}
