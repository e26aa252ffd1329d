//! The management canister (`aaaaa-aa`), reachable by canisters (inter-
//! canister calls), ingress and the library API. It works on canisters only
//! through the [`CanisterStore`] interface, which the execution layer
//! implements.

mod store;
pub mod types;

use candid::{CandidType, Nat, Principal};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::execution::calls::Origin;
use crate::execution::canister::CanisterStatus;
use crate::execution::{DevnetError, InstallMode};
use crate::types::{Reject, RejectCode};
pub(crate) use store::CanisterStore;
pub(crate) use store::{CanisterReport, ChunkStore, SettingsChange, StopProgress};
use types::*;

/// Cycles a provisional canister gets when the caller names no amount.
pub const DEFAULT_PROVISIONAL_CYCLES: u128 = 100_000_000_000_000;
/// Largest chunk `upload_chunk` accepts: 1 MiB, the IC's limit.
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;
/// Chunk store capacity per canister.
pub const MAX_CHUNK_STORE_BYTES: usize = 100 * 1024 * 1024;
/// `log_memory_limit` reported by `canister_status` (the IC's default;
/// devnet keeps no canister logs, so nothing is held against it).
pub const LOG_MEMORY_LIMIT: u64 = 4096;

/// Management methods of the interface spec devnet does not provide.
const NOT_IMPLEMENTED: &[&str] = &[
    "ecdsa_public_key",
    "sign_with_ecdsa",
    "schnorr_public_key",
    "sign_with_schnorr",
    "vetkd_public_key",
    "vetkd_derive_key",
    "http_request",
    "bitcoin_get_balance",
    "bitcoin_get_utxos",
    "bitcoin_send_transaction",
    "bitcoin_get_current_fee_percentiles",
    "bitcoin_get_block_headers",
    "node_metrics_history",
    "subnet_info",
    "fetch_canister_logs",
    "take_canister_snapshot",
    "load_canister_snapshot",
    "list_canister_snapshots",
    "delete_canister_snapshot",
    "canister_info",
];

type MgmtResult = Result<Vec<u8>, DevnetError>;

fn decode<T: DeserializeOwned + CandidType>(arg: &[u8]) -> Result<T, DevnetError> {
    candid::decode_one(arg).map_err(|e| DevnetError::InvalidArgument(format!("cannot decode argument: {e}")))
}

fn encode<T: CandidType>(v: &T) -> MgmtResult {
    candid::encode_one(v).map_err(|e| DevnetError::InvalidArgument(format!("cannot encode reply: {e}")))
}

fn empty() -> MgmtResult {
    candid::encode_args(()).map_err(|e| DevnetError::InvalidArgument(e.to_string()))
}

fn nat_u64(n: &Nat) -> Result<u64, DevnetError> {
    u64::try_from(n.0.clone()).map_err(|_| DevnetError::InvalidArgument(format!("{n} does not fit in 64 bits")))
}

fn nat_u128(n: &Nat) -> Result<u128, DevnetError> {
    u128::try_from(n.0.clone()).map_err(|_| DevnetError::InvalidArgument(format!("{n} does not fit in 128 bits")))
}

/// Handles one call to the management canister. `None` means the answer
/// comes later (`stop_canister` waits for the canister to stop).
/// Otherwise returns the result and the cycles to refund. `subnet` is
/// where a new canister goes unless its id is specified: the calling
/// canister's subnet, or the one an ingress message was routed to.
pub(crate) fn call(
    store: &mut impl CanisterStore,
    caller: Principal,
    method: &str,
    arg: &[u8],
    cycles: u128,
    origin: Origin,
    subnet: usize,
) -> Option<(Result<Vec<u8>, Reject>, u128)> {
    let mut refund = cycles;
    let result = match method {
        "create_canister" => create(store, caller, arg, cycles, &mut refund, subnet),
        "provisional_create_canister_with_cycles" => provisional_create(store, caller, arg, subnet),
        "provisional_top_up_canister" => top_up(store, arg),
        "install_code" => install_code(store, caller, arg),
        "install_chunked_code" => install_chunked(store, caller, arg),
        "upload_chunk" => upload_chunk(store, caller, arg),
        "clear_chunk_store" => clear_chunks(store, caller, arg),
        "stored_chunks" => stored_chunks(store, caller, arg),
        "update_settings" => update_settings(store, caller, arg),
        "canister_status" => status(store, caller, arg),
        "start_canister" => start(store, caller, arg),
        "stop_canister" => match stop(store, caller, arg, origin) {
            Ok(None) => return None,
            Ok(Some(r)) => Ok(r),
            Err(e) => Err(e),
        },
        "delete_canister" => delete(store, caller, arg),
        "uninstall_code" => uninstall(store, caller, arg),
        "deposit_cycles" => deposit(store, arg, cycles, &mut refund),
        "raw_rand" => encode(&serde_bytes::ByteBuf::from(store.random_bytes().to_vec())),
        m if NOT_IMPLEMENTED.contains(&m) => Err(DevnetError::NotImplemented(format!("management method {m}"))),
        m => Err(DevnetError::Rejected(Reject::new(
            RejectCode::DestinationInvalid,
            format!("the management canister has no method '{m}'"),
            Some("IC0302"),
        ))),
    };
    if result.is_err() {
        refund = cycles;
    }
    Some((result.map_err(|e| e.to_reject()), refund))
}

fn require_controller(store: &impl CanisterStore, caller: Principal, canister: Principal) -> Result<(), DevnetError> {
    match store.is_controller(canister, caller) {
        None => Err(DevnetError::CanisterNotFound(canister)),
        Some(true) => Ok(()),
        Some(false) => Err(DevnetError::NotController(caller, canister)),
    }
}

fn create(
    store: &mut impl CanisterStore,
    caller: Principal,
    arg: &[u8],
    cycles: u128,
    refund: &mut u128,
    subnet: usize,
) -> MgmtResult {
    let args: CreateCanisterArgs = if arg.is_empty() { CreateCanisterArgs::default() } else { decode(arg)? };
    let fee = store.creation_fee();
    if cycles < fee {
        return Err(DevnetError::InvalidArgument(format!(
            "create_canister needs at least {fee} cycles attached (the creation fee), got {cycles}"
        )));
    }
    let settings = args.settings.unwrap_or_default();
    let controllers = settings.controllers.clone().unwrap_or_else(|| vec![caller]);
    let change = settings_change(&settings)?;
    let id = store.create_canister(controllers, cycles - fee, None, subnet)?;
    store.update_settings(id, change)?;
    *refund = 0;
    encode(&CanisterIdRecord { canister_id: id })
}

fn provisional_create(store: &mut impl CanisterStore, caller: Principal, arg: &[u8], subnet: usize) -> MgmtResult {
    let args: ProvisionalCreateCanisterArgs =
        if arg.is_empty() { ProvisionalCreateCanisterArgs::default() } else { decode(arg)? };
    let amount = match &args.amount {
        Some(n) => nat_u128(n)?,
        None => DEFAULT_PROVISIONAL_CYCLES,
    };
    let settings = args.settings.unwrap_or_default();
    let controllers = settings.controllers.clone().unwrap_or_else(|| vec![caller]);
    let change = settings_change(&settings)?;
    let id = store.create_canister(controllers, amount, args.specified_id, subnet)?;
    store.update_settings(id, change)?;
    encode(&CanisterIdRecord { canister_id: id })
}

fn top_up(store: &mut impl CanisterStore, arg: &[u8]) -> MgmtResult {
    let args: ProvisionalTopUpArgs = decode(arg)?;
    if !store.canister_exists(args.canister_id) {
        return Err(DevnetError::CanisterNotFound(args.canister_id));
    }
    let amount = nat_u128(&args.amount)?;
    store.deposit_cycles(args.canister_id, amount);
    empty()
}

fn install_code(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: InstallCodeArgs = decode(arg)?;
    let (mode, skip_pre) = install_mode(&args.mode)?;
    store.install_code(caller, args.canister_id, &args.wasm_module, &args.arg, mode, skip_pre)?;
    empty()
}

fn install_chunked(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: InstallChunkedCodeArgs = decode(arg)?;
    let (mode, skip_pre) = install_mode(&args.mode)?;
    let chunk_canister = args.store_canister.unwrap_or(args.target_canister);
    require_controller(store, caller, chunk_canister)?;
    let chunks = store.chunk_store(chunk_canister).ok_or(DevnetError::CanisterNotFound(chunk_canister))?;
    let mut wasm = Vec::new();
    for h in &args.chunk_hashes_list {
        let key: [u8; 32] = h
            .hash
            .as_slice()
            .try_into()
            .map_err(|_| DevnetError::InvalidArgument("chunk hash must be 32 bytes".into()))?;
        let chunk = chunks
            .get(&key)
            .ok_or_else(|| DevnetError::InvalidArgument(format!("chunk {} is not in the store", hex::encode(key))))?;
        wasm.extend_from_slice(chunk);
    }
    let hash: [u8; 32] = Sha256::digest(&wasm).into();
    if hash.as_slice() != args.wasm_module_hash.as_slice() {
        return Err(DevnetError::InvalidArgument(format!(
            "wasm_module_hash mismatch: chunks hash to {}",
            hex::encode(hash)
        )));
    }
    store.install_code(caller, args.target_canister, &wasm, &args.arg, mode, skip_pre)?;
    empty()
}

fn upload_chunk(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: UploadChunkArgs = decode(arg)?;
    require_controller(store, caller, args.canister_id)?;
    if args.chunk.len() > MAX_CHUNK_BYTES {
        return Err(DevnetError::InvalidArgument(format!("chunk larger than {MAX_CHUNK_BYTES} bytes")));
    }
    let chunks = store.chunk_store_mut(args.canister_id).ok_or(DevnetError::CanisterNotFound(args.canister_id))?;
    let stored: usize = chunks.values().map(Vec::len).sum();
    if stored + args.chunk.len() > MAX_CHUNK_STORE_BYTES {
        return Err(DevnetError::InvalidArgument("chunk store is full".into()));
    }
    let hash: [u8; 32] = Sha256::digest(&args.chunk).into();
    chunks.insert(hash, args.chunk.into_vec());
    encode(&ChunkHash { hash: serde_bytes::ByteBuf::from(hash.to_vec()) })
}

fn clear_chunks(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: CanisterIdRecord = decode(arg)?;
    require_controller(store, caller, args.canister_id)?;
    if let Some(chunks) = store.chunk_store_mut(args.canister_id) {
        chunks.clear();
    }
    empty()
}

fn stored_chunks(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: CanisterIdRecord = decode(arg)?;
    require_controller(store, caller, args.canister_id)?;
    let hashes: Vec<ChunkHash> = store
        .chunk_store(args.canister_id)
        .map(|chunks| chunks.keys().map(|k| ChunkHash { hash: serde_bytes::ByteBuf::from(k.to_vec()) }).collect())
        .unwrap_or_default();
    encode(&hashes)
}

fn update_settings(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: UpdateSettingsArgs = decode(arg)?;
    require_controller(store, caller, args.canister_id)?;
    store.update_settings(args.canister_id, settings_change(&args.settings)?)?;
    empty()
}

/// Validates and decodes candid settings; checked before a canister is
/// created, so that bad settings create nothing.
fn settings_change(s: &CanisterSettings) -> Result<SettingsChange, DevnetError> {
    if s.controllers.as_ref().is_some_and(|c| c.len() > 10) {
        return Err(DevnetError::InvalidArgument("at most 10 controllers".into()));
    }
    let change = SettingsChange {
        controllers: s.controllers.clone(),
        freezing_threshold_secs: s.freezing_threshold.as_ref().map(nat_u64).transpose()?,
        compute_allocation: s.compute_allocation.as_ref().map(nat_u64).transpose()?,
        memory_allocation: s.memory_allocation.as_ref().map(nat_u64).transpose()?,
        reserved_cycles_limit: s.reserved_cycles_limit.as_ref().map(nat_u128).transpose()?,
        wasm_memory_limit: s.wasm_memory_limit.as_ref().map(nat_u64).transpose()?,
        wasm_memory_threshold: s.wasm_memory_threshold.as_ref().map(nat_u64).transpose()?,
        log_visibility_public: s.log_visibility.as_ref().map(|v| matches!(v, LogVisibility::Public)),
        environment_variables: s.environment_variables.as_deref().map(environment_variables).transpose()?,
    };
    Ok(change)
}

/// The replica's limits on a canister's environment variables.
pub const MAX_ENVIRONMENT_VARIABLES: usize = 20;
pub const MAX_ENVIRONMENT_VARIABLE_NAME_BYTES: usize = 128;
pub const MAX_ENVIRONMENT_VARIABLE_VALUE_BYTES: usize = 128;

/// Checks a new set of environment variables against the replica's limits;
/// a name given twice is refused rather than one value silently winning.
fn environment_variables(vars: &[EnvironmentVariable]) -> Result<BTreeMap<String, String>, DevnetError> {
    if vars.len() > MAX_ENVIRONMENT_VARIABLES {
        return Err(DevnetError::InvalidArgument(format!(
            "{} environment variables, at most {MAX_ENVIRONMENT_VARIABLES} are allowed",
            vars.len()
        )));
    }
    let mut map = BTreeMap::new();
    for v in vars {
        if v.name.len() > MAX_ENVIRONMENT_VARIABLE_NAME_BYTES {
            return Err(DevnetError::InvalidArgument(format!(
                "environment variable name of {} bytes, at most {MAX_ENVIRONMENT_VARIABLE_NAME_BYTES} are allowed",
                v.name.len()
            )));
        }
        if v.value.len() > MAX_ENVIRONMENT_VARIABLE_VALUE_BYTES {
            return Err(DevnetError::InvalidArgument(format!(
                "environment variable {:?} has a value of {} bytes, at most {MAX_ENVIRONMENT_VARIABLE_VALUE_BYTES} are allowed",
                v.name,
                v.value.len()
            )));
        }
        if map.insert(v.name.clone(), v.value.clone()).is_some() {
            return Err(DevnetError::InvalidArgument(format!("environment variable {:?} is given twice", v.name)));
        }
    }
    Ok(map)
}

fn status(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: CanisterIdRecord = decode(arg)?;
    let id = args.canister_id;
    if caller != id {
        require_controller(store, caller, id)?;
    }
    let c = store.report(id).ok_or(DevnetError::CanisterNotFound(id))?;
    let n = |v: u64| Nat::from(v);
    let status = CanisterStatusResult {
        status: match c.status {
            CanisterStatus::Running => CanisterStatusType::Running,
            CanisterStatus::Stopping => CanisterStatusType::Stopping,
            CanisterStatus::Stopped => CanisterStatusType::Stopped,
        },
        settings: DefiniteCanisterSettings {
            controllers: c.controllers,
            compute_allocation: n(c.settings.compute_allocation),
            memory_allocation: n(c.settings.memory_allocation),
            freezing_threshold: n(c.freezing_threshold_secs),
            reserved_cycles_limit: Nat::from(c.settings.reserved_cycles_limit),
            minimum_incoming_canister_call_cycles: n(0),
            log_memory_limit: n(LOG_MEMORY_LIMIT),
            snapshot_visibility: LogVisibility::Controllers,
            status_visibility: LogVisibility::Controllers,
            log_visibility: if c.settings.log_visibility_public {
                LogVisibility::Public
            } else {
                LogVisibility::Controllers
            },
            wasm_memory_limit: n(c.settings.wasm_memory_limit),
            wasm_memory_threshold: n(c.settings.wasm_memory_threshold),
            environment_variables: c
                .settings
                .environment_variables
                .into_iter()
                .map(|(name, value)| EnvironmentVariable { name, value })
                .collect(),
        },
        module_hash: c.module_hash.map(|h| serde_bytes::ByteBuf::from(h.to_vec())),
        memory_size: n(c.memory_bytes),
        memory_metrics: MemoryMetrics {
            wasm_memory_size: n(c.wasm_memory_bytes),
            stable_memory_size: n(c.stable_memory_bytes),
            global_memory_size: n(0),
            wasm_binary_size: n(c.wasm_binary_bytes),
            custom_sections_size: n(0),
            canister_history_size: n(0),
            wasm_chunk_store_size: n(c.chunk_store_bytes),
            snapshots_size: n(0),
            log_memory_store_size: n(0),
        },
        cycles: Nat::from(c.cycles),
        reserved_cycles: n(0),
        idle_cycles_burned_per_day: Nat::from(c.idle_cycles_burned_per_day),
        query_stats: QueryStats {
            num_calls_total: n(0),
            num_instructions_total: n(0),
            request_payload_bytes_total: n(0),
            response_payload_bytes_total: n(0),
        },
        version: c.version,
        ready_for_migration: false,
    };
    encode(&status)
}

fn start(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: CanisterIdRecord = decode(arg)?;
    require_controller(store, caller, args.canister_id)?;
    for waiter in store.start_canister(args.canister_id) {
        let reject =
            Reject::new(RejectCode::CanisterError, "stop_canister cancelled by start_canister", Some("IC0510"));
        store.respond(waiter, Err(reject));
    }
    empty()
}

fn stop(
    store: &mut impl CanisterStore,
    caller: Principal,
    arg: &[u8],
    origin: Origin,
) -> Result<Option<Vec<u8>>, DevnetError> {
    let args: CanisterIdRecord = decode(arg)?;
    require_controller(store, caller, args.canister_id)?;
    match store.stop_canister(args.canister_id, origin)? {
        StopProgress::Stopped => empty().map(Some),
        StopProgress::Pending => Ok(None),
    }
}

fn delete(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: CanisterIdRecord = decode(arg)?;
    let id = args.canister_id;
    require_controller(store, caller, id)?;
    if store.canister_status(id).is_some_and(|s| s != CanisterStatus::Stopped) {
        return Err(DevnetError::Rejected(Reject::new(
            RejectCode::CanisterError,
            format!("Canister {id} must be stopped before it is deleted"),
            Some("IC0510"),
        )));
    }
    store.delete_canister(id);
    empty()
}

fn uninstall(store: &mut impl CanisterStore, caller: Principal, arg: &[u8]) -> MgmtResult {
    let args: CanisterIdRecord = decode(arg)?;
    require_controller(store, caller, args.canister_id)?;
    store.uninstall_code(args.canister_id);
    empty()
}

fn deposit(store: &mut impl CanisterStore, arg: &[u8], cycles: u128, refund: &mut u128) -> MgmtResult {
    let args: CanisterIdRecord = decode(arg)?;
    if !store.canister_exists(args.canister_id) {
        return Err(DevnetError::CanisterNotFound(args.canister_id));
    }
    store.deposit_cycles(args.canister_id, cycles);
    *refund = 0;
    empty()
}

fn install_mode(m: &CanisterInstallMode) -> Result<(InstallMode, bool), DevnetError> {
    Ok(match m {
        CanisterInstallMode::Install => (InstallMode::Install, false),
        CanisterInstallMode::Reinstall => (InstallMode::Reinstall, false),
        CanisterInstallMode::Upgrade(flags) => {
            let flags = flags.clone().unwrap_or_default();
            if matches!(flags.wasm_memory_persistence, Some(WasmMemoryPersistence::Keep)) {
                return Err(DevnetError::NotImplemented(
                    "wasm_memory_persistence = keep (enhanced orthogonal persistence)".into(),
                ));
            }
            (InstallMode::Upgrade, flags.skip_pre_upgrade.unwrap_or(false))
        }
    })
}
