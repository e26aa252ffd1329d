//! The gateway's state: its settings, in stable memory behind one
//! `MemoryManager` (MemoryId 0: `CONFIG_MEMORY`, never reused), so an
//! upgrade keeps them without an argument.

use depot_api::gateway::GatewayInit;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};
use ic_stable_structures::{DefaultMemoryImpl, StableCell};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

pub const CONFIG_MEMORY: MemoryId = MemoryId::new(0);

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// Set at install; `None` only before it.
    pub init: Option<GatewayInit>,
}
depot_api::cbor_storable!(Config);

type Memory = VirtualMemory<DefaultMemoryImpl>;

thread_local! {
    static MANAGER: MemoryManager<DefaultMemoryImpl> = MemoryManager::init(DefaultMemoryImpl::default());
    static CONFIG: RefCell<StableCell<Config, Memory>> =
        RefCell::new(StableCell::init(MANAGER.with(|m| m.get(CONFIG_MEMORY)), Config::default()));
}

pub fn set_init(init: GatewayInit) {
    CONFIG.with_borrow_mut(|c| c.set(Config { init: Some(init) }));
}

/// The install argument (`None` only before install).
pub fn init_args() -> Option<GatewayInit> {
    CONFIG.with_borrow(|c| c.get().init.clone())
}

/// The directory whose shares this gateway resolves.
pub fn directory() -> Option<candid::Principal> {
    CONFIG.with_borrow(|c| c.get().init.as_ref().map(|i| i.directory))
}
