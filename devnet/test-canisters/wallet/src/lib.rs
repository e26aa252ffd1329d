//! TEST-ONLY cycles wallet for devnet. Ingress messages carry no cycles, so
//! a test that pays with attached cycles (the cycles ledger's `deposit`,
//! PAPI's `AttachedCycles`) calls through this canister, as a user would
//! through their cycles wallet. `wallet_call128` has the interface of
//! DFINITY's cycles wallet; only the wallet's controllers may use it.
//! **Not for mainnet.**

use candid::Nat;
use test_ledger_core::interfaces::{CallCanisterArgs128, CallResult};

/// Calls `canister.method_name(args)` with `cycles` from this wallet's
/// balance; the reply's bytes, or the reject as text. Unused cycles come
/// back to the wallet.
#[ic_cdk::update]
async fn wallet_call128(args: CallCanisterArgs128) -> Result<CallResult, String> {
    if !ic_cdk::api::is_controller(&ic_cdk::caller()) {
        return Err("only a controller of the wallet may call through it".into());
    }
    let cycles = test_ledger_core::amount(&args.cycles).ok_or("cycles past u128")?;
    ic_cdk::api::call::call_raw128(args.canister, &args.method_name, args.args, cycles)
        .await
        .map(|return_| CallResult { return_ })
        .map_err(|(code, message)| format!("{code:?}: {message}"))
}

/// This wallet's cycles.
#[ic_cdk::query]
fn wallet_balance128() -> Nat {
    Nat::from(ic_cdk::api::canister_balance128())
}

ic_cdk::export_candid!();

#[cfg(test)]
mod tests {
    #[test]
    fn candid_interface_matches_wallet_did() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wallet.did");
        test_ledger_core::check_did(&super::__export_service(), &file);
    }
}
