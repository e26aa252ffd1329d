//! TEST-ONLY stand-in for the cycles minting canister's `create_canister`
//! on devnet: it creates the canister with the cycles attached and the
//! settings given, on the subnet asked for by id (through that subnet's
//! management canister, addressed by the subnet id as the real CMC does),
//! else on its own subnet, and remembers the subnet selection it was asked
//! for, so a test can see what a caller would ask the real CMC. Its types are the CMC's
//! (`cmc.did` of dfinity/ic). **Not for mainnet.**

use candid::{CandidType, Deserialize, Nat, Principal};
use ic_cdk::api::management_canister::main::{self as mgmt, CanisterIdRecord, CreateCanisterArgument};
use std::cell::RefCell;

#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct CanisterSettings {
    pub controllers: Option<Vec<Principal>>,
    pub compute_allocation: Option<Nat>,
    pub memory_allocation: Option<Nat>,
    pub freezing_threshold: Option<Nat>,
    pub reserved_cycles_limit: Option<Nat>,
    pub wasm_memory_limit: Option<Nat>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SubnetFilter {
    pub subnet_type: Option<String>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum SubnetSelection {
    Subnet { subnet: Principal },
    Filter(SubnetFilter),
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub struct CreateCanisterArg {
    pub settings: Option<CanisterSettings>,
    pub subnet_type: Option<String>,
    pub subnet_selection: Option<SubnetSelection>,
}

#[derive(CandidType, Deserialize, Clone, Debug)]
pub enum CreateCanisterError {
    Refunded { refund_amount: Nat, create_error: String },
    RefundFailed { create_error: String, refund_error: String },
}

thread_local! {
    static SELECTIONS: RefCell<Vec<Option<SubnetSelection>>> = const { RefCell::new(vec![]) };
    static DEFAULT_SUBNETS: RefCell<Vec<Principal>> = const { RefCell::new(vec![]) };
}

/// Install argument (ours): the subnets `get_default_subnets` names (a
/// canister cannot learn its subnet's id, so the installer says it).
#[derive(CandidType, Deserialize, Clone, Debug, Default)]
pub struct CmcInit {
    pub default_subnets: Vec<Principal>,
}

#[ic_cdk::init]
fn init(arg: Option<CmcInit>) {
    DEFAULT_SUBNETS.with_borrow_mut(|d| *d = arg.unwrap_or_default().default_subnets);
}

/// The subnets canisters are created on when no subnet is asked for.
#[ic_cdk::query]
fn get_default_subnets() -> Vec<Principal> {
    DEFAULT_SUBNETS.with_borrow(|d| d.clone())
}

#[ic_cdk::update]
async fn create_canister(arg: CreateCanisterArg) -> Result<Principal, CreateCanisterError> {
    let cycles = ic_cdk::api::call::msg_cycles_accept128(ic_cdk::api::call::msg_cycles_available128());
    let asked_subnet = arg_subnet(&arg.subnet_selection);
    SELECTIONS.with_borrow_mut(|s| s.push(arg.subnet_selection.clone()));
    let s = arg.settings.unwrap_or_default();
    let settings = mgmt::CanisterSettings {
        controllers: s.controllers,
        compute_allocation: s.compute_allocation,
        memory_allocation: s.memory_allocation,
        freezing_threshold: s.freezing_threshold,
        reserved_cycles_limit: s.reserved_cycles_limit,
        wasm_memory_limit: s.wasm_memory_limit,
        ..Default::default()
    };
    let arg = CreateCanisterArgument { settings: Some(settings) };
    let created = match asked_subnet {
        Some(subnet) => {
            ic_cdk::api::call::call_with_payment128::<_, (CanisterIdRecord,)>(subnet, "create_canister", (arg,), cycles)
                .await
        }
        None => mgmt::create_canister(arg, cycles).await,
    };
    match created {
        Ok((r,)) => Ok(r.canister_id),
        Err((_, create_error)) => {
            // The cycles came back to us: give them back as the CMC does.
            let back = CanisterIdRecord { canister_id: ic_cdk::caller() };
            match mgmt::deposit_cycles(back, cycles).await {
                Ok(()) => Err(CreateCanisterError::Refunded { refund_amount: Nat::from(cycles), create_error }),
                Err((_, e)) => Err(CreateCanisterError::RefundFailed { create_error, refund_error: e }),
            }
        }
    }
}

/// The subnet a selection names by id.
fn arg_subnet(selection: &Option<SubnetSelection>) -> Option<Principal> {
    match selection {
        Some(SubnetSelection::Subnet { subnet }) => Some(*subnet),
        _ => None,
    }
}

/// The subnet selections `create_canister` was called with, oldest first.
#[ic_cdk::query]
fn subnet_selections() -> Vec<Option<SubnetSelection>> {
    SELECTIONS.with_borrow(|s| s.clone())
}

ic_cdk::export_candid!();

#[cfg(test)]
mod tests {
    #[test]
    fn candid_interface_matches_cmc_did() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cmc.did");
        test_ledger_core::check_did(&super::__export_service(), &file);
    }
}
