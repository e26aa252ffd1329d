//! Execution layer: canisters, call contexts, the message queue, atomic
//! executions with rollback, timers, heartbeats, cycles and time. The fee
//! model itself is in [`crate::fees`], shared with the runtime.

pub mod calls;
pub mod canister;
pub mod clock;
pub mod counters;
mod devnet;
pub mod faults;
pub mod ids;
mod ingress;
mod install;
mod management_store;
mod query;
mod scheduler;
pub mod types;

/// The fee model lives in [`crate::fees`] (the runtime uses it too).
pub use crate::fees::FeeModel;
pub use canister::CanisterStatus;
pub use counters::{CallCount, CallKind};
pub use devnet::Devnet;
pub use ingress::DONE_STATUS_RETENTION_NS;
pub use types::*;
