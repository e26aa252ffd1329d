//! `delete_file`: the directory removes a file, committed or not, with
//! every chunk; their slots are freed for new chunks. The file keeps a
//! tombstone until every upload token for it has expired, so a token
//! issued before the delete cannot store the file again outside the
//! directory's accounting.

use super::{CertChange, key_of, require_directory};
use crate::limits::{TOMBSTONE_TTL_NS, TOMBSTONES_PRUNED_PER_DELETE};
use crate::model::BucketStore;
use candid::Principal;
use depot_api::bucket::DeleteFileOk;
use depot_api::{BucketError, FileId};
use ic_stable_structures::Memory;

pub fn delete_file_impl<M: Memory>(
    store: &mut BucketStore<M>,
    caller: Principal,
    now_ns: u64,
    file_id: &FileId,
) -> Result<(DeleteFileOk, CertChange), BucketError> {
    require_directory(store, caller)?;
    let file = key_of(file_id)?;
    let until_ns = now_ns.saturating_add(TOMBSTONE_TTL_NS);
    let rec = match store.file(&file) {
        // Tombstoned even when no chunk arrived yet (an aborted upload): the
        // directory says the file is gone, so none may arrive later.
        None => {
            store.prune_tombstones(now_ns, TOMBSTONES_PRUNED_PER_DELETE);
            store.put_tombstone(&file, until_ns);
            return Err(BucketError::NotFound);
        }
        Some(rec) if rec.owner != file_id.owner => return Err(BucketError::NotFound),
        Some(rec) => rec,
    };
    store.prune_tombstones(now_ns, TOMBSTONES_PRUNED_PER_DELETE);
    store.put_tombstone(&file, until_ns);
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
