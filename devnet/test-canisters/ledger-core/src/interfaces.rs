//! Candid types of the test canisters that are theirs rather than the real
//! ledgers' (those come from `icrc-ledger-types` and
//! `ic-cycles-ledger-client`), shared by the canisters and their callers.

use candid::{CandidType, Nat, Principal};
use icrc_ledger_types::icrc1::account::Account;
use serde::Deserialize;

/// The token ledger's install argument (simpler than the real ledger's
/// `LedgerArg`; clients never see it).
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct TokenInit {
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
    pub fee: Nat,
    pub minting_account: Account,
    pub initial_balances: Vec<(Account, Nat)>,
}

/// `icrc1_supported_standards` / `icrc10_supported_standards` entries.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SupportedStandard {
    pub name: String,
    pub url: String,
}

/// The wallet's `wallet_call128` argument (DFINITY's cycles wallet's).
#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CallCanisterArgs128 {
    pub canister: Principal,
    pub method_name: String,
    #[serde(with = "serde_bytes")]
    pub args: Vec<u8>,
    pub cycles: Nat,
}

/// The wallet's `wallet_call128` reply: the callee's reply bytes.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CallResult {
    #[serde(rename = "return", with = "serde_bytes")]
    pub return_: Vec<u8>,
}
