//! devnet: a local Internet Computer that runs canister wasm with wasmtime
//! and speaks the IC's public HTTP interface, so real clients work unchanged.
//!
//! One module per concern:
//! - `runtime`: wasm loading, instrumentation, the `ic0` System API imports.
//! - `fees`: the cycle fee model, used by `runtime` (System API costs) and
//!   `execution` (charging); it depends on neither.
//! - `execution`: canisters, call contexts, message queue, rollback, timers, cycles.
//! - `types`: rejects, ingress messages and their status, shared by
//!   `execution` and `http`.
//! - `management`: the management canister (`aaaaa-aa`).
//! - `certification`: BLS root key, state tree, certificates, request ids.
//! - `http`: the `/api/v2|v3|v4` endpoints.
//! - `gateway`: the HTTP gateway for `<id>.localhost`.
//! - `persistence`: the state directory (snapshots, autosave).
//! - `subnets`: how many subnets, which canister ids each owns.
//! - `launcher`: what icp-cli needs of its network launcher.
pub mod certification;
pub mod execution;
pub mod fees;
pub mod gateway;
pub mod http;
pub mod launcher;
pub mod management;
pub mod persistence;
pub mod runtime;
pub mod subnets;
pub mod types;

pub use runtime::instance::HeapRollback;

pub use execution::{
    CallCount, CallKind, CallOutcome, CanisterStatus, Devnet, DevnetConfig, DevnetError, Fault, FeeModel,
    IngressMessage, IngressRejected, InstallMode, Reject, RejectCode, RequestStatus, Route,
};
