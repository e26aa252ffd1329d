//! A rollout of the bucket wasm (`admin_upgrade_buckets`), journaled in
//! stable memory: each bucket's step is written before its call, so a
//! rollout interrupted by a directory upgrade goes on where it stopped
//! (every step's call is idempotent). docs/provisioning.md §5.

use super::storable::cbor_storable;
use candid::Principal;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpgradeStep {
    Stopping,
    Installing,
    Starting,
    /// `canister_status` shows the target module and `stat` answers.
    Checking,
    /// A step failed: the bucket is started again before the rollout
    /// pauses, so it never stays stopped.
    Restarting,
}

impl UpgradeStep {
    pub fn name(self) -> &'static str {
        match self {
            UpgradeStep::Stopping => "stopping",
            UpgradeStep::Installing => "installing",
            UpgradeStep::Starting => "starting",
            UpgradeStep::Checking => "checking",
            UpgradeStep::Restarting => "restarting",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Rollout {
    pub target_sha256: [u8; 32],
    pub started_at_ns: u64,
    pub finished_at_ns: Option<u64>,
    pub batch_size: u32,
    pub canary: Option<Principal>,
    pub canary_done: bool,
    pub total: u64,
    pub upgraded: u64,
    /// Buckets not started yet, in order.
    pub waiting: Vec<Principal>,
    /// The bucket being upgraded, its step, and the error that sent it to
    /// `Restarting`.
    pub current: Option<(Principal, UpgradeStep, Option<String>)>,
    pub failed: Vec<(Principal, String)>,
    pub paused_reason: Option<String>,
}

/// The stable cell's value: no rollout yet, or the last one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct StoredRollout(pub Option<Rollout>);
cbor_storable!(StoredRollout);
