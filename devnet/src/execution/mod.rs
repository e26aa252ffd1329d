//! Execution layer: canisters, call contexts, the message queue, atomic
//! executions with rollback, timers, heartbeats, cycles and time.

pub mod calls;
pub mod canister;
pub mod clock;
pub mod cycles;
mod devnet;
pub mod faults;
pub mod ids;
mod ingress;
mod install;
mod query;
mod scheduler;
pub mod types;

pub use canister::CanisterStatus;
pub use cycles::FeeModel;
pub use devnet::Devnet;
pub use types::*;
