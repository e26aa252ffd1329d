//! The queue of bucket-side deletions (deleted files, aborted or expired
//! uploads), retried by `jobs::reconcile` until the bucket confirms.

use super::storable::cbor_storable;
use candid::Principal;
use depot_api::FileId;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteReason {
    /// A Ready file deleted by its owner: its tombstone is purged once the
    /// bucket confirms.
    FileDeleted,
    /// Partial chunks of an upload that was aborted, expired or failed its
    /// hash check.
    UploadAborted,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PendingDelete {
    pub file_id: FileId,
    pub bucket: Principal,
    pub reason: DeleteReason,
    pub attempts: u32,
    pub enqueued_at_ns: u64,
    pub last_error: Option<String>,
    /// For an aborted upload: upload tokens issued for it stay valid until
    /// this time, so chunks may still arrive after the first deletion. A
    /// confirmed deletion before then is repeated once at this time.
    #[serde(default)]
    pub sweep_again_at_ns: Option<u64>,
}
cbor_storable!(PendingDelete);
