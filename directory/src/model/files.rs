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
    /// The bucket confirmed the file is held back for non-payment
    /// (`logic::suspension`). Added later: older records decode as served.
    #[serde(default)]
    pub suspended: bool,
}
cbor_storable!(FileRecord);

#[cfg(test)]
mod tests {
    use super::*;
    use candid::Principal;
    use depot_api::directory::FileStatus;
    use depot_api::{FileId, FileKey};
    use ic_stable_structures::Storable;
    use serde_bytes::ByteBuf;
    use std::borrow::Cow;

    /// `FileRecord` as stored before `retention_days` was removed.
    #[derive(Serialize)]
    struct FileRecordWithRetention {
        meta: FileMeta,
        upload_id: Option<[u8; ID_BYTES]>,
        retention_days: Option<u32>,
    }

    #[test]
    fn a_record_stored_with_retention_days_still_decodes() {
        let meta = FileMeta {
            file_id: FileId::new(Principal::from_slice(&[7; 29]), FileKey([3; ID_BYTES])),
            name: "a.txt".into(),
            mime: "text/plain".into(),
            size_bytes: 5,
            chunk_size: 1 << 20,
            chunk_count: 1,
            created_at_ns: 11,
            updated_at_ns: 12,
            status: FileStatus::Pending,
            sha256: Some(ByteBuf::from(vec![9; 32])),
            bucket: Principal::from_slice(&[1; 10]),
            delete_at_ns: None,
        };
        for retention_days in [Some(30), None] {
            let old = FileRecordWithRetention { meta: meta.clone(), upload_id: Some([4; ID_BYTES]), retention_days };
            let bytes = super::super::storable::cbor_encode(&old);
            let record = FileRecord::from_bytes(Cow::Owned(bytes));
            assert_eq!(record, FileRecord { meta: meta.clone(), upload_id: Some([4; ID_BYTES]), suspended: false });
        }
    }
}
