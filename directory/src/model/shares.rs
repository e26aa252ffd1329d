//! Share records: `shares` by share id (MemoryId 18) and an owner index in
//! creation order (`ListKey(owner, created_at_ns, share id)`, MemoryId 19)
//! for `list_shares` and the per-user cap.

use super::storable::cbor_storable;
use candid::Principal;
use depot_api::ids::ID_BYTES;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ShareRecord {
    pub owner: Principal,
    /// The shared file's key (its owner is `owner`).
    pub file: [u8; ID_BYTES],
    pub created_at_ns: u64,
    pub expires_at_ns: Option<u64>,
    pub download_only: bool,
    pub max_uses: Option<u32>,
    pub uses: u32,
    /// The `resolve_share` rate window: its start and the calls inside it.
    pub window_start_ns: u64,
    pub window_calls: u32,
}
cbor_storable!(ShareRecord);

impl ShareRecord {
    /// Why the share no longer resolves (expired, uses spent), if so.
    pub fn gone(&self, now_ns: u64) -> Option<&'static str> {
        if self.expires_at_ns.is_some_and(|t| now_ns >= t) {
            return Some("the share expired");
        }
        if self.max_uses.is_some_and(|m| self.uses >= m) {
            return Some("the share's uses are spent");
        }
        None
    }
}
