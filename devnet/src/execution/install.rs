//! install_code: install, reinstall and upgrade, each one atomic step.

use candid::Principal;

use super::devnet::Devnet;
use super::types::*;
use crate::runtime::context::EntryKind;
use crate::runtime::instance::{CanisterInstance, Entry};
use crate::runtime::stable::StableMemory;

impl Devnet {
    /// Library API: installs `wasm` (raw or gzipped) as `sender`, who must
    /// control `canister`.
    pub fn install_code(
        &mut self,
        sender: Principal,
        canister: Principal,
        wasm: &[u8],
        arg: &[u8],
        mode: InstallMode,
    ) -> Result<(), DevnetError> {
        self.install(sender, canister, wasm, arg, mode, false).map(|_| ())
    }

    /// Returns the instructions used by the canister's hooks.
    pub(crate) fn install(
        &mut self,
        sender: Principal,
        canister: Principal,
        wasm: &[u8],
        arg: &[u8],
        mode: InstallMode,
        skip_pre_upgrade: bool,
    ) -> Result<u64, DevnetError> {
        let c = self.canisters.get(&canister).ok_or(DevnetError::CanisterNotFound(canister))?;
        if !c.is_controller(&sender) {
            return Err(DevnetError::NotController(sender, canister));
        }
        match (mode, c.instance.is_some()) {
            (InstallMode::Install, true) => return Err(DevnetError::AlreadyInstalled(canister)),
            (InstallMode::Upgrade, false) => return Err(DevnetError::NoModule(canister)),
            _ => {}
        }
        let min = self.freeze_limit(c).saturating_add(self.config.fees.execution_fee(0));
        if c.cycles < min {
            return Err(DevnetError::Rejected(super::scheduler::out_of_cycles(canister, c.cycles)));
        }
        let module = self.runtime.load(wasm).map_err(|e| DevnetError::InvalidModule(e.to_string()))?;
        let now = self.clock.now();
        let limit = self.config.limits.install;
        let mut used = 0u64;

        // Upgrade: run pre_upgrade on the old instance, keep its stable memory.
        let mut old_checkpoint = None;
        let mut certified_data = Vec::new();
        let stable = if mode == InstallMode::Upgrade {
            let has_pre = self
                .canisters
                .get(&canister)
                .and_then(|c| c.instance.as_ref())
                .is_some_and(|i| i.module.methods.pre_upgrade);
            let ctx = self.exec_context(canister, EntryKind::PreUpgrade, sender, now);
            let Some(old) = self.canisters.get_mut(&canister).and_then(|c| c.instance.as_mut()) else {
                return Err(DevnetError::NoModule(canister));
            };
            let cp = old.checkpoint();
            if has_pre && !skip_pre_upgrade {
                let res = old.run(&Entry::Export("canister_pre_upgrade".into()), ctx, limit);
                used += res.instructions;
                if let Some(t) = res.trap {
                    old.rollback(cp);
                    self.charge_install(canister, used);
                    return Err(DevnetError::InstallFailed(format!("Canister {canister}: pre_upgrade trapped: {t}")));
                }
            }
            certified_data = old.store.data().certified_data.clone();
            let stable = old.take_stable();
            old_checkpoint = Some(cp);
            stable
        } else {
            StableMemory::default()
        };

        let fail = |this: &mut Devnet,
                    mut stable: StableMemory,
                    cp: Option<crate::runtime::instance::Checkpoint>,
                    used: u64,
                    msg: String| {
            if let (Some(cp), Some(old)) = (cp, this.canisters.get_mut(&canister).and_then(|c| c.instance.as_mut())) {
                std::mem::swap(old.stable_mut(), &mut stable);
                old.rollback(cp);
            }
            this.charge_install(canister, used);
            DevnetError::InstallFailed(msg)
        };

        let remaining = limit.saturating_sub(used);
        let mut inst = match CanisterInstance::new(
            &self.runtime.engine,
            &self.runtime.linker,
            module,
            stable,
            remaining,
            self.config.heap_rollback,
        ) {
            Ok(i) => i,
            Err((e, stable)) => {
                return Err(fail(
                    self,
                    *stable,
                    old_checkpoint,
                    used,
                    format!("Canister {canister}: instantiation failed: {e}"),
                ));
            }
        };
        inst.store.data_mut().certified_data = certified_data;
        let (hook, kind) = match mode {
            InstallMode::Upgrade => ("canister_post_upgrade", EntryKind::PostUpgrade),
            _ => ("canister_init", EntryKind::Init),
        };
        let has_hook = match kind {
            EntryKind::PostUpgrade => inst.module.methods.post_upgrade,
            _ => inst.module.methods.init,
        };
        if has_hook {
            let mut ctx = self.exec_context(canister, kind, sender, now);
            ctx.arg = arg.to_vec();
            ctx.version += 1;
            let res = inst.run(&Entry::Export(hook.into()), ctx, remaining);
            used += res.instructions;
            if let Some(t) = res.trap {
                let stable = inst.take_stable();
                let what = if mode == InstallMode::Upgrade { "post_upgrade" } else { "canister_init" };
                return Err(fail(
                    self,
                    stable,
                    old_checkpoint,
                    used,
                    format!("Canister {canister}: {what} trapped: {t}"),
                ));
            }
            if let Some(c) = self.canisters.get_mut(&canister) {
                c.cycles = res.ctx.balance;
            }
        }
        if let Some(cp) = old_checkpoint {
            // The journal opened by the checkpoint travelled with the stable memory.
            inst.stable_mut().commit(cp.stable_mark());
        }
        self.last_instructions = used;
        self.replace_instance(canister, Some(inst));
        self.charge_install(canister, used);
        Ok(used)
    }

    fn charge_install(&mut self, canister: Principal, instructions: u64) {
        let fee = self.config.fees.execution_fee(instructions);
        if let Some(c) = self.canisters.get_mut(&canister) {
            c.cycles -= fee.min(c.cycles);
        }
    }

    /// Swaps the module (or removes it). Open call contexts are rejected
    /// and their callbacks will not run: the code they pointed to is gone.
    pub(crate) fn replace_instance(&mut self, canister: Principal, inst: Option<CanisterInstance>) {
        let Some(c) = self.canisters.get_mut(&canister) else { return };
        c.instance = inst;
        c.generation += 1;
        c.version += 1;
        let mut open: Vec<u64> =
            self.contexts.iter().filter(|(_, cc)| cc.canister == canister && !cc.deleted).map(|(id, _)| *id).collect();
        // Oldest first: `contexts` is a HashMap, and the order of the rejects
        // must not depend on its hashing (reproducible runs).
        open.sort_unstable();
        for id in open {
            if let Some(cc) = self.contexts.get_mut(&id) {
                cc.deleted = true;
            }
            self.answer_context(
                id,
                Err(Reject::new(
                    RejectCode::CanisterError,
                    format!("Canister {canister} was upgraded, reinstalled or uninstalled while the call was open"),
                    Some("IC0503"),
                )),
            );
            self.finish_context(id, None);
        }
    }
}
