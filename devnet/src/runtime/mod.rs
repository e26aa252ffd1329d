//! Wasm side of devnet: module loading (gzip, checks, rewriting), the `ic0`
//! System API and canister instances with checkpoint/rollback.

pub mod context;
pub mod dirty_pages;
pub mod host;
pub mod imports;
pub mod instance;
pub mod module;
pub mod rewrite;
pub mod stable;
pub mod system_api;

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use wasmtime::{Config, Engine, Linker};

use context::HostState;

/// The wasmtime engine and the linker holding the System API.
pub struct Runtime {
    pub engine: Engine,
    pub linker: Linker<HostState>,
    /// Compiled modules by hash of the installed bytes: compiling is the
    /// slowest part of an install, and tests install the same wasm often.
    cache: HashMap<[u8; 32], Arc<module::CanisterModule>>,
}

impl Runtime {
    pub fn new() -> Result<Self, String> {
        let mut config = Config::new();
        // Fuel is devnet's instruction counter (one unit per wasm operator).
        config.consume_fuel(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // Traps are ordinary on the IC (every rejected update); capturing a
        // wasm backtrace for each would make them several times slower.
        config.wasm_backtrace_max_frames(None);
        // The dirty-page journal protects the heap where it is; a 32-bit
        // heap fits the default 4 GiB reservation and never needs to move.
        config.memory_may_move(false);
        let engine = Engine::new(&config).map_err(|e| format!("wasmtime engine: {e:#}"))?;
        let mut linker = Linker::new(&engine);
        system_api::link(&mut linker).map_err(|e| format!("linking the System API: {e:#}"))?;
        Ok(Runtime { engine, linker, cache: HashMap::new() })
    }

    pub fn load(&mut self, wasm: &[u8]) -> Result<Arc<module::CanisterModule>, module::ModuleError> {
        let hash: [u8; 32] = Sha256::digest(wasm).into();
        if let Some(m) = self.cache.get(&hash) {
            return Ok(m.clone());
        }
        let m = Arc::new(module::load(&self.engine, wasm)?);
        // A small bound keeps memory in check for long-running devnets.
        if self.cache.len() >= 64 {
            self.cache.clear();
        }
        self.cache.insert(hash, m.clone());
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_import_is_linked() {
        let rt = Runtime::new().expect("runtime");
        let mut store = wasmtime::Store::new(&rt.engine, HostState::new(stable::StableMemory::default()));
        for name in imports::KNOWN_IMPORTS {
            assert!(rt.linker.get(&mut store, imports::IMPORT_MODULE, name).is_ok(), "ic0.{name} is not linked");
        }
    }
}
