//! Directory signing keys (Ed25519 seeds). The seeds never leave this
//! module's records through any method: only public keys are exposed.
//!
//! A key is, in order: **pending** (published and pushed to buckets, so it
//! verifies, but not signing), **active** (the one key that signs),
//! **retired** (verifies until everything it signed has expired, then
//! dropped). A revoked key's record is removed at once: its seed is gone
//! and it is no longer published. Kids come from `Runtime::last_kid` and
//! are never reused.

use super::storable::cbor_storable;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub seed: [u8; 32],
    pub created_at_ns: u64,
    /// Set when a newer key became active; the key then only verifies.
    pub retired_at_ns: Option<u64>,
    /// Removed from the key set at this time: everything it signed expired.
    pub drop_at_ns: Option<u64>,
    /// `Some(v)`: pending, first published in key set version `v`. It becomes
    /// the active key once every registered bucket accepted a version ≥ `v`
    /// (or an admin forces it). Added later: older records decode as `None`
    /// (not pending), which they were.
    #[serde(default)]
    pub pending_since_version: Option<u64>,
}

impl SigningKeyRecord {
    pub fn is_pending(&self) -> bool {
        self.pending_since_version.is_some()
    }

    /// Signs new tokens and URLs.
    pub fn is_active(&self) -> bool {
        !self.is_pending() && self.retired_at_ns.is_none()
    }
}
cbor_storable!(SigningKeyRecord);

// No Debug with the seed in it: a debug print must never leak a secret.
impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("created_at_ns", &self.created_at_ns)
            .field("retired_at_ns", &self.retired_at_ns)
            .field("drop_at_ns", &self.drop_at_ns)
            .field("pending_since_version", &self.pending_since_version)
            .finish_non_exhaustive()
    }
}
