//! Upload sessions: one per upload in progress, from `start_upload` until
//! commit, abort or expiry.

use super::storable::cbor_storable;
use crate::model::billing::Reservation;
use candid::Principal;
use depot_api::FileId;
use depot_api::FileKey;
use depot_api::ids::ID_BYTES;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Chunks may be uploaded; commit and abort are allowed.
    Pending,
    /// `commit_upload` is waiting for the bucket: a second commit, an abort
    /// or a delete is refused and the reaper leaves the session alone, until
    /// the commit is stale (`COMMIT_STALE_SECS`; the one rule is
    /// `logic::commit::commit_in_flight`): then it counts as Pending again.
    Committing { since_ns: u64 },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct UploadSession {
    pub upload_id: [u8; ID_BYTES],
    pub owner: Principal,
    pub file_key: [u8; ID_BYTES],
    pub bucket: Principal,
    pub chunk_size: u32,
    pub size_bytes: u64,
    pub chunk_count: u32,
    pub sha256: Option<[u8; 32]>,
    pub created_at_ns: u64,
    pub expires_at_ns: u64,
    pub state: SessionState,
    /// Bit i set: the client reported chunk i stored (progress only; the
    /// bucket decides at commit).
    #[serde(with = "serde_bytes")]
    pub uploaded: Vec<u8>,
    /// The billing reservation made at start; settled at commit, released
    /// otherwise (see `billing` and `logic::accounting`).
    pub reservation: Reservation,
    /// Upload tokens issued for this session so far, against the
    /// `max_tokens_per_upload` setting. Added later: older sessions decode
    /// with 0.
    #[serde(default)]
    pub tokens_issued: u32,
}
cbor_storable!(UploadSession);

impl UploadSession {
    pub fn file_id(&self) -> FileId {
        FileId::new(self.owner, FileKey(self.file_key))
    }

    pub fn is_expired(&self, now_ns: u64) -> bool {
        now_ns >= self.expires_at_ns
    }

    pub fn empty_bitmap(chunk_count: u32) -> Vec<u8> {
        vec![0; (chunk_count as usize).div_ceil(8)]
    }

    pub fn mark(&mut self, index: u32) {
        self.uploaded[index as usize / 8] |= 1 << (index % 8);
    }

    pub fn uploaded_indices(&self) -> Vec<u32> {
        (0..self.chunk_count).filter(|i| self.uploaded[*i as usize / 8] & (1 << (i % 8)) != 0).collect()
    }
}
