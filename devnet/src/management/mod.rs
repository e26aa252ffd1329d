//! The management canister (`aaaaa-aa`), reachable by canisters (inter-
//! canister calls), ingress and the library API.

pub mod types;

use candid::{CandidType, Nat, Principal};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::execution::calls::Origin;
use crate::execution::canister::CanisterStatus;
use crate::execution::{Devnet, DevnetError, InstallMode, Reject, RejectCode};
use types::*;

/// Cycles a provisional canister gets when the caller names no amount.
pub const DEFAULT_PROVISIONAL_CYCLES: u128 = 100_000_000_000_000;
/// Largest chunk `upload_chunk` accepts (notes §2).
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;
/// Chunk store capacity per canister.
pub const MAX_CHUNK_STORE_BYTES: usize = 100 * 1024 * 1024;

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

impl Devnet {
    /// Handles one call to the management canister. `None` means the answer
    /// comes later (`stop_canister` waits for the canister to stop).
    /// Otherwise returns the result and the cycles to refund.
    pub(crate) fn management_call(
        &mut self,
        caller: Principal,
        method: &str,
        arg: &[u8],
        cycles: u128,
        origin: Origin,
    ) -> Option<(Result<Vec<u8>, Reject>, u128)> {
        let mut refund = cycles;
        let result = match method {
            "create_canister" => self.mgmt_create(caller, arg, cycles, &mut refund),
            "provisional_create_canister_with_cycles" => self.mgmt_provisional_create(caller, arg),
            "provisional_top_up_canister" => self.mgmt_top_up(arg),
            "install_code" => self.mgmt_install_code(caller, arg),
            "install_chunked_code" => self.mgmt_install_chunked(caller, arg),
            "upload_chunk" => self.mgmt_upload_chunk(caller, arg),
            "clear_chunk_store" => self.mgmt_clear_chunks(caller, arg),
            "stored_chunks" => self.mgmt_stored_chunks(caller, arg),
            "update_settings" => self.mgmt_update_settings(caller, arg),
            "canister_status" => self.mgmt_status(caller, arg),
            "start_canister" => self.mgmt_start(caller, arg),
            "stop_canister" => match self.mgmt_stop(caller, arg, origin) {
                Ok(None) => return None,
                Ok(Some(r)) => Ok(r),
                Err(e) => Err(e),
            },
            "delete_canister" => self.mgmt_delete(caller, arg),
            "uninstall_code" => self.mgmt_uninstall(caller, arg),
            "deposit_cycles" => self.mgmt_deposit(arg, cycles, &mut refund),
            "raw_rand" => encode(&serde_bytes::ByteBuf::from(rand::random::<[u8; 32]>().to_vec())),
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

    fn require_controller(&self, caller: Principal, canister: Principal) -> Result<(), DevnetError> {
        let c = self.canisters.get(&canister).ok_or(DevnetError::CanisterNotFound(canister))?;
        if c.is_controller(&caller) { Ok(()) } else { Err(DevnetError::NotController(caller, canister)) }
    }

    fn mgmt_create(&mut self, caller: Principal, arg: &[u8], cycles: u128, refund: &mut u128) -> MgmtResult {
        let args: CreateCanisterArgs = if arg.is_empty() { CreateCanisterArgs::default() } else { decode(arg)? };
        let fee = self.config.fees.on_creation();
        if cycles < fee {
            return Err(DevnetError::InvalidArgument(format!(
                "create_canister needs at least {fee} cycles attached (the creation fee), got {cycles}"
            )));
        }
        let settings = args.settings.unwrap_or_default();
        let controllers = settings.controllers.clone().unwrap_or_else(|| vec![caller]);
        let id = self.create_canister_with_controllers(controllers, cycles - fee, None)?;
        self.apply_settings(id, &settings)?;
        *refund = 0;
        encode(&CanisterIdRecord { canister_id: id })
    }

    fn mgmt_provisional_create(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: ProvisionalCreateCanisterArgs =
            if arg.is_empty() { ProvisionalCreateCanisterArgs::default() } else { decode(arg)? };
        let amount = match &args.amount {
            Some(n) => nat_u128(n)?,
            None => DEFAULT_PROVISIONAL_CYCLES,
        };
        let settings = args.settings.unwrap_or_default();
        let controllers = settings.controllers.clone().unwrap_or_else(|| vec![caller]);
        let id = self.create_canister_with_controllers(controllers, amount, args.specified_id)?;
        self.apply_settings(id, &settings)?;
        encode(&CanisterIdRecord { canister_id: id })
    }

    fn mgmt_top_up(&mut self, arg: &[u8]) -> MgmtResult {
        let args: ProvisionalTopUpArgs = decode(arg)?;
        if !self.canisters.contains_key(&args.canister_id) {
            return Err(DevnetError::CanisterNotFound(args.canister_id));
        }
        let amount = nat_u128(&args.amount)?;
        self.add_cycles(args.canister_id, amount);
        empty()
    }

    fn mgmt_install_code(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: InstallCodeArgs = decode(arg)?;
        let (mode, skip_pre) = install_mode(&args.mode)?;
        self.install(caller, args.canister_id, &args.wasm_module, &args.arg, mode, skip_pre)?;
        empty()
    }

    fn mgmt_install_chunked(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: InstallChunkedCodeArgs = decode(arg)?;
        let (mode, skip_pre) = install_mode(&args.mode)?;
        let store = args.store_canister.unwrap_or(args.target_canister);
        self.require_controller(caller, store)?;
        let chunks = &self.canisters.get(&store).ok_or(DevnetError::CanisterNotFound(store))?.chunk_store;
        let mut wasm = Vec::new();
        for h in &args.chunk_hashes_list {
            let key: [u8; 32] = h
                .hash
                .as_slice()
                .try_into()
                .map_err(|_| DevnetError::InvalidArgument("chunk hash must be 32 bytes".into()))?;
            let chunk = chunks.get(&key).ok_or_else(|| {
                DevnetError::InvalidArgument(format!("chunk {} is not in the store", hex::encode(key)))
            })?;
            wasm.extend_from_slice(chunk);
        }
        let hash: [u8; 32] = Sha256::digest(&wasm).into();
        if hash.as_slice() != args.wasm_module_hash.as_slice() {
            return Err(DevnetError::InvalidArgument(format!(
                "wasm_module_hash mismatch: chunks hash to {}",
                hex::encode(hash)
            )));
        }
        self.install(caller, args.target_canister, &wasm, &args.arg, mode, skip_pre)?;
        empty()
    }

    fn mgmt_upload_chunk(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: UploadChunkArgs = decode(arg)?;
        self.require_controller(caller, args.canister_id)?;
        if args.chunk.len() > MAX_CHUNK_BYTES {
            return Err(DevnetError::InvalidArgument(format!("chunk larger than {MAX_CHUNK_BYTES} bytes")));
        }
        let c = self.canisters.get_mut(&args.canister_id).ok_or(DevnetError::CanisterNotFound(args.canister_id))?;
        let stored: usize = c.chunk_store.values().map(Vec::len).sum();
        if stored + args.chunk.len() > MAX_CHUNK_STORE_BYTES {
            return Err(DevnetError::InvalidArgument("chunk store is full".into()));
        }
        let hash: [u8; 32] = Sha256::digest(&args.chunk).into();
        c.chunk_store.insert(hash, args.chunk.into_vec());
        encode(&ChunkHash { hash: serde_bytes::ByteBuf::from(hash.to_vec()) })
    }

    fn mgmt_clear_chunks(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: CanisterIdRecord = decode(arg)?;
        self.require_controller(caller, args.canister_id)?;
        if let Some(c) = self.canisters.get_mut(&args.canister_id) {
            c.chunk_store.clear();
        }
        empty()
    }

    fn mgmt_stored_chunks(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: CanisterIdRecord = decode(arg)?;
        self.require_controller(caller, args.canister_id)?;
        let hashes: Vec<ChunkHash> = self
            .canisters
            .get(&args.canister_id)
            .map(|c| c.chunk_store.keys().map(|k| ChunkHash { hash: serde_bytes::ByteBuf::from(k.to_vec()) }).collect())
            .unwrap_or_default();
        encode(&hashes)
    }

    fn mgmt_update_settings(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: UpdateSettingsArgs = decode(arg)?;
        self.require_controller(caller, args.canister_id)?;
        self.apply_settings(args.canister_id, &args.settings)?;
        empty()
    }

    pub(crate) fn apply_settings(&mut self, id: Principal, s: &CanisterSettings) -> Result<(), DevnetError> {
        if s.controllers.as_ref().is_some_and(|c| c.len() > 10) {
            return Err(DevnetError::InvalidArgument("at most 10 controllers".into()));
        }
        let freezing = s.freezing_threshold.as_ref().map(nat_u64).transpose()?;
        let compute = s.compute_allocation.as_ref().map(nat_u64).transpose()?;
        let memory = s.memory_allocation.as_ref().map(nat_u64).transpose()?;
        let reserved = s.reserved_cycles_limit.as_ref().map(nat_u128).transpose()?;
        let wasm_limit = s.wasm_memory_limit.as_ref().map(nat_u64).transpose()?;
        let wasm_threshold = s.wasm_memory_threshold.as_ref().map(nat_u64).transpose()?;
        let c = self.canisters.get_mut(&id).ok_or(DevnetError::CanisterNotFound(id))?;
        if let Some(ctrl) = &s.controllers {
            c.controllers = ctrl.clone();
        }
        if let Some(f) = freezing {
            c.freezing_threshold_secs = f;
        }
        if let Some(v) = compute {
            c.settings.compute_allocation = v;
        }
        if let Some(v) = memory {
            c.settings.memory_allocation = v;
        }
        if let Some(v) = reserved {
            c.settings.reserved_cycles_limit = v;
        }
        if let Some(v) = wasm_limit {
            c.settings.wasm_memory_limit = v;
        }
        if let Some(v) = wasm_threshold {
            c.settings.wasm_memory_threshold = v;
        }
        if let Some(v) = &s.log_visibility {
            c.settings.log_visibility_public = matches!(v, LogVisibility::Public);
        }
        Ok(())
    }

    fn mgmt_status(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: CanisterIdRecord = decode(arg)?;
        let id = args.canister_id;
        if caller != id {
            self.require_controller(caller, id)?;
        }
        let c = self.canisters.get(&id).ok_or(DevnetError::CanisterNotFound(id))?;
        let fees = self.config.fees;
        let memory = c.memory_bytes();
        let (heap, stable, binary) = c
            .instance
            .as_ref()
            .map(|i| (i.heap_bytes(), i.stable().size_bytes(), i.module.wasm_size as u64))
            .unwrap_or((0, 0, 0));
        let chunks: u64 = c.chunk_store.values().map(|v| v.len() as u64).sum();
        let n = |v: u64| Nat::from(v);
        let status = CanisterStatusResult {
            status: match c.status {
                CanisterStatus::Running => CanisterStatusType::Running,
                CanisterStatus::Stopping => CanisterStatusType::Stopping,
                CanisterStatus::Stopped => CanisterStatusType::Stopped,
            },
            settings: DefiniteCanisterSettings {
                controllers: c.controllers.clone(),
                compute_allocation: n(c.settings.compute_allocation),
                memory_allocation: n(c.settings.memory_allocation),
                freezing_threshold: n(c.freezing_threshold_secs),
                reserved_cycles_limit: Nat::from(c.settings.reserved_cycles_limit),
                log_visibility: if c.settings.log_visibility_public {
                    LogVisibility::Public
                } else {
                    LogVisibility::Controllers
                },
                wasm_memory_limit: n(c.settings.wasm_memory_limit),
                wasm_memory_threshold: n(c.settings.wasm_memory_threshold),
                environment_variables: Vec::new(),
            },
            module_hash: c.instance.as_ref().map(|i| serde_bytes::ByteBuf::from(i.module.hash.to_vec())),
            memory_size: n(memory),
            memory_metrics: MemoryMetrics {
                wasm_memory_size: n(heap),
                stable_memory_size: n(stable),
                global_memory_size: n(0),
                wasm_binary_size: n(binary),
                custom_sections_size: n(0),
                canister_history_size: n(0),
                wasm_chunk_store_size: n(chunks),
                snapshots_size: n(0),
            },
            cycles: Nat::from(c.cycles),
            reserved_cycles: n(0),
            idle_cycles_burned_per_day: Nat::from(fees.storage_fee(memory, 86_400 * 1_000_000_000)),
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

    fn mgmt_start(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: CanisterIdRecord = decode(arg)?;
        self.require_controller(caller, args.canister_id)?;
        let waiters = match self.canisters.get_mut(&args.canister_id) {
            Some(c) => {
                c.status = CanisterStatus::Running;
                std::mem::take(&mut c.stop_waiters)
            }
            None => Vec::new(),
        };
        for w in waiters {
            let reject =
                Reject::new(RejectCode::CanisterError, "stop_canister cancelled by start_canister", Some("IC0510"));
            self.respond(w, Err(reject), 0, 0);
        }
        empty()
    }

    fn mgmt_stop(&mut self, caller: Principal, arg: &[u8], origin: Origin) -> Result<Option<Vec<u8>>, DevnetError> {
        let args: CanisterIdRecord = decode(arg)?;
        self.require_controller(caller, args.canister_id)?;
        let Some(c) = self.canisters.get_mut(&args.canister_id) else {
            return Err(DevnetError::CanisterNotFound(args.canister_id));
        };
        match c.status {
            CanisterStatus::Stopped => empty().map(Some),
            _ => {
                c.status = CanisterStatus::Stopping;
                c.stop_waiters.push(origin);
                Ok(None)
            }
        }
    }

    fn mgmt_delete(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: CanisterIdRecord = decode(arg)?;
        let id = args.canister_id;
        self.require_controller(caller, id)?;
        if self.canisters.get(&id).is_some_and(|c| c.status != CanisterStatus::Stopped) {
            return Err(DevnetError::Rejected(Reject::new(
                RejectCode::CanisterError,
                format!("Canister {id} must be stopped before it is deleted"),
                Some("IC0510"),
            )));
        }
        self.replace_instance(id, None);
        self.canisters.remove(&id);
        empty()
    }

    fn mgmt_uninstall(&mut self, caller: Principal, arg: &[u8]) -> MgmtResult {
        let args: CanisterIdRecord = decode(arg)?;
        self.require_controller(caller, args.canister_id)?;
        self.replace_instance(args.canister_id, None);
        empty()
    }

    fn mgmt_deposit(&mut self, arg: &[u8], cycles: u128, refund: &mut u128) -> MgmtResult {
        let args: CanisterIdRecord = decode(arg)?;
        if !self.canisters.contains_key(&args.canister_id) {
            return Err(DevnetError::CanisterNotFound(args.canister_id));
        }
        self.add_cycles(args.canister_id, cycles);
        *refund = 0;
        empty()
    }
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
