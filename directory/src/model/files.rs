//! File records. The map key (`ListKey`) orders one owner's files by
//! creation; a second map indexes the file key to that position.

use super::storable::cbor_storable;
use depot_api::directory::FileMeta;
use depot_api::ids::ID_BYTES;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    pub meta: FileMeta,
    /// The upload session while the file is Pending.
    pub upload_id: Option<[u8; ID_BYTES]>,
    /// As requested at start; stored for the retention issue, not enforced.
    pub retention_days: Option<u32>,
}
cbor_storable!(FileRecord);
