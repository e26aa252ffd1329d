//! devnet's test-only ledgers (`devnet/test-canisters/`) deployed beside
//! Depot: the cycles ledger at its mainnet id (PAPI calls that id), an
//! ICRC-1/ICRC-2 token ledger, and a cycles wallet for callers that attach
//! cycles.

use crate::deploy::CANISTER_CYCLES;
use anyhow::Result;
use candid::{Encode, Nat, Principal};
use depot_devnet::{Devnet, InstallMode};
use icrc_ledger_types::icrc1::account::Account;
use test_ledger_core::interfaces::TokenInit;

/// The mainnet cycles ledger's id, which PAPI hard-codes.
pub const CYCLES_LEDGER_ID: &str = "um5iw-rqaaa-aaaaq-qaaba-cai";
/// The test token: 6 decimals and a fee of 0.01, like ckUSDC.
pub const TOKEN_SYMBOL: &str = "TUSD";
pub const TOKEN_DECIMALS: u8 = 6;
pub const TOKEN_FEE: u64 = 10_000;

pub struct Ledgers {
    pub cycles: Principal,
    pub token: Principal,
    /// Mints the token (transfers from it mint).
    pub minter: Principal,
}

pub fn cycles_ledger_id() -> Principal {
    Principal::from_text(CYCLES_LEDGER_ID).expect("a valid principal")
}

/// Installs both ledgers, controlled by `admin`, with `minter` as the token's
/// minting account and `holders` given tokens at install.
pub fn deploy_ledgers(
    dev: &mut Devnet,
    admin: Principal,
    minter: Principal,
    holders: &[(Principal, u128)],
) -> Result<Ledgers> {
    let cycles = dev.create_canister(admin, CANISTER_CYCLES, Some(cycles_ledger_id()))?;
    dev.install_code(
        admin,
        cycles,
        &crate::wasm::test_canister_wasm("cycles-ledger")?,
        &Encode!()?,
        InstallMode::Install,
    )?;
    let init = TokenInit {
        name: "Test USD".into(),
        symbol: TOKEN_SYMBOL.into(),
        decimals: TOKEN_DECIMALS,
        fee: Nat::from(TOKEN_FEE),
        minting_account: Account { owner: minter, subaccount: None },
        initial_balances: holders
            .iter()
            .map(|(p, n)| (Account { owner: *p, subaccount: None }, Nat::from(*n)))
            .collect(),
    };
    let token = dev.create_canister(admin, CANISTER_CYCLES, None)?;
    dev.install_code(
        admin,
        token,
        &crate::wasm::test_canister_wasm("icrc-ledger")?,
        &Encode!(&init)?,
        InstallMode::Install,
    )?;
    Ok(Ledgers { cycles, token, minter })
}

/// A cycles wallet controlled by `owner`, holding `cycles`.
pub fn deploy_wallet(dev: &mut Devnet, owner: Principal, cycles: u128) -> Result<Principal> {
    let wallet = dev.create_canister(owner, cycles, None)?;
    dev.install_code(owner, wallet, &crate::wasm::test_canister_wasm("wallet")?, &Encode!()?, InstallMode::Install)?;
    Ok(wallet)
}
