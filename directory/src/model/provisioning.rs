//! The provisioning journal: one entry per bucket being made, written
//! before each management-canister call and moved on in its reply's
//! message, so an upgrade halfway never loses a canister that was paid for
//! (docs/provisioning.md §2). A registered bucket leaves the journal.

use super::storable::cbor_storable;
use candid::Principal;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvisionStep {
    /// `create_canister` called; no id known yet.
    Creating,
    /// Created (the directory controls it), the wasm not installed yet.
    Created(Principal),
    /// Installed, not registered yet.
    Installed(Principal),
}

impl ProvisionStep {
    pub fn name(self) -> &'static str {
        match self {
            ProvisionStep::Creating => "creating",
            ProvisionStep::Created(_) => "created",
            ProvisionStep::Installed(_) => "installed",
        }
    }

    pub fn bucket(self) -> Option<Principal> {
        match self {
            ProvisionStep::Creating => None,
            ProvisionStep::Created(id) | ProvisionStep::Installed(id) => Some(id),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProvisionEntry {
    pub step: ProvisionStep,
    pub started_at_ns: u64,
    /// When the current step began (a call for it went out).
    pub step_at_ns: u64,
    /// Failed attempts at the current step.
    pub attempts: u32,
    pub last_error: Option<String>,
}
cbor_storable!(ProvisionEntry);
