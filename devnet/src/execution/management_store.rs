//! The execution layer's side of the management canister: the
//! [`CanisterStore`] operations over `Devnet`'s canisters.

use candid::Principal;
use rand::RngCore;

use super::calls::Origin;
use super::canister::CanisterStatus;
use super::devnet::Devnet;
use super::types::*;
use crate::management::{CanisterReport, CanisterStore, ChunkStore, SettingsChange, StopProgress};

impl CanisterStore for Devnet {
    fn creation_fee(&self) -> u128 {
        self.config.fees.on_creation()
    }

    fn canister_exists(&self, id: Principal) -> bool {
        self.canisters.contains_key(&id)
    }

    fn is_controller(&self, id: Principal, principal: Principal) -> Option<bool> {
        self.canisters.get(&id).map(|c| c.is_controller(&principal))
    }

    fn create_canister(
        &mut self,
        controllers: Vec<Principal>,
        cycles: u128,
        specified_id: Option<Principal>,
        subnet: usize,
    ) -> Result<Principal, DevnetError> {
        self.create_canister_with_controllers(controllers, cycles, specified_id, subnet)
    }

    fn update_settings(&mut self, id: Principal, change: SettingsChange) -> Result<(), DevnetError> {
        let c = self.canisters.get_mut(&id).ok_or(DevnetError::CanisterNotFound(id))?;
        if let Some(ctrl) = change.controllers {
            c.controllers = ctrl;
        }
        if let Some(f) = change.freezing_threshold_secs {
            c.freezing_threshold_secs = f;
        }
        if let Some(v) = change.compute_allocation {
            c.settings.compute_allocation = v;
        }
        if let Some(v) = change.memory_allocation {
            c.settings.memory_allocation = v;
        }
        if let Some(v) = change.reserved_cycles_limit {
            c.settings.reserved_cycles_limit = v;
        }
        if let Some(v) = change.wasm_memory_limit {
            c.settings.wasm_memory_limit = v;
        }
        if let Some(v) = change.wasm_memory_threshold {
            c.settings.wasm_memory_threshold = v;
        }
        if let Some(v) = change.log_visibility_public {
            c.settings.log_visibility_public = v;
        }
        if let Some(v) = change.environment_variables {
            c.settings.environment_variables = v;
        }
        Ok(())
    }

    fn deposit_cycles(&mut self, id: Principal, amount: u128) {
        self.add_cycles(id, amount);
    }

    fn install_code(
        &mut self,
        sender: Principal,
        id: Principal,
        wasm: &[u8],
        arg: &[u8],
        mode: InstallMode,
        skip_pre_upgrade: bool,
    ) -> Result<(), DevnetError> {
        self.install(sender, id, wasm, arg, mode, skip_pre_upgrade).map(|_| ())
    }

    fn uninstall_code(&mut self, id: Principal) {
        self.replace_instance(id, None);
    }

    fn chunk_store(&self, id: Principal) -> Option<&ChunkStore> {
        self.canisters.get(&id).map(|c| &c.chunk_store)
    }

    fn chunk_store_mut(&mut self, id: Principal) -> Option<&mut ChunkStore> {
        self.canisters.get_mut(&id).map(|c| &mut c.chunk_store)
    }

    fn report(&self, id: Principal) -> Option<CanisterReport> {
        let c = self.canisters.get(&id)?;
        let memory_bytes = c.memory_bytes();
        let (wasm_memory_bytes, stable_memory_bytes, wasm_binary_bytes) = c
            .instance
            .as_ref()
            .map(|i| (i.heap_bytes(), i.stable().size_bytes(), i.module.wasm_size as u64))
            .unwrap_or((0, 0, 0));
        Some(CanisterReport {
            status: c.status,
            controllers: c.controllers.clone(),
            freezing_threshold_secs: c.freezing_threshold_secs,
            settings: c.settings.clone(),
            module_hash: c.instance.as_ref().map(|i| i.module.hash),
            memory_bytes,
            wasm_memory_bytes,
            stable_memory_bytes,
            wasm_binary_bytes,
            chunk_store_bytes: c.chunk_store.values().map(|v| v.len() as u64).sum(),
            cycles: c.cycles,
            idle_cycles_burned_per_day: self.config.fees.storage_fee(memory_bytes, 86_400 * 1_000_000_000),
            version: c.version,
        })
    }

    fn canister_status(&self, id: Principal) -> Option<CanisterStatus> {
        Devnet::canister_status(self, id)
    }

    fn start_canister(&mut self, id: Principal) -> Vec<Origin> {
        match self.canisters.get_mut(&id) {
            Some(c) => {
                c.status = CanisterStatus::Running;
                std::mem::take(&mut c.stop_waiters)
            }
            None => Vec::new(),
        }
    }

    fn stop_canister(&mut self, id: Principal, waiter: Origin) -> Result<StopProgress, DevnetError> {
        let c = self.canisters.get_mut(&id).ok_or(DevnetError::CanisterNotFound(id))?;
        match c.status {
            CanisterStatus::Stopped => Ok(StopProgress::Stopped),
            _ => {
                c.status = CanisterStatus::Stopping;
                c.stop_waiters.push(waiter);
                Ok(StopProgress::Pending)
            }
        }
    }

    fn delete_canister(&mut self, id: Principal) {
        self.replace_instance(id, None);
        self.canisters.remove(&id);
    }

    fn respond(&mut self, to: Origin, result: Result<Vec<u8>, Reject>) {
        Devnet::respond(self, to, result, 0, 0);
    }

    fn random_bytes(&mut self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        self.rng.fill_bytes(&mut bytes);
        bytes
    }
}
