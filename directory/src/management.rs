//! The only place that calls the management canister about buckets:
//! creating, installing, reading status, topping up. Each function is one
//! call; a rejection becomes a `CallFailure` (docs/provisioning.md §2).
//!
//! Creation goes to the management canister (the bucket lands on the
//! directory's own subnet: devnet, a local replica, or a single-subnet
//! deployment on mainnet) or to the cycles minting canister, which places
//! it on the subnet or the subnet type the operator chose (`BucketFactory`).

use crate::logic::CallFailure;
use candid::{Nat, Principal};
use depot_api::directory::BucketFactory;
use ic_cdk::api::management_canister::main::{
    self as mgmt, CanisterIdRecord, CanisterInstallMode, CanisterSettings, CreateCanisterArgument, InstallCodeArgument,
};

fn failure((code, message): (ic_cdk::api::call::RejectionCode, String)) -> CallFailure {
    CallFailure::Rejected { code, message }
}

/// Settings a bucket is created with.
pub struct BucketSettings {
    pub controllers: Vec<Principal>,
    pub freezing_threshold_secs: u64,
    pub wasm_memory_limit_bytes: u64,
}

/// Creates an empty canister with `cycles` (the creation fee comes out of
/// them) through `factory`.
pub async fn create_bucket(
    settings: BucketSettings,
    cycles: u128,
    factory: &BucketFactory,
) -> Result<Principal, String> {
    let settings = CanisterSettings {
        controllers: Some(settings.controllers),
        freezing_threshold: Some(Nat::from(settings.freezing_threshold_secs)),
        wasm_memory_limit: Some(Nat::from(settings.wasm_memory_limit_bytes)),
        ..Default::default()
    };
    match factory {
        BucketFactory::ManagementCanister => {
            let arg = CreateCanisterArgument { settings: Some(settings) };
            mgmt::create_canister(arg, cycles).await.map(|(r,)| r.canister_id).map_err(|e| failure(e).to_string())
        }
        BucketFactory::CyclesMintingCanister { cmc, subnet, subnet_type } => {
            let subnet_selection = match (subnet, subnet_type) {
                (Some(subnet), _) => Some(cmc_api::SubnetSelection::Subnet { subnet: *subnet }),
                (None, Some(t)) => {
                    Some(cmc_api::SubnetSelection::Filter(cmc_api::SubnetFilter { subnet_type: Some(t.clone()) }))
                }
                (None, None) => None,
            };
            let arg = cmc_api::CreateCanisterArg { settings: Some(settings), subnet_type: None, subnet_selection };
            let (r,): (Result<Principal, cmc_api::CreateCanisterError>,) =
                ic_cdk::api::call::call_with_payment128(*cmc, "create_canister", (arg,), cycles)
                    .await
                    .map_err(|e| failure(e).to_string())?;
            r.map_err(|e| match e {
                cmc_api::CreateCanisterError::Refunded { create_error, .. } => {
                    format!("the cycles minting canister refused (cycles refunded): {create_error}")
                }
                cmc_api::CreateCanisterError::RefundFailed { create_error, refund_error } => {
                    format!(
                        "the cycles minting canister refused ({create_error}) and its refund failed: {refund_error}"
                    )
                }
            })
        }
    }
}

/// The cycles minting canister's `create_canister` (`cmc.did` of
/// dfinity/ic).
mod cmc_api {
    use candid::{CandidType, Deserialize, Nat, Principal};
    use ic_cdk::api::management_canister::main::CanisterSettings;

    #[derive(CandidType, Deserialize)]
    pub struct SubnetFilter {
        pub subnet_type: Option<String>,
    }

    #[derive(CandidType, Deserialize)]
    pub enum SubnetSelection {
        Subnet { subnet: Principal },
        Filter(SubnetFilter),
    }

    #[derive(CandidType)]
    pub struct CreateCanisterArg {
        pub settings: Option<CanisterSettings>,
        pub subnet_type: Option<String>,
        pub subnet_selection: Option<SubnetSelection>,
    }

    #[derive(CandidType, Deserialize)]
    pub enum CreateCanisterError {
        Refunded { refund_amount: Nat, create_error: String },
        RefundFailed { create_error: String, refund_error: String },
    }
}

/// Installs (or, for a retry, reinstalls) `wasm` with `arg`.
pub async fn install_bucket(bucket: Principal, wasm: &[u8], arg: Vec<u8>, reinstall: bool) -> Result<(), CallFailure> {
    let mode = if reinstall { CanisterInstallMode::Reinstall } else { CanisterInstallMode::Install };
    let arg = InstallCodeArgument { mode, canister_id: bucket, wasm_module: wasm.to_vec(), arg };
    mgmt::install_code(arg).await.map_err(failure)
}

/// A bucket's balance, module hash, idle burn and freezing threshold.
pub struct BucketStatus {
    pub cycles: u128,
    pub module_hash: Option<Vec<u8>>,
    pub idle_cycles_per_day: u128,
    pub freezing_threshold_secs: u64,
}

pub async fn bucket_status(bucket: Principal) -> Result<BucketStatus, CallFailure> {
    let (r,) = mgmt::canister_status(CanisterIdRecord { canister_id: bucket }).await.map_err(failure)?;
    let n128 = |n: Nat| u128::try_from(n.0).unwrap_or(u128::MAX);
    Ok(BucketStatus {
        cycles: n128(r.cycles),
        module_hash: r.module_hash,
        idle_cycles_per_day: n128(r.idle_cycles_burned_per_day),
        freezing_threshold_secs: u64::try_from(r.settings.freezing_threshold.0).unwrap_or(u64::MAX),
    })
}

/// Sends `cycles` of the directory's balance to `bucket`.
pub async fn top_up(bucket: Principal, cycles: u128) -> Result<(), CallFailure> {
    mgmt::deposit_cycles(CanisterIdRecord { canister_id: bucket }, cycles).await.map_err(failure)
}

/// Upgrades `bucket` to `wasm` (its `post_upgrade` takes no argument).
pub async fn upgrade_bucket(bucket: Principal, wasm: &[u8]) -> Result<(), CallFailure> {
    let arg = InstallCodeArgument {
        mode: CanisterInstallMode::Upgrade(None),
        canister_id: bucket,
        wasm_module: wasm.to_vec(),
        arg: candid::encode_args(()).expect("empty arguments encode"),
    };
    mgmt::install_code(arg).await.map_err(failure)
}

pub async fn stop_bucket(bucket: Principal) -> Result<(), CallFailure> {
    mgmt::stop_canister(CanisterIdRecord { canister_id: bucket }).await.map_err(failure)
}

pub async fn start_bucket(bucket: Principal) -> Result<(), CallFailure> {
    mgmt::start_canister(CanisterIdRecord { canister_id: bucket }).await.map_err(failure)
}
