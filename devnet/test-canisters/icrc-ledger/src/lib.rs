//! TEST-ONLY ICRC-1/ICRC-2 token ledger for devnet (a stand-in for ckUSDC,
//! ckBTC and the like, whose wasm cannot be downloaded here). The methods
//! and types are the real ledger's (`icrc-ledger-types`), so unmodified
//! clients work; the rules are `test_ledger_core`'s. Tokens are minted by a
//! transfer from the minting account. Installed as the ICP ledger, it also
//! serves the legacy `transfer` and `account_balance` on account
//! identifiers (`legacy.rs`). **Not for mainnet.**

mod legacy;

use candid::Nat;
use icrc_ledger_types::icrc::generic_metadata_value::MetadataValue;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::{TransferArg, TransferError};
use icrc_ledger_types::icrc2::allowance::{Allowance, AllowanceArgs};
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use icrc_ledger_types::icrc2::transfer_from::{TransferFromArgs, TransferFromError};
use legacy::{AccountBalanceArgs, LegacyTransferArgs, LegacyTransferError, Tokens};
use test_ledger_core::interfaces::{SupportedStandard, TokenInit};
use test_ledger_core::{Acct, Config, Ledger, amount};

test_ledger_core::ledger_canister_common!(Ledger::new(Config {
    name: String::new(),
    symbol: String::new(),
    decimals: 0,
    fee: 0,
    minting_account: None,
}));
test_ledger_core::icrc_error_mappers!();

fn acct(a: &Account) -> Acct {
    Acct::new(a.owner, a.subaccount)
}

fn account(a: &Acct) -> Account {
    Account { owner: a.owner, subaccount: a.subaccount() }
}

fn caller_acct(sub: Option<[u8; 32]>) -> Acct {
    Acct::new(ic_cdk::caller(), sub)
}

fn now() -> u64 {
    ic_cdk::api::time()
}

fn nat(v: u128) -> Nat {
    Nat::from(v)
}

#[ic_cdk::init]
fn init(args: TokenInit) {
    let fee = amount(&args.fee).expect("fee fits u128");
    let minting = acct(&args.minting_account);
    let mut ledger = Ledger::new(Config {
        name: args.name,
        symbol: args.symbol,
        decimals: args.decimals,
        fee,
        minting_account: Some(minting),
    });
    for (to, n) in &args.initial_balances {
        let n = amount(n).expect("initial balance fits u128");
        ledger.transfer(now(), minting, acct(to), n, None, None, None).expect("initial mint");
    }
    LEDGER.with(|l| *l.borrow_mut() = ledger);
}

#[ic_cdk::query]
fn icrc1_minting_account() -> Option<Account> {
    with(|l| l.config.minting_account.as_ref().map(account))
}

#[ic_cdk::query]
fn icrc1_balance_of(a: Account) -> Nat {
    with(|l| nat(l.balance_of(&acct(&a))))
}

fn standards() -> Vec<SupportedStandard> {
    [
        ("ICRC-1", "https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-1"),
        ("ICRC-2", "https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-2"),
        ("ICRC-10", "https://github.com/dfinity/ICRC/blob/main/ICRCs/ICRC-10/ICRC-10.md"),
    ]
    .iter()
    .map(|(name, url)| SupportedStandard { name: name.to_string(), url: url.to_string() })
    .collect()
}

#[ic_cdk::query]
fn icrc1_supported_standards() -> Vec<SupportedStandard> {
    standards()
}

#[ic_cdk::query]
fn icrc10_supported_standards() -> Vec<SupportedStandard> {
    standards()
}

#[ic_cdk::update]
fn icrc1_transfer(arg: TransferArg) -> Result<Nat, TransferError> {
    let from = caller_acct(arg.from_subaccount);
    let memo = arg.memo.map(|m| m.0.into_vec());
    with(|l| {
        let (fee, n) = (l.fee_arg(arg.fee.as_ref())?, l.amount_arg(&arg.amount, &from)?);
        l.transfer(now(), from, acct(&arg.to), n, fee, memo, arg.created_at_time)
    })
    .map(Nat::from)
    .map_err(transfer_error)
}

#[ic_cdk::update]
fn icrc2_approve(arg: ApproveArgs) -> Result<Nat, ApproveError> {
    let from = caller_acct(arg.from_subaccount);
    // Above u128 an allowance is as good as unlimited, and an expected one
    // can match none.
    let n = amount(&arg.amount).unwrap_or(u128::MAX);
    let expected = arg.expected_allowance.as_ref().map(|e| amount(e).unwrap_or(u128::MAX));
    let memo = arg.memo.map(|m| m.0.into_vec());
    with(|l| {
        let fee = l.fee_arg(arg.fee.as_ref())?;
        l.approve(now(), from, acct(&arg.spender), n, expected, arg.expires_at, fee, memo, arg.created_at_time)
    })
    .map(Nat::from)
    .map_err(approve_error)
}

#[ic_cdk::query]
fn icrc2_allowance(arg: AllowanceArgs) -> Allowance {
    let a = with(|l| l.allowance(now(), &acct(&arg.account), &acct(&arg.spender)));
    Allowance { allowance: nat(a.amount), expires_at: a.expires_at }
}

thread_local! {
    /// A fault for tests of callers: `icrc2_transfer_from` traps.
    static TRAP_TRANSFER_FROM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// TEST-ONLY, controllers: makes `icrc2_transfer_from` trap (`true`) or
/// work again, so callers can be tested against a ledger that traps.
#[ic_cdk::update]
fn test_set_trap_transfer_from(on: bool) {
    if !ic_cdk::api::is_controller(&ic_cdk::caller()) {
        ic_cdk::trap("test_set_trap_transfer_from: controllers only");
    }
    TRAP_TRANSFER_FROM.set(on);
}

#[ic_cdk::update]
fn icrc2_transfer_from(arg: TransferFromArgs) -> Result<Nat, TransferFromError> {
    if TRAP_TRANSFER_FROM.get() {
        ic_cdk::trap("test fault: icrc2_transfer_from traps");
    }
    let spender = caller_acct(arg.spender_subaccount);
    let from = acct(&arg.from);
    let memo = arg.memo.map(|m| m.0.into_vec());
    with(|l| {
        let (fee, n) = (l.fee_arg(arg.fee.as_ref())?, l.amount_arg(&arg.amount, &from)?);
        l.transfer_from(now(), spender, from, acct(&arg.to), n, fee, memo, arg.created_at_time)
    })
    .map(Nat::from)
    .map_err(transfer_from_error)
}

ic_cdk::export_candid!();

#[cfg(test)]
mod tests {
    #[test]
    fn candid_interface_matches_icrc_ledger_did() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("icrc-ledger.did");
        test_ledger_core::check_did(&super::__export_service(), &file);
    }
}
