//! Loading a canister module: gunzip, check imports, read exports and
//! metadata, add host exports, compile.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use sha2::{Digest, Sha256};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

use super::imports::{IMPORT_MODULE, is_known_import};
use super::rewrite::{HostExports, add_host_exports};

/// 100 MiB: the largest module `install_chunked_code` accepts on the IC
/// (the size of a full chunk store).
pub const MAX_MODULE_BYTES: usize = 100 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("invalid gzip: {0}")]
    Gzip(String),
    #[error("module too large: {0} bytes (max {MAX_MODULE_BYTES})")]
    TooLarge(usize),
    #[error("invalid wasm module: {0}")]
    Invalid(String),
    #[error("module imports unknown function {module}.{name}: not provided by devnet's System API")]
    UnknownImport { module: String, name: String },
    #[error("module imports a non-function item {module}.{name}; canisters may only import ic0 functions")]
    NonFunctionImport { module: String, name: String },
    #[error("not implemented in devnet: {0}")]
    NotImplemented(String),
    #[error("compilation failed: {0}")]
    Compile(String),
}

/// Canister methods the module exports, by kind.
#[derive(Debug, Clone, Default)]
pub struct ExportedMethods {
    pub updates: BTreeSet<String>,
    pub queries: BTreeSet<String>,
    pub composite_queries: BTreeSet<String>,
    pub init: bool,
    pub pre_upgrade: bool,
    pub post_upgrade: bool,
    pub heartbeat: bool,
    pub global_timer: bool,
    pub inspect_message: bool,
}

/// A compiled canister module ready to instantiate.
pub struct CanisterModule {
    pub module: wasmtime::Module,
    /// SHA-256 of the module as installed (gzipped bytes if it was gzipped),
    /// which is what the IC reports as `module_hash`.
    pub hash: [u8; 32],
    pub methods: ExportedMethods,
    /// `icp:public <name>` → (true, bytes); `icp:private <name>` → (false, bytes).
    pub metadata: Metadata,
    pub host: HostExports,
    pub wasm_size: usize,
    /// The module as installed (gzipped if it was): what a saved state
    /// keeps to instantiate it again (`persistence`).
    pub installed: std::sync::Arc<[u8]>,
}

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b, 0x08])
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, ModuleError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_MODULE_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ModuleError::Gzip(e.to_string()))?;
    if out.len() > MAX_MODULE_BYTES {
        return Err(ModuleError::TooLarge(out.len()));
    }
    Ok(out)
}

pub fn load(engine: &wasmtime::Engine, installed: &[u8]) -> Result<CanisterModule, ModuleError> {
    if installed.len() > MAX_MODULE_BYTES {
        return Err(ModuleError::TooLarge(installed.len()));
    }
    let hash: [u8; 32] = Sha256::digest(installed).into();
    let raw = if is_gzip(installed) { gunzip(installed)? } else { installed.to_vec() };
    let (methods, metadata) = inspect(&raw)?;
    let (rewritten, host) = add_host_exports(&raw).map_err(ModuleError::Invalid)?;
    if !host.has_memory {
        // ic0 functions pass pointers into memory 0; a module without one
        // cannot use the System API, and the IC requires canisters to have it.
        return Err(ModuleError::Invalid("module defines no memory".into()));
    }
    let module = wasmtime::Module::new(engine, &rewritten).map_err(|e| ModuleError::Compile(format!("{e:#}")))?;
    Ok(CanisterModule { module, hash, methods, metadata, host, wasm_size: raw.len(), installed: installed.into() })
}

/// Metadata sections by name: (public?, content).
pub type Metadata = BTreeMap<String, (bool, Vec<u8>)>;

/// Reads imports (checked against the System API), exports and metadata.
fn inspect(wasm: &[u8]) -> Result<(ExportedMethods, Metadata), ModuleError> {
    let mut methods = ExportedMethods::default();
    let mut metadata = BTreeMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| ModuleError::Invalid(e.to_string()))?;
        match payload {
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.map_err(|e| ModuleError::Invalid(e.to_string()))?;
                    let (module, name) = (imp.module.to_string(), imp.name.to_string());
                    match imp.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => {}
                        _ => return Err(ModuleError::NonFunctionImport { module, name }),
                    }
                    if module != IMPORT_MODULE || !is_known_import(&name) {
                        return Err(ModuleError::UnknownImport { module, name });
                    }
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m.map_err(|e| ModuleError::Invalid(e.to_string()))?;
                    if m.memory64 {
                        return Err(ModuleError::NotImplemented("64-bit (wasm64) canister memory".into()));
                    }
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(|e| ModuleError::Invalid(e.to_string()))?;
                    if matches!(e.kind, ExternalKind::Func | ExternalKind::FuncExact) {
                        classify_export(e.name, &mut methods)?;
                    }
                }
            }
            Payload::CustomSection(c) => {
                let name = c.name();
                let entry = if let Some(n) = name.strip_prefix("icp:public ") {
                    Some((n, true))
                } else {
                    name.strip_prefix("icp:private ").map(|n| (n, false))
                };
                if let Some((n, public)) = entry
                    && metadata.insert(n.to_string(), (public, c.data().to_vec())).is_some()
                {
                    return Err(ModuleError::Invalid(format!("duplicate metadata section {n}")));
                }
            }
            _ => {}
        }
    }
    Ok((methods, metadata))
}

/// Sorts one function export into the canister's method sets. The method
/// name is everything after the FIRST space (names may contain spaces).
fn classify_export(name: &str, m: &mut ExportedMethods) -> Result<(), ModuleError> {
    let dup = |n: &str| ModuleError::Invalid(format!("method {n} exported more than once"));
    match name.split_once(' ') {
        Some(("canister_update", method)) => {
            if m.queries.contains(method) || m.composite_queries.contains(method) || !m.updates.insert(method.into()) {
                return Err(dup(method));
            }
        }
        Some(("canister_query", method)) => {
            if m.updates.contains(method) || m.composite_queries.contains(method) || !m.queries.insert(method.into()) {
                return Err(dup(method));
            }
        }
        Some(("canister_composite_query", method)) => {
            if m.updates.contains(method) || m.queries.contains(method) || !m.composite_queries.insert(method.into()) {
                return Err(dup(method));
            }
        }
        _ => match name {
            "canister_init" => m.init = true,
            "canister_pre_upgrade" => m.pre_upgrade = true,
            "canister_post_upgrade" => m.post_upgrade = true,
            "canister_heartbeat" => m.heartbeat = true,
            "canister_global_timer" => m.global_timer = true,
            "canister_inspect_message" => m.inspect_message = true,
            _ => {}
        },
    }
    Ok(())
}
