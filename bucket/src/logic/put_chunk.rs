//! `put_chunk`: checks the token, the index and the exact size, then stores
//! the bytes once. The same bytes again succeed; other bytes for a stored
//! chunk are refused.

use super::hashing::advance_hash;
use super::{invalid, key_of, unauthorised};
use crate::limits::HASH_CHUNKS_PER_PUT;
use crate::model::BucketStore;
use crate::model::records::{FileRecord, NewFile};
use crate::model::slab::slot_size;
use candid::Principal;
use depot_api::bucket::{PutChunkArgsRef, PutChunkOk};
use depot_api::limits::MAX_CHUNK_SIZE;
use depot_api::token::{TokenError, UploadToken};
use depot_api::{BucketError, FileKey};
use ic_stable_structures::Memory;
use sha2::{Digest, Sha256};

pub fn put_chunk_impl<M: Memory>(
    store: &mut BucketStore<M>,
    this_bucket: Principal,
    caller: Principal,
    now_ns: u64,
    args: PutChunkArgsRef<'_>,
) -> Result<PutChunkOk, BucketError> {
    let PutChunkArgsRef { token, chunk_index, bytes } = args;
    let Admitted { file, mut rec, new_file, expected } =
        admit(store, this_bucket, caller, now_ns, &token, chunk_index, bytes.len() as u64)?;
    // The chunk next in line for the whole-file hash is absorbed in the
    // pass that computes its own digest (the last chunk's whole blocks too,
    // leaving commit at most 63 bytes). A chunk ahead of the line is hashed
    // alone and absorbed later, by `advance_hash`.
    let in_line = rec.declared_sha256.is_some() && rec.hashed_chunks == chunk_index;
    let hash: [u8; 32] = if in_line { rec.hasher.absorb_and_digest(bytes) } else { Sha256::digest(bytes).into() };
    let ok = PutChunkOk { stored_bytes: bytes.len() as u32, etag: hash.to_vec() };
    if let Some(existing) = store.chunk_ref(&file, chunk_index) {
        // `rec` (absorbed or not) is dropped: nothing is written.
        return if existing.sha256 == hash { Ok(ok) } else { Err(BucketError::ChunkConflict { index: chunk_index }) };
    }
    check_room(store, &rec, expected)?;
    let stored = store
        .store_chunk(&file, chunk_index, bytes, hash)
        .map_err(|_| BucketError::OutOfSpace { needed: expected, available: 0 })?;
    rec.stored_chunks += 1;
    rec.stored_bytes += expected;
    if rec.declared_sha256.is_some() {
        let fresh = if in_line {
            if chunk_index + 1 < rec.chunk_count {
                rec.hashed_chunks += 1;
            }
            None
        } else {
            Some((chunk_index, bytes))
        };
        advance_hash(store, &file, &mut rec, HASH_CHUNKS_PER_PUT + 1, fresh);
    }
    store.put_file(&file, rec);
    store.update_counters(|c| {
        c.used_bytes += expected;
        c.allocated_bytes += slot_size(stored.class);
        c.chunks += 1;
        c.files += new_file as u64;
    });
    Ok(ok)
}

/// The checks `inspect_message` runs before a `put_chunk` message is
/// accepted (and its ingress paid for by the bucket): everything
/// `put_chunk_impl` checks except hashing the bytes, and a chunk already
/// stored is refused outright, so a token holder cannot make the bucket
/// pay for the same chunk again and again. A client whose reply was lost
/// learns from `list_chunks` that the chunk is stored.
pub fn inspect_put_chunk<M: Memory>(
    store: &BucketStore<M>,
    this_bucket: Principal,
    caller: Principal,
    now_ns: u64,
    args: &PutChunkArgsRef<'_>,
) -> Result<(), BucketError> {
    let Admitted { file, rec, expected, .. } =
        admit(store, this_bucket, caller, now_ns, &args.token, args.chunk_index, args.bytes.len() as u64)?;
    if store.chunk_ref(&file, args.chunk_index).is_some() {
        return Err(invalid(format!("chunk {} is already stored", args.chunk_index)));
    }
    check_room(store, &rec, expected)
}

/// A chunk that passed every check that needs no hashing.
struct Admitted {
    file: FileKey,
    rec: FileRecord,
    new_file: bool,
    expected: u64,
}

fn admit<M: Memory>(
    store: &BucketStore<M>,
    this_bucket: Principal,
    caller: Principal,
    now_ns: u64,
    token: &UploadToken,
    chunk_index: u32,
    len: u64,
) -> Result<Admitted, BucketError> {
    check_token(store, this_bucket, caller, now_ns, token, chunk_index, len)?;
    let file = key_of(&token.file_id)?;
    if store.is_tombstoned(&file, now_ns) {
        return Err(unauthorised("this file was deleted or its upload aborted"));
    }
    let stored = store.file(&file);
    let new_file = stored.is_none();
    let rec = match stored {
        Some(rec) if !token_matches(token, &rec) => {
            return Err(unauthorised("token does not match this file's upload"));
        }
        Some(rec) => rec,
        None => new_record(token, now_ns),
    };
    let expected = rec.expected_chunk_len(chunk_index);
    if len != expected {
        return Err(BucketError::ChunkSizeMismatch { index: chunk_index, expected, actual: len });
    }
    Ok(Admitted { file, rec, new_file, expected })
}

/// A new chunk may be stored: the file is not committed and the bucket
/// has room for it.
fn check_room<M: Memory>(store: &BucketStore<M>, rec: &FileRecord, expected: u64) -> Result<(), BucketError> {
    if rec.committed.is_some() {
        // Every chunk of a committed file is present, so this is unreachable
        // for a consistent store; refuse rather than grow a committed file.
        return Err(BucketError::AlreadyCommitted);
    }
    let used = store.counters().used_bytes;
    let capacity = store.config().capacity_bytes;
    if used + expected > capacity {
        return Err(BucketError::OutOfSpace { needed: expected, available: capacity.saturating_sub(used) });
    }
    Ok(())
}

/// Everything the token alone decides: signature, expiry, bucket, caller,
/// index range, chunk size.
fn check_token<M: Memory>(
    store: &BucketStore<M>,
    this_bucket: Principal,
    caller: Principal,
    now_ns: u64,
    token: &UploadToken,
    chunk_index: u32,
    len: u64,
) -> Result<(), BucketError> {
    if store.config().read_only {
        return Err(BucketError::ReadOnly);
    }
    token.verify(store.config().ring(), this_bucket, now_ns).map_err(|e| match e {
        TokenError::Expired => BucketError::TokenExpired,
        other => unauthorised(other.to_string()),
    })?;
    // A token is bound to the file's owner: a leaked token is useless to
    // anyone else.
    if caller != token.file_id.owner {
        return Err(unauthorised("caller is not the file's owner"));
    }
    if chunk_index < token.first_chunk || chunk_index > token.last_chunk {
        return Err(BucketError::ChunkNotAllowed {
            index: chunk_index,
            first: token.first_chunk,
            last: token.last_chunk,
        });
    }
    if token.chunk_size > MAX_CHUNK_SIZE || !token.chunk_size.is_multiple_of(64) {
        return Err(invalid("unsupported chunk size"));
    }
    if len > token.chunk_size as u64 {
        return Err(BucketError::ChunkTooLarge { size: len, max: token.chunk_size as u64 });
    }
    Ok(())
}

/// A token for a file already begun must describe the same upload.
fn token_matches(token: &UploadToken, rec: &FileRecord) -> bool {
    rec.upload_id == token.upload_id
        && rec.owner == token.file_id.owner
        && rec.size_bytes == token.size_bytes
        && rec.chunk_size == token.chunk_size
        && rec.declared_sha256.map(|h| h.to_vec()) == token.sha256.as_ref().map(|h| h.to_vec())
}

fn new_record(token: &UploadToken, now_ns: u64) -> FileRecord {
    let new = NewFile {
        owner: token.file_id.owner,
        upload_id: token.upload_id.clone(),
        size_bytes: token.size_bytes,
        chunk_size: token.chunk_size,
        chunk_count: token.chunk_count,
        declared_sha256: token.sha256.as_ref().map(|h| h.as_slice().try_into().expect("token checked: 32 bytes")),
    };
    FileRecord::new(new, now_ns)
}
