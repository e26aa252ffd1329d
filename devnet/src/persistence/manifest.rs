//! What a saved state holds besides the large blobs: one CBOR document per
//! snapshot (`manifest.cbor`), versioned by `FORMAT`.

use candid::Principal;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// The layout of a state directory. Bump it on any change to the manifest
/// or to the files beside it; a devnet refuses to load another format
/// rather than guess.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The devnet that wrote it (for messages only).
    pub written_by: String,
    /// Devnet time when saved: time resumes from here, never earlier.
    pub time_ns: u64,
    /// The clock stood still (`--start-time-ns`) rather than following the wall clock.
    pub fixed_clock: bool,
    /// The BLS root key and the node's Ed25519 key: clients that trusted
    /// the root key keep trusting it.
    pub root_secret: ByteBuf,
    pub node_secret: ByteBuf,
    pub next_canister_index: u64,
    /// How many subnets (states saved before subnets: 1). Their keys
    /// derive from the two secrets above (`Certifier::with_subnets`).
    #[serde(default = "one")]
    pub subnets: usize,
    /// The next id index of each subnet other than the root that has
    /// created a canister.
    #[serde(default)]
    pub next_subnet_indices: Vec<(usize, u64)>,
    /// Finished ingress messages, so `read_state` still answers for them.
    pub ingress: Vec<SavedIngress>,
    pub canisters: Vec<SavedCanister>,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedIngress {
    pub request_id: ByteBuf,
    pub status: SavedStatus,
    /// The message's `ingress_expiry` (0 in states saved before it was
    /// kept: pruned at the first round).
    #[serde(default)]
    pub expiry_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SavedStatus {
    Replied(ByteBuf),
    Rejected { code: u32, message: String, error_code: Option<String> },
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedCanister {
    pub id: Principal,
    pub controllers: Vec<Principal>,
    pub cycles: u128,
    /// `CanisterStatus::code`: 1 running, 2 stopping, 3 stopped.
    pub status: u32,
    pub generation: u64,
    pub version: u64,
    pub freezing_threshold_secs: u64,
    pub settings: crate::execution::canister::ReportedSettings,
    pub storage_paid_until_ns: u64,
    pub executed_instructions: u64,
    /// Absent in states saved before it was kept.
    #[serde(default)]
    pub ingress_admitted: u64,
    /// The wasm chunk store (`upload_chunk`) is in the file `chunks`.
    pub has_chunks: bool,
    pub module: Option<SavedModule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModule {
    /// SHA-256 of the module as installed; the bytes are `wasm/<hex>`.
    pub wasm_sha256: ByteBuf,
    /// Bytes in the file `heap`.
    pub heap_len: u64,
    pub globals: Vec<SavedValue>,
    pub certified_data: ByteBuf,
    pub global_timer: u64,
    pub stable_pages: u64,
    /// Stable segments with data, each in `stable-<n>`.
    pub stable_segments: Vec<u64>,
}

/// A wasm global's value (floats by their bits).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SavedValue {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
}

impl SavedValue {
    pub fn from_val(v: &wasmtime::Val) -> Option<Self> {
        Some(match v {
            wasmtime::Val::I32(x) => SavedValue::I32(*x),
            wasmtime::Val::I64(x) => SavedValue::I64(*x),
            wasmtime::Val::F32(x) => SavedValue::F32(*x),
            wasmtime::Val::F64(x) => SavedValue::F64(*x),
            wasmtime::Val::V128(x) => SavedValue::V128(x.as_u128()),
            _ => return None,
        })
    }

    pub fn to_val(self) -> wasmtime::Val {
        match self {
            SavedValue::I32(x) => wasmtime::Val::I32(x),
            SavedValue::I64(x) => wasmtime::Val::I64(x),
            SavedValue::F32(x) => wasmtime::Val::F32(x),
            SavedValue::F64(x) => wasmtime::Val::F64(x),
            SavedValue::V128(x) => wasmtime::Val::V128(x.into()),
        }
    }
}

/// The fields every format keeps first and the same: read before the rest.
#[derive(Debug, Deserialize)]
pub struct ManifestHead {
    pub format: u32,
    pub written_by: String,
}

impl ManifestHead {
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        ciborium::from_reader(bytes).map_err(|e| e.to_string())
    }
}

impl Manifest {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Plain data into a Vec: encoding cannot fail.
        ciborium::into_writer(self, &mut out).expect("manifest CBOR encoding");
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        ciborium::from_reader(bytes).map_err(|e| e.to_string())
    }
}
