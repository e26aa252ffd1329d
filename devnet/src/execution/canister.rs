//! Per-canister state kept by the execution layer.

use std::collections::BTreeMap;

use candid::Principal;

use crate::runtime::instance::CanisterInstance;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanisterStatus {
    Running,
    Stopping,
    Stopped,
}

impl CanisterStatus {
    /// The value `ic0.canister_status` returns.
    pub fn code(self) -> u32 {
        match self {
            CanisterStatus::Running => 1,
            CanisterStatus::Stopping => 2,
            CanisterStatus::Stopped => 3,
        }
    }
}

/// Settings stored only to be reported back by `canister_status` (saved
/// as they are in a state directory's manifest).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportedSettings {
    pub compute_allocation: u64,
    pub memory_allocation: u64,
    pub reserved_cycles_limit: u128,
    pub wasm_memory_limit: u64,
    pub wasm_memory_threshold: u64,
    pub log_visibility_public: bool,
    /// The canister's environment variables (`ic0.env_var_*`), by name:
    /// the System API indexes them in this order. Older state directories
    /// have none.
    #[serde(default)]
    pub environment_variables: std::collections::BTreeMap<String, String>,
}

pub struct Canister {
    pub id: Principal,
    pub controllers: Vec<Principal>,
    pub cycles: u128,
    pub status: CanisterStatus,
    pub instance: Option<CanisterInstance>,
    /// Bumped by every install/upgrade/uninstall; callbacks created under an
    /// older generation are not executed.
    pub generation: u64,
    /// `canister_version` as the interface spec counts it.
    pub version: u64,
    pub chunk_store: BTreeMap<[u8; 32], Vec<u8>>,
    pub freezing_threshold_secs: u64,
    pub settings: ReportedSettings,
    /// Time up to which storage has been paid.
    pub storage_paid_until_ns: u64,
    /// Number of call contexts not yet closed.
    pub open_call_contexts: usize,
    /// Origins waiting for `stop_canister` to complete.
    pub stop_waiters: Vec<super::calls::Origin>,
    /// Instructions of every replicated execution so far (updates,
    /// callbacks, timers, heartbeats; not queries or installs): what a
    /// benchmark reads to count all the calls an operation made.
    pub executed_instructions: u64,
    /// Ingress messages admitted and charged for (the `ingress_fee`): what
    /// a test of refusals reads to show that a canister paid for none.
    pub ingress_admitted: u64,
}

impl Canister {
    pub fn new(
        id: Principal,
        controllers: Vec<Principal>,
        cycles: u128,
        now_ns: u64,
        freezing_threshold_secs: u64,
    ) -> Self {
        Canister {
            id,
            controllers,
            cycles,
            status: CanisterStatus::Running,
            instance: None,
            generation: 0,
            version: 0,
            chunk_store: BTreeMap::new(),
            freezing_threshold_secs,
            settings: ReportedSettings::default(),
            storage_paid_until_ns: now_ns,
            open_call_contexts: 0,
            stop_waiters: Vec::new(),
            executed_instructions: 0,
            ingress_admitted: 0,
        }
    }

    /// Heap + stable + chunk store bytes: what storage fees are charged on.
    pub fn memory_bytes(&self) -> u64 {
        let chunks: u64 = self.chunk_store.values().map(|c| c.len() as u64).sum();
        chunks
            + self
                .instance
                .as_ref()
                .map(|i| i.heap_bytes() + i.stable().size_bytes() + i.module.wasm_size as u64)
                .unwrap_or(0)
    }

    pub fn is_controller(&self, p: &Principal) -> bool {
        self.controllers.contains(p)
    }

    pub fn certified_data(&self) -> Vec<u8> {
        self.instance.as_ref().map(|i| i.store.data().certified_data.clone()).unwrap_or_default()
    }
}
