//! devnet's test-only ledgers (`devnet/test-canisters/`) deployed beside
//! Depot: the cycles ledger at its mainnet id (PAPI calls that id), an
//! ICRC-1/ICRC-2 token ledger, and a cycles wallet for callers that attach
//! cycles.

use crate::deploy::CANISTER_CYCLES;
use anyhow::Result;
use candid::{Decode, Encode, Nat, Principal};
use depot_devnet::{Devnet, InstallMode};
use icrc_ledger_types::icrc1::account::Account;
use test_ledger_core::interfaces::TokenInit;

/// The mainnet cycles ledger's id, which PAPI hard-codes.
pub const CYCLES_LEDGER_ID: &str = "um5iw-rqaaa-aaaaq-qaaba-cai";
/// The cycles ledger's fee (mainnet's), kept from every deposit.
pub const CYCLES_LEDGER_FEE: u128 = 100_000_000;
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

/// The stand-in cycles minting canister (devnet/test-canisters/cmc) on the
/// root subnet, naming every devnet subnet as a default one.
pub fn deploy_cmc(dev: &mut Devnet) -> Result<Principal> {
    #[derive(candid::CandidType)]
    struct CmcInit {
        default_subnets: Vec<Principal>,
    }
    let admin = crate::deploy::admin_principal();
    let cmc = dev.create_canister(admin, CANISTER_CYCLES, None)?;
    let init = Some(CmcInit { default_subnets: dev.subnet_ids() });
    dev.install_code(admin, cmc, &crate::wasm::test_canister_wasm("cmc")?, &Encode!(&init)?, InstallMode::Install)?;
    Ok(cmc)
}

/// A cycles wallet controlled by `owner`, holding `cycles`.
pub fn deploy_wallet(dev: &mut Devnet, owner: Principal, cycles: u128) -> Result<Principal> {
    let wallet = dev.create_canister(owner, cycles, None)?;
    dev.install_code(owner, wallet, &crate::wasm::test_canister_wasm("wallet")?, &Encode!()?, InstallMode::Install)?;
    Ok(wallet)
}

/// What `fund_newcomer` gives: enough to try paying right away.
pub const NEWCOMER_TOKENS: u128 = 1_000 * 1_000_000; // 1,000 TUSD
pub const NEWCOMER_CYCLES: u128 = 10_000_000_000_000; // 10 T, before the deposit fee

/// Gives `user` test tokens (minted by `l.minter`) and cycles-ledger credit
/// (deposited from a wallet of `admin`'s, since deposits need attached
/// cycles): what `depot-local` does for the CLI's identity.
pub fn fund_newcomer(dev: &mut Devnet, admin: Principal, l: &Ledgers, user: Principal) -> Result<()> {
    use icrc_ledger_types::icrc1::transfer::{TransferArg, TransferError};
    use test_ledger_core::interfaces::{CallCanisterArgs128, CallResult};
    let mint = TransferArg {
        from_subaccount: None,
        to: Account { owner: user, subaccount: None },
        fee: None,
        created_at_time: None,
        memo: None,
        amount: Nat::from(NEWCOMER_TOKENS),
    };
    let r: Result<Nat, TransferError> = raw_update(dev, l.minter, l.token, "icrc1_transfer", Encode!(&mint)?)?;
    r.map_err(|e| anyhow::anyhow!("minting test tokens: {e:?}"))?;
    let wallet = deploy_wallet(dev, admin, 2 * NEWCOMER_CYCLES)?;
    let deposit = ic_cycles_ledger_client::DepositArgs {
        to: ic_cycles_ledger_client::Account { owner: user, subaccount: None },
        memo: None,
    };
    let call = CallCanisterArgs128 {
        canister: l.cycles,
        method_name: "deposit".into(),
        args: Encode!(&deposit)?,
        cycles: Nat::from(NEWCOMER_CYCLES),
    };
    let r: Result<CallResult, String> = raw_update(dev, admin, wallet, "wallet_call128", Encode!(&call)?)?;
    r.map_err(|e| anyhow::anyhow!("depositing test cycles: {e}"))?;
    Ok(())
}

fn raw_update<R: candid::CandidType + serde::de::DeserializeOwned>(
    dev: &mut Devnet,
    sender: Principal,
    canister: Principal,
    method: &str,
    arg: Vec<u8>,
) -> Result<R> {
    let out = dev.update(sender, canister, method, &arg).map_err(|e| anyhow::anyhow!("{method}: {e}"))?;
    let bytes = out.result.map_err(|r| anyhow::anyhow!("{method} rejected: {r:?}"))?;
    Ok(Decode!(&bytes, R)?)
}

/// The test token's price: 1 TUSD = 0.74 T cycles (1 USD ≈ 0.74 XDR, and
/// 1 T cycles = 1 XDR), i.e. 740,000 cycles per smallest unit.
pub const TOKEN_CYCLES_PER_UNIT: u64 = 740_000;

/// The directory's pricing with the test token accepted beside cycles:
/// what an operator does once per ledger (`admin_set_pricing`).
pub fn accept_test_token(dev: &mut Devnet, d: &crate::deploy::Deployment, l: &Ledgers) -> Result<()> {
    accept_token(
        dev,
        d,
        depot_api::billing::TokenPrice {
            ledger: l.token,
            symbol: TOKEN_SYMBOL.into(),
            decimals: TOKEN_DECIMALS,
            ledger_fee: TOKEN_FEE,
            cycles_per_unit: TOKEN_CYCLES_PER_UNIT,
        },
    )
}

/// Adds `token` to the directory's pricing (replacing one of the same
/// ledger or symbol).
pub fn accept_token(
    dev: &mut Devnet,
    d: &crate::deploy::Deployment,
    token: depot_api::billing::TokenPrice,
) -> Result<()> {
    use depot_api::methods::directory as dm;
    let mut pricing = crate::deploy::query(dev, d.admin, d.directory, dm::GET_PRICING, ())?
        .map_err(|e| anyhow::anyhow!("get_pricing: {e}"))?;
    pricing.tokens.retain(|t| t.ledger != token.ledger && t.symbol != token.symbol);
    pricing.tokens.push(token);
    crate::deploy::call(dev, d.admin, d.directory, dm::ADMIN_SET_PRICING, (pricing,))?
        .map_err(|e| anyhow::anyhow!("admin_set_pricing: {e}"))
}
