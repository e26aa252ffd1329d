//! `delete_file`: the directory removes a file, committed or not, with
//! every chunk; their slots are freed for new chunks.

use super::{CertChange, key_of, require_directory};
use crate::model::BucketStore;
use candid::Principal;
use depot_api::bucket::DeleteFileOk;
use depot_api::{BucketError, FileId};
use ic_stable_structures::Memory;

pub fn delete_file_impl<M: Memory>(
    store: &mut BucketStore<M>,
    caller: Principal,
    file_id: &FileId,
) -> Result<(DeleteFileOk, CertChange), BucketError> {
    require_directory(store, caller)?;
    let file = key_of(file_id)?;
    let rec = store.file(&file).ok_or(BucketError::NotFound)?;
    if rec.owner != file_id.owner {
        return Err(BucketError::NotFound);
    }
    let change = match store.file_view(&file) {
        Some(view) => CertChange::Removed(view),
        None => CertChange::Unchanged,
    };
    let freed = store.remove_chunks(&file);
    store.remove_file_record(&file);
    let committed = rec.committed.is_some();
    store.update_counters(|c| {
        c.used_bytes -= freed.bytes;
        c.allocated_bytes -= freed.slot_bytes;
        c.chunks -= freed.chunks;
        c.files -= 1;
        if committed {
            c.committed_bytes -= rec.size_bytes;
        }
    });
    Ok((DeleteFileOk { freed_bytes: freed.bytes }, change))
}
