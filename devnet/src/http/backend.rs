//! What the HTTP interface needs from the replicated state machine.
//!
//! The HTTP layer speaks to this trait, not to `Devnet` directly: it keeps
//! the wire protocol testable on its own (tests plug in a scripted backend).
//! Messages, rejects and statuses are the shared types of [`crate::types`];
//! the implementation for `Devnet` is in `devnet_backend.rs`.

use candid::Principal;

use crate::certification::{Certifier, RequestId};
use crate::execution::CallCount;
use crate::types::{IngressMessage, Reject, RequestStatus};

/// The state machine behind the HTTP interface. Calls happen under a lock,
/// one at a time, on a blocking thread.
pub trait Backend: Send + 'static {
    /// The key that signs this network's certificates.
    fn certifier(&self) -> &Certifier;
    /// Current (consensus) time in nanoseconds since the epoch.
    fn time_ns(&self) -> u64;
    /// Enqueues an ingress message. An `Err` is a non-replicated rejection
    /// (e.g. no such canister, refused by `canister_inspect_message`).
    fn submit_ingress(&mut self, ingress: IngressMessage) -> Result<(), Reject>;
    fn request_status(&self, request_id: &RequestId) -> Option<RequestStatus>;
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
    /// Messages executed per canister, method and kind (`GET /_/devnet/calls`).
    /// A backend that executes nothing (a scripted test double) has none.
    fn call_counts(&self) -> Vec<CallCount> {
        Vec::new()
    }
}
