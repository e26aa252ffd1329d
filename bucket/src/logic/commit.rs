//! `commit_file`, the directory's commit: every chunk present (sizes were
//! checked at put), the declared hash matches. Idempotent once committed.

use super::etag::{etag_text, strong_etag};
use super::hashing::advance_hash;
use super::{CertChange, invalid, key_of, require_directory, unauthorised};
use crate::limits::HASH_BYTES_PER_COMMIT;
use crate::model::BucketStore;
use crate::model::records::{Committed, FileRecord, NewFile};
use candid::Principal;
use depot_api::bucket::{CommitFileArgs, CommitFileOk, EmptyFile};
use depot_api::limits::MAX_CHUNK_SIZE;
use depot_api::{BucketError, FileKey};
use ic_stable_structures::Memory;

pub fn commit_file_impl<M: Memory>(
    store: &mut BucketStore<M>,
    caller: Principal,
    now_ns: u64,
    args: CommitFileArgs,
) -> Result<(CommitFileOk, CertChange), BucketError> {
    require_directory(store, caller)?;
    let file = key_of(&args.file_id)?;
    let stored = store.file(&file);
    let new_file = stored.is_none();
    let mut rec = match (stored, &args.empty_file) {
        (Some(rec), _) => rec,
        (None, Some(empty)) if !store.is_tombstoned(&file, now_ns) => new_empty_record(&args, empty, now_ns)?,
        (None, _) => return Err(BucketError::NotFound),
    };
    if rec.upload_id != args.upload_id || rec.owner != args.file_id.owner {
        return Err(unauthorised("upload id or owner does not match"));
    }
    if let Some(c) = &rec.committed {
        return Ok((commit_ok(&rec, c), CertChange::Unchanged));
    }
    let missing = missing_chunks(store, &file, &rec);
    if !missing.is_empty() {
        return Err(BucketError::UploadIncomplete { missing });
    }
    let mut sha = None;
    if let Some(declared) = rec.declared_sha256 {
        let budget = hash_chunks_per_commit(rec.chunk_size);
        advance_hash(store, &file, &mut rec, budget, None);
        if rec.hashed_chunks + 1 < rec.chunk_count {
            // Progress is kept: the directory calls again in a new message.
            let (hashed_bytes, total_bytes) = (rec.hasher.absorbed(), rec.size_bytes);
            store.put_file(&file, rec);
            return Err(BucketError::HashInProgress { hashed_bytes, total_bytes });
        }
        let last = match rec.chunk_count.checked_sub(1) {
            Some(i) => {
                // What `put_chunk` did not absorb of the last chunk: at most
                // its partial final block when it arrived in line.
                let r = store.chunk_ref(&file, i).expect("all chunks present");
                let start = i as u64 * rec.chunk_size as u64;
                let skip = rec.hasher.absorbed() - start;
                assert!(skip <= r.len as u64, "hash progress beyond the file");
                store.read_chunk_part(&r, skip, r.len as u64 - skip)
            }
            None => Vec::new(), // a 0-byte file: the hash of nothing
        };
        let digest = rec.hasher.clone().finish(&last);
        if digest != declared {
            // Keep the progress made; the directory aborts the upload. (A
            // refused empty file leaves nothing behind.)
            if !new_file {
                store.put_file(&file, rec);
            }
            return Err(BucketError::HashMismatch { expected: declared.to_vec(), actual: digest.to_vec() });
        }
        sha = Some(digest);
    }
    let etag = strong_etag(&store.chunk_hashes(&file));
    let committed = Committed { name: args.name, mime: args.mime, etag, sha256: sha, committed_at_ns: now_ns };
    let ok = commit_ok(&rec, &committed);
    rec.committed = Some(committed);
    let size = rec.size_bytes;
    store.put_file(&file, rec);
    store.update_counters(|c| {
        c.committed_bytes += size;
        c.files += new_file as u64;
    });
    Ok((ok, CertChange::Added(file)))
}

/// Whole chunks that make `HASH_BYTES_PER_COMMIT`, at least one.
pub fn hash_chunks_per_commit(chunk_size: u32) -> u32 {
    (HASH_BYTES_PER_COMMIT / chunk_size.max(1) as u64).clamp(1, u32::MAX as u64) as u32
}

fn missing_chunks<M: Memory>(store: &BucketStore<M>, file: &FileKey, rec: &FileRecord) -> Vec<u32> {
    let mut present = store.chunk_indices(file);
    let mut missing = vec![];
    let mut next = present.next();
    for i in 0..rec.chunk_count {
        if next == Some(i) {
            next = present.next();
        } else {
            missing.push(i);
        }
    }
    missing
}

fn commit_ok(rec: &FileRecord, c: &Committed) -> CommitFileOk {
    CommitFileOk {
        size_bytes: rec.size_bytes,
        sha256: c.sha256.map(|h| serde_bytes::ByteBuf::from(h.to_vec())),
        etag: etag_text(&c.etag),
    }
}

/// The record of a 0-byte file, which no `put_chunk` created. The
/// directory is the only caller, but its arguments are checked as any.
fn new_empty_record(args: &CommitFileArgs, empty: &EmptyFile, now_ns: u64) -> Result<FileRecord, BucketError> {
    if !(1..=MAX_CHUNK_SIZE).contains(&empty.chunk_size) {
        return Err(invalid(format!("chunk size {} out of range", empty.chunk_size)));
    }
    let declared_sha256 = match &empty.sha256 {
        Some(h) => Some(h.as_slice().try_into().map_err(|_| invalid("sha256 must be 32 bytes"))?),
        None => None,
    };
    let new = NewFile {
        owner: args.file_id.owner,
        upload_id: args.upload_id.clone(),
        size_bytes: 0,
        chunk_size: empty.chunk_size,
        chunk_count: 0,
        declared_sha256,
    };
    Ok(FileRecord::new(new, now_ns))
}
