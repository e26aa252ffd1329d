//! Reads through Candid: chunks and their presence for the file's owner
//! and the directory (resume, CLI download), and the bucket's statistics.

use super::{key_of, unauthorised};
use crate::model::BucketStore;
use crate::model::records::FileRecord;
use candid::Principal;
use depot_api::bucket::{BucketStat, ChunkPresence, GetChunkArgs};
use depot_api::{BucketError, FileId, FileKey};
use ic_stable_structures::Memory;

/// Why the owner cannot read a suspended file's chunks.
pub const SUSPENDED_REASON: &str = "the storage of this file is unpaid: add credit (depot deposit) to read it again";

fn readable_record<M: Memory>(
    store: &BucketStore<M>,
    caller: Principal,
    file_id: &FileId,
) -> Result<(FileKey, FileRecord), BucketError> {
    let file = key_of(file_id)?;
    if caller != file_id.owner && caller != store.config().directory {
        return Err(unauthorised("only the owner or the directory may read"));
    }
    match store.file(&file) {
        Some(rec) if rec.owner == file_id.owner => Ok((file, rec)),
        _ => Err(BucketError::NotFound),
    }
}

pub fn get_chunk_impl<M: Memory>(
    store: &BucketStore<M>,
    caller: Principal,
    args: &GetChunkArgs,
) -> Result<Vec<u8>, BucketError> {
    let (file, rec) = readable_record(store, caller, &args.file_id)?;
    if rec.suspended && caller != store.config().directory {
        return Err(unauthorised(SUSPENDED_REASON));
    }
    let r = store.chunk_ref(&file, args.chunk_index).ok_or(BucketError::NotFound)?;
    Ok(store.read_chunk(&r))
}

pub fn list_chunks_impl<M: Memory>(
    store: &BucketStore<M>,
    caller: Principal,
    file_id: &FileId,
) -> Result<ChunkPresence, BucketError> {
    let (file, rec) = readable_record(store, caller, file_id)?;
    Ok(ChunkPresence {
        chunk_count: rec.chunk_count,
        size_bytes: rec.size_bytes,
        stored_bytes: rec.stored_bytes,
        present: store.chunk_indices(&file).collect(),
        committed: rec.committed.is_some(),
    })
}

pub fn stat_impl<M: Memory>(store: &BucketStore<M>, stable_memory_bytes: u64, certified_responses: u64) -> BucketStat {
    let c = store.counters();
    let cfg = store.config();
    BucketStat {
        used_bytes: c.used_bytes,
        committed_bytes: c.committed_bytes,
        allocated_bytes: c.allocated_bytes,
        capacity_bytes: cfg.capacity_bytes,
        free_bytes: cfg.capacity_bytes.saturating_sub(c.used_bytes),
        stable_memory_bytes,
        files_count: c.files,
        chunks_count: c.chunks,
        certified_responses,
        read_only: cfg.read_only,
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}
