//! The narrow interface through which the management canister reads and
//! changes canisters. The execution layer implements it (for `Devnet`);
//! the management canister never sees the state machine's own fields.

use std::collections::BTreeMap;

use candid::Principal;

use crate::execution::calls::Origin;
use crate::execution::canister::{CanisterStatus, ReportedSettings};
use crate::execution::{DevnetError, InstallMode};
use crate::types::Reject;

/// A canister's chunk store: chunks by their SHA-256.
pub type ChunkStore = BTreeMap<[u8; 32], Vec<u8>>;

/// A settings change, decoded and validated; `None` leaves a setting as is.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub controllers: Option<Vec<Principal>>,
    pub freezing_threshold_secs: Option<u64>,
    pub compute_allocation: Option<u64>,
    pub memory_allocation: Option<u64>,
    pub reserved_cycles_limit: Option<u128>,
    pub wasm_memory_limit: Option<u64>,
    pub wasm_memory_threshold: Option<u64>,
    pub log_visibility_public: Option<bool>,
    /// Replaces every environment variable.
    pub environment_variables: Option<BTreeMap<String, String>>,
}

/// What `canister_status` reports about one canister.
#[derive(Debug, Clone)]
pub struct CanisterReport {
    pub status: CanisterStatus,
    pub controllers: Vec<Principal>,
    pub freezing_threshold_secs: u64,
    pub settings: ReportedSettings,
    pub module_hash: Option<[u8; 32]>,
    /// Heap + stable memory + module + chunk store.
    pub memory_bytes: u64,
    pub wasm_memory_bytes: u64,
    pub stable_memory_bytes: u64,
    pub wasm_binary_bytes: u64,
    pub chunk_store_bytes: u64,
    pub cycles: u128,
    pub idle_cycles_burned_per_day: u128,
    pub version: u64,
}

/// Whether `stop_canister` can answer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopProgress {
    /// The canister was already stopped.
    Stopped,
    /// The canister is stopping; the caller is answered once it has stopped.
    Pending,
}

/// Canister operations the management canister needs.
pub(crate) trait CanisterStore {
    /// The fee `create_canister` takes from the attached cycles.
    fn creation_fee(&self) -> u128;

    fn canister_exists(&self, id: Principal) -> bool;

    /// Whether `principal` controls `id`; `None` if there is no such canister.
    fn is_controller(&self, id: Principal, principal: Principal) -> Option<bool>;

    /// Creates an empty canister at `specified_id`, or else at the next
    /// free id of subnet `subnet` (an index into the devnet's subnets).
    fn create_canister(
        &mut self,
        controllers: Vec<Principal>,
        cycles: u128,
        specified_id: Option<Principal>,
        subnet: usize,
    ) -> Result<Principal, DevnetError>;

    fn update_settings(&mut self, id: Principal, change: SettingsChange) -> Result<(), DevnetError>;

    /// Adds cycles to an existing canister (nothing if it does not exist).
    fn deposit_cycles(&mut self, id: Principal, amount: u128);

    /// Installs, reinstalls or upgrades as `sender` (who must control `id`).
    fn install_code(
        &mut self,
        sender: Principal,
        id: Principal,
        wasm: &[u8],
        arg: &[u8],
        mode: InstallMode,
        skip_pre_upgrade: bool,
    ) -> Result<(), DevnetError>;

    /// Removes the module: open call contexts are rejected.
    fn uninstall_code(&mut self, id: Principal);

    fn chunk_store(&self, id: Principal) -> Option<&ChunkStore>;

    fn chunk_store_mut(&mut self, id: Principal) -> Option<&mut ChunkStore>;

    fn report(&self, id: Principal) -> Option<CanisterReport>;

    fn canister_status(&self, id: Principal) -> Option<CanisterStatus>;

    /// Sets the canister running; returns the `stop_canister` callers that
    /// were waiting for it to stop.
    fn start_canister(&mut self, id: Principal) -> Vec<Origin>;

    /// Starts stopping the canister; `waiter` is answered once it stopped.
    fn stop_canister(&mut self, id: Principal, waiter: Origin) -> Result<StopProgress, DevnetError>;

    /// Uninstalls and removes the canister.
    fn delete_canister(&mut self, id: Principal);

    /// Sends an answer to a caller whose answer was deferred.
    fn respond(&mut self, to: Origin, result: Result<Vec<u8>, Reject>);

    /// 32 random bytes for `raw_rand`.
    fn random_bytes(&mut self) -> [u8; 32];
}
