//! Each rule at its edge; every refusal leaves the ledger as it was.

use super::*;
use candid::Principal;

const FEE: u128 = 10;
const NOW: u64 = 1_700_000_000_000_000_000;

fn acct(n: u8) -> Acct {
    Acct::new(Principal::from_slice(&[n; 29]), None)
}
fn minter() -> Acct {
    acct(200)
}
fn ledger() -> Ledger {
    let mut l = Ledger::new(Config {
        name: "Test USD".into(),
        symbol: "TUSD".into(),
        decimals: 6,
        fee: FEE,
        minting_account: Some(minter()),
    });
    l.transfer(NOW, minter(), acct(1), 1_000, None, None, None).unwrap();
    l
}

/// `f` must fail with `e` and change nothing.
fn refused(l: &mut Ledger, e: LedgerError, f: impl FnOnce(&mut Ledger) -> Result<u64, LedgerError>) {
    let before = l.clone();
    assert_eq!(f(l), Err(e));
    assert_eq!(*l, before, "a refusal changed the ledger");
}

fn books(l: &Ledger) {
    assert_eq!(l.sum_of_balances(), l.total_supply());
}

#[test]
fn mint_transfer_burn_and_fees() {
    let mut l = ledger();
    assert_eq!((l.balance_of(&acct(1)), l.total_supply()), (1_000, 1_000));
    l.transfer(NOW, acct(1), acct(2), 100, Some(FEE), None, None).unwrap();
    assert_eq!((l.balance_of(&acct(1)), l.balance_of(&acct(2)), l.fees_burnt()), (890, 100, FEE));
    // Exactly the balance, fee included, goes; one more does not.
    refused(&mut l, LedgerError::InsufficientFunds { balance: 100 }, |l| {
        l.transfer(NOW, acct(2), acct(3), 91, None, None, None)
    });
    l.transfer(NOW, acct(2), acct(3), 90, None, None, None).unwrap();
    assert_eq!(l.balance_of(&acct(2)), 0);
    refused(&mut l, LedgerError::BadFee { expected_fee: FEE }, |l| {
        l.transfer(NOW, acct(1), acct(2), 1, Some(FEE + 1), None, None)
    });
    refused(&mut l, LedgerError::InsufficientFunds { balance: 890 }, |l| {
        l.transfer(NOW, acct(1), acct(2), u128::MAX, None, None, None)
    });
    // Burns: at least the fee, no fee paid.
    refused(&mut l, LedgerError::BadBurn { min_burn_amount: FEE }, |l| {
        l.transfer(NOW, acct(1), minter(), FEE - 1, None, None, None)
    });
    refused(&mut l, LedgerError::BadFee { expected_fee: 0 }, |l| {
        l.transfer(NOW, acct(1), minter(), FEE, Some(FEE), None, None)
    });
    l.transfer(NOW, acct(1), minter(), FEE, None, None, None).unwrap();
    assert_eq!(l.balance_of(&acct(1)), 880);
    books(&l);
}

#[test]
fn created_at_time_window_and_duplicates() {
    let mut l = ledger();
    let t = Some(NOW);
    let first = l.transfer(NOW, acct(1), acct(2), 5, None, Some(vec![1]), t).unwrap();
    refused(&mut l, LedgerError::Duplicate { duplicate_of: first }, |l| {
        l.transfer(NOW + 1, acct(1), acct(2), 5, None, Some(vec![1]), t)
    });
    // Another memo is another transaction; no time means no deduplication.
    l.transfer(NOW, acct(1), acct(2), 5, None, Some(vec![2]), t).unwrap();
    l.transfer(NOW, acct(1), acct(2), 5, None, None, None).unwrap();
    l.transfer(NOW, acct(1), acct(2), 5, None, None, None).unwrap();
    let oldest = NOW - TX_WINDOW_NS - PERMITTED_DRIFT_NS;
    l.transfer(NOW, acct(1), acct(2), 5, None, None, Some(oldest)).unwrap();
    refused(&mut l, LedgerError::TooOld, |l| l.transfer(NOW, acct(1), acct(2), 5, None, None, Some(oldest - 1)));
    l.transfer(NOW, acct(1), acct(2), 5, None, None, Some(NOW + PERMITTED_DRIFT_NS)).unwrap();
    refused(&mut l, LedgerError::CreatedInFuture { ledger_time: NOW }, |l| {
        l.transfer(NOW, acct(1), acct(2), 5, None, None, Some(NOW + PERMITTED_DRIFT_NS + 1))
    });
    refused(&mut l, LedgerError::generic(format!("the memo is longer than {MAX_MEMO_BYTES} bytes")), |l| {
        l.transfer(NOW, acct(1), acct(2), 5, None, Some(vec![0; MAX_MEMO_BYTES + 1]), None)
    });
    l.transfer(NOW, acct(1), acct(2), 5, None, Some(vec![0; MAX_MEMO_BYTES]), None).unwrap();
    books(&l);
}

#[test]
fn approve_and_transfer_from_use_amount_plus_fee() {
    let mut l = ledger();
    let (owner, spender, to) = (acct(1), acct(2), acct(3));
    refused(&mut l, LedgerError::generic("self approval is not allowed"), |l| {
        l.approve(NOW, owner, Acct::new(owner.owner, Some([1; 32])), 5, None, None, None, None, None)
    });
    l.approve(NOW, owner, spender, 100 + FEE, None, None, None, None, None).unwrap();
    assert_eq!((l.balance_of(&owner), l.allowance(NOW, &owner, &spender).amount), (1_000 - FEE, 100 + FEE));
    refused(&mut l, LedgerError::InsufficientAllowance { allowance: 100 + FEE }, |l| {
        l.transfer_from(NOW, spender, owner, to, 101, None, None, None)
    });
    l.transfer_from(NOW, spender, owner, to, 100, None, None, None).unwrap();
    assert_eq!((l.balance_of(&to), l.allowance(NOW, &owner, &spender).amount), (100, 0));
    // expected_allowance must match; an approval replaces, it does not add.
    refused(&mut l, LedgerError::AllowanceChanged { current_allowance: 0 }, |l| {
        l.approve(NOW, owner, spender, 50, Some(7), None, None, None, None)
    });
    l.approve(NOW, owner, spender, 50, Some(0), Some(NOW + 10), None, None, None).unwrap();
    l.approve(NOW, owner, spender, 30, Some(50), Some(NOW + 10), None, None, None).unwrap();
    assert_eq!(l.allowance(NOW, &owner, &spender).amount, 30);
    // Expiry: gone at its time; an approval already expired is refused.
    assert_eq!(l.allowance(NOW + 10, &owner, &spender).amount, 0);
    refused(&mut l, LedgerError::InsufficientAllowance { allowance: 0 }, |l| {
        l.transfer_from(NOW + 10, spender, owner, to, 1, None, None, None)
    });
    refused(&mut l, LedgerError::Expired { ledger_time: NOW }, |l| {
        l.approve(NOW, owner, spender, 5, None, Some(NOW), None, None, None)
    });
    // The approval's fee needs funds.
    refused(&mut l, LedgerError::InsufficientFunds { balance: 0 }, |l| {
        l.approve(NOW, acct(9), spender, 5, None, None, None, None, None)
    });
    books(&l);
}

#[test]
fn deposits_withdrawals_and_refunds_of_a_cycles_ledger() {
    let mut l = Ledger::new(Config {
        name: "Trillion Cycles".into(),
        symbol: "TCYCLES".into(),
        decimals: 12,
        fee: FEE,
        minting_account: None,
    });
    let (user, vendor) = (acct(1), acct(2));
    assert!(l.deposit(NOW, user, FEE, None).is_err(), "the fee alone mints nothing");
    let before = l.clone();
    assert!(l.deposit(NOW, user, FEE, None).is_err());
    assert_eq!(l, before);
    l.deposit(NOW, user, 1_000 + FEE, None).unwrap();
    assert_eq!(l.balance_of(&user), 1_000);
    l.approve(NOW, user, vendor, 500, None, None, None, None, None).unwrap();
    // withdraw_from: amount + fee of the allowance and of the balance.
    assert_eq!(
        l.burn_for_withdrawal(NOW, user, Some(vendor), 491, None, None),
        Err(LedgerError::InsufficientAllowance { allowance: 500 })
    );
    let (_, expiry) = l.burn_for_withdrawal(NOW, user, Some(vendor), 490, None, None).unwrap();
    assert_eq!((l.balance_of(&user), l.allowance(NOW, &user, &vendor).amount), (1_000 - FEE - 500, 0));
    // The cycles could not be sent: the amount less a fee comes back, and
    // the allowance less another fee.
    let (refund, approval) = l.reimburse(NOW, user, Some(vendor), 490, expiry);
    assert!(refund.is_some() && approval.is_some());
    assert_eq!(l.balance_of(&user), 1_000 - FEE - 500 + 480);
    assert_eq!(l.allowance(NOW, &user, &vendor).amount, 470);
    assert_eq!(
        l.burn_for_withdrawal(NOW, user, None, 0, None, None),
        Err(LedgerError::generic("cannot withdraw 0 cycles"))
    );
    books(&l);
}

#[test]
fn state_survives_its_encoding() {
    let mut l = ledger();
    l.approve(NOW, acct(1), acct(2), 5, None, Some(NOW + 1), None, Some(vec![3]), Some(NOW)).unwrap();
    let back = Ledger::from_bytes(&l.to_bytes()).unwrap();
    assert_eq!(back, l);
}

#[test]
fn arguments_past_u128_and_a_supply_past_u128_are_refused() {
    let mut l = ledger();
    let huge = candid::Nat::from(u128::MAX) + candid::Nat::from(1u8);
    assert_eq!(l.fee_arg(Some(&huge)), Err(LedgerError::BadFee { expected_fee: FEE }));
    assert_eq!(l.fee_arg(None), Ok(None));
    assert_eq!(l.amount_arg(&huge, &acct(1)), Err(LedgerError::InsufficientFunds { balance: 1_000 }));
    refused(&mut l, LedgerError::generic("the supply would pass u128"), |l| {
        l.transfer(NOW, minter(), acct(2), u128::MAX, None, None, None)
    });
    books(&l);
}

#[test]
fn account_identifiers_match_dfinitys() {
    for (owner, sub) in [(Principal::anonymous(), None), (acct(7).owner, Some([9u8; 32]))] {
        let ours = crate::account_identifier(&Acct::new(owner, sub));
        let theirs =
            ic_ledger_types::AccountIdentifier::new(&owner, &ic_ledger_types::Subaccount(sub.unwrap_or([0; 32])));
        assert_eq!(ours, *theirs.as_ref());
    }
}

#[test]
fn legacy_transfers_reach_the_account_an_identifier_names() {
    let mut l = ledger();
    let to = acct(2);
    let id = crate::account_identifier(&to);
    refused(&mut l, LedgerError::BadFee { expected_fee: FEE }, |l| l.legacy_transfer(NOW, acct(1), id, 5, 0, 0, None));
    refused(&mut l, LedgerError::InsufficientFunds { balance: 1_000 }, |l| {
        l.legacy_transfer(NOW, acct(1), id, 991, FEE, 0, None)
    });
    l.legacy_transfer(NOW, acct(1), id, 100, FEE, 7, None).unwrap();
    books(&l);
    assert_eq!(l.balance_of(&acct(1)), 890);
    assert_eq!(l.balance_of(&to), 100, "the account named by the identifier holds it");
    assert_eq!(l.account_balance(&id), 100);
    // It spends it through ICRC-1 like any balance.
    l.transfer(NOW, to, acct(3), 90 - FEE, None, None, None).unwrap();
    books(&l);
    assert_eq!(l.balance_of(&to), 10);
    assert_eq!(l.account_balance(&id), 10);
    assert_eq!(l.account_balance(&crate::account_identifier(&acct(1))), 890);
    // A saved ledger keeps what identifiers hold.
    l.legacy_transfer(NOW, acct(1), crate::account_identifier(&acct(4)), 50, FEE, 0, None).unwrap();
    let back = Ledger::from_bytes(&l.to_bytes()).unwrap();
    assert_eq!(back.balance_of(&acct(4)), 50);
}
