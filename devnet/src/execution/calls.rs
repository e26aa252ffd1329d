//! Call contexts, callbacks and messages.

use candid::Principal;

use super::types::Reject;
use crate::runtime::context::OutgoingCall;

pub type CallContextId = u64;
pub type CallbackId = u64;

/// Where the answer of a call context goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Ingress([u8; 32]),
    /// A call made through the library API (`Devnet::update`).
    Library(u64),
    /// A call made by a canister; the answer runs this callback.
    Canister(CallbackId),
    /// Heartbeat and global timer: nobody waits for an answer.
    System,
}

pub struct CallContext {
    pub canister: Principal,
    pub origin: Origin,
    pub caller: Principal,
    pub method: String,
    /// Cycles attached by the caller and not accepted yet.
    pub cycles: u128,
    pub responded: bool,
    /// Calls made from this context still waiting for their response.
    pub outstanding: usize,
    pub instructions: u64,
    /// Callbacks of this context must not run (the canister was reinstalled).
    pub deleted: bool,
}

pub struct Callback {
    pub canister: Principal,
    pub context: CallContextId,
    pub call: OutgoingCall,
    pub generation: u64,
}

pub enum Message {
    Request { caller: Principal, callee: Principal, method: String, arg: Vec<u8>, cycles: u128, origin: Origin },
    Response { callback: CallbackId, result: Result<Vec<u8>, Reject>, refund: u128 },
}
