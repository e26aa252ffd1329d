//! The ICP ledger's legacy interface (`transfer` and `account_balance` on
//! 32-byte account identifiers), which icp-cli uses to seed ICP on a local
//! network. Types are the ICP ledger's Candid shapes.

use candid::{CandidType, Deserialize};
use serde_bytes::ByteBuf;
use test_ledger_core::{Acct, LedgerError, TX_WINDOW_NS};

use super::{caller_acct, now, with};

#[derive(CandidType, Deserialize, Clone, Copy, Debug)]
pub struct Tokens {
    pub e8s: u64,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug)]
pub struct TimeStamp {
    pub timestamp_nanos: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct LegacyTransferArgs {
    pub memo: u64,
    pub amount: Tokens,
    pub fee: Tokens,
    pub from_subaccount: Option<ByteBuf>,
    pub to: ByteBuf,
    pub created_at_time: Option<TimeStamp>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub enum LegacyTransferError {
    BadFee { expected_fee: Tokens },
    InsufficientFunds { balance: Tokens },
    TxTooOld { allowed_window_nanos: u64 },
    TxCreatedInFuture,
    TxDuplicate { duplicate_of: u64 },
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct AccountBalanceArgs {
    pub account: ByteBuf,
}

fn tokens(n: u128) -> Tokens {
    Tokens { e8s: u64::try_from(n).unwrap_or(u64::MAX) }
}

/// A valid account identifier: 32 bytes whose first four are the CRC-32 of
/// the rest (the real ledger traps on any other, as here).
fn identifier(bytes: &[u8]) -> [u8; 32] {
    let id: [u8; 32] = bytes.try_into().unwrap_or_else(|_| ic_cdk::trap("an account identifier is 32 bytes"));
    if id[..4] != crc32fast::hash(&id[4..]).to_be_bytes() {
        ic_cdk::trap("the account identifier's checksum is wrong");
    }
    id
}

#[ic_cdk::update]
fn transfer(arg: LegacyTransferArgs) -> Result<u64, LegacyTransferError> {
    let sub = test_ledger_core::subaccount(arg.from_subaccount.as_ref().map(|b| b.as_slice()))
        .unwrap_or_else(|e| ic_cdk::trap(&e.to_string()));
    let from: Acct = caller_acct(sub);
    let to = identifier(&arg.to);
    let created = arg.created_at_time.map(|t| t.timestamp_nanos);
    with(|l| l.legacy_transfer(now(), from, to, arg.amount.e8s.into(), arg.fee.e8s.into(), arg.memo, created)).map_err(
        |e| match e {
            LedgerError::BadFee { expected_fee } => LegacyTransferError::BadFee { expected_fee: tokens(expected_fee) },
            LedgerError::InsufficientFunds { balance } => {
                LegacyTransferError::InsufficientFunds { balance: tokens(balance) }
            }
            LedgerError::TooOld => LegacyTransferError::TxTooOld { allowed_window_nanos: TX_WINDOW_NS },
            LedgerError::CreatedInFuture { .. } => LegacyTransferError::TxCreatedInFuture,
            LedgerError::Duplicate { duplicate_of } => LegacyTransferError::TxDuplicate { duplicate_of },
            other => ic_cdk::trap(&other.to_string()),
        },
    )
}

#[ic_cdk::query]
fn account_balance(arg: AccountBalanceArgs) -> Tokens {
    let id = identifier(&arg.account);
    tokens(with(|l| l.account_balance(&id)))
}
