//! Directory signing keys (Ed25519 seeds). The seeds never leave this
//! module's records through any method: only public keys are exposed.

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
}
cbor_storable!(SigningKeyRecord);

// No Debug with the seed in it: a debug print must never leak a secret.
impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("created_at_ns", &self.created_at_ns)
            .field("retired_at_ns", &self.retired_at_ns)
            .field("drop_at_ns", &self.drop_at_ns)
            .finish_non_exhaustive()
    }
}
