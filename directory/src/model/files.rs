//! File records. The map key (`ListKey`) orders one owner's files by
//! creation; a second map indexes the file key to that position. Records
//! are stored without what the key holds (`file_codec::StoredFile`); the
//! table below gives them back whole.

use super::file_codec::StoredFile;
use super::storable::ListKey;
use depot_api::directory::FileMeta;
use depot_api::ids::ID_BYTES;
use ic_stable_structures::{Memory, StableBTreeMap};
use serde::{Deserialize, Serialize};
use std::ops::RangeBounds;

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

/// The files map, `ListKey → FileRecord`, stored compactly.
pub struct FileTable<M: Memory> {
    map: StableBTreeMap<ListKey, StoredFile, M>,
}

impl<M: Memory> FileTable<M> {
    pub fn init(memory: M) -> Self {
        Self { map: StableBTreeMap::init(memory) }
    }

    pub fn get(&self, key: &ListKey) -> Option<FileRecord> {
        self.map.get(key).map(|f| f.into_record(key))
    }

    /// Stores `record` at `key`, which must be its own (owner, creation
    /// time and file key are kept only in the key).
    pub fn insert(&mut self, key: ListKey, record: FileRecord) -> Option<FileRecord> {
        assert!(
            record.meta.file_id.owner == key.owner()
                && record.meta.file_id.key() == Some(key.file)
                && record.meta.created_at_ns == key.created_at_ns,
            "a file record is stored under its own key"
        );
        self.map.insert(key, StoredFile::from_record(record)).map(|f| f.into_record(&key))
    }

    pub fn remove(&mut self, key: &ListKey) -> Option<FileRecord> {
        self.map.remove(key).map(|f| f.into_record(key))
    }

    pub fn contains_key(&self, key: &ListKey) -> bool {
        self.map.contains_key(key)
    }

    pub fn len(&self) -> u64 {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Records in key order within `range`.
    pub fn range(&self, range: impl RangeBounds<ListKey>) -> impl Iterator<Item = (ListKey, FileRecord)> + '_ {
        self.map.range(range).map(|e| {
            let (k, v) = e.into_pair();
            (k, v.into_record(&k))
        })
    }

    pub fn values(&self) -> impl Iterator<Item = FileRecord> + '_ {
        self.range(..).map(|(_, r)| r)
    }
}

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
            let key = ListKey::new(meta.file_id.owner, meta.created_at_ns, meta.file_id.key().unwrap());
            let record = StoredFile::from_bytes(Cow::Owned(bytes)).into_record(&key);
            assert_eq!(record, FileRecord { meta: meta.clone(), upload_id: Some([4; ID_BYTES]), suspended: false });
        }
    }
}
