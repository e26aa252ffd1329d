//! What the HTTP interface needs from the replicated state machine.
//!
//! The HTTP layer speaks to this trait, not to `Devnet` directly: it keeps
//! the wire protocol testable on its own and confines the mapping to the
//! execution layer's types to one adapter (`devnet_backend.rs`).

use candid::Principal;

use crate::certification::{Certifier, RequestId};

/// An authenticated ingress message, ready for execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    pub request_id: RequestId,
    pub sender: Principal,
    pub canister_id: Principal,
    pub method_name: String,
    pub arg: Vec<u8>,
    pub ingress_expiry: u64,
    pub nonce: Option<Vec<u8>>,
}

/// A reject as the interface spec reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Reject code (1 = SYS_FATAL … 5 = CANISTER_ERROR, 6 = SYS_UNKNOWN).
    pub code: u64,
    pub message: String,
    /// The replica's error code such as `IC0503`, when there is one.
    pub error_code: Option<String>,
}

impl Reject {
    pub fn destination_invalid(message: impl Into<String>) -> Self {
        Self { code: 3, message: message.into(), error_code: Some("IC0301".into()) }
    }
}

/// Where an ingress message stands (`/request_status/<id>/status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngressStatus {
    Received,
    Processing,
    Replied(Vec<u8>),
    Rejected(Reject),
    /// The reply was pruned after the message expired.
    Done,
}

/// The state machine behind the HTTP interface. Calls happen under a lock,
/// one at a time, on a blocking thread.
pub trait Backend: Send + 'static {
    /// The key that signs this network's certificates.
    fn certifier(&self) -> &Certifier;
    /// Current (consensus) time in nanoseconds since the epoch.
    fn time_ns(&self) -> u64;
    /// Enqueues an ingress message. An `Err` is a non-replicated rejection
    /// (e.g. no such canister, refused by `canister_inspect_message`).
    fn submit_ingress(&mut self, ingress: Ingress) -> Result<(), Reject>;
    fn request_status(&self, request_id: &RequestId) -> Option<IngressStatus>;
    /// Executes a non-replicated query call.
    fn query(&mut self, sender: Principal, canister: Principal, method: &str, arg: &[u8]) -> Result<Vec<u8>, Reject>;
    /// Runs queued messages and due timers.
    fn tick(&mut self);
    fn canister_exists(&self, canister: Principal) -> bool;
    fn certified_data(&self, canister: Principal) -> Option<Vec<u8>>;
    fn module_hash(&self, canister: Principal) -> Option<[u8; 32]>;
    fn controllers(&self, canister: Principal) -> Option<Vec<Principal>>;
    /// Custom section `icp:public <name>` / `icp:private <name>`: (public, bytes).
    fn metadata(&self, canister: Principal, name: &str) -> Option<(bool, Vec<u8>)>;
}
