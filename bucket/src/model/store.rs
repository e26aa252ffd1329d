//! The bucket's rules: chunks in, files committed, deleted and read.

use super::memory::{self, Mem};
use super::records::{ChunkRef, Committed, Config, Counters, FileRecord, chunk_key};
use super::sha256_stream::StreamingSha256;
use super::slab::{Slab, slot_size};
use crate::limits::{HASH_CHUNKS_PER_COMMIT, HASH_CHUNKS_PER_PUT};
use candid::Principal;
use depot_api::bucket::*;
use depot_api::keys::PublicKeyInfo;
use depot_api::limits::MAX_CHUNK_SIZE;
use depot_api::token::TokenError;
use depot_api::{BucketError, FileId, FileKey};
use ic_stable_structures::memory_manager::MemoryManager;
use ic_stable_structures::{Memory, StableBTreeMap, StableCell};
use sha2::{Digest, Sha256};

pub struct BucketStore<M: Memory> {
    config: StableCell<Config, Mem<M>>,
    counters: StableCell<Counters, Mem<M>>,
    files: StableBTreeMap<[u8; 16], FileRecord, Mem<M>>,
    chunks: StableBTreeMap<[u8; 20], ChunkRef, Mem<M>>,
    slab: Slab<Mem<M>, Mem<M>>,
    /// Kept to hand out virtual memories; also reports total stable size.
    _manager: MemoryManager<M>,
}

fn unauthorised(reason: impl Into<String>) -> BucketError {
    BucketError::Unauthorised { reason: reason.into() }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn key_of(file_id: &FileId) -> Result<[u8; 16], BucketError> {
    file_id.key().map(|k| k.0).ok_or_else(|| BucketError::InvalidRequest { reason: "file id must be 16 bytes".into() })
}

impl<M: Memory> BucketStore<M> {
    /// Opens (or creates) the store on a raw stable memory.
    pub fn init(raw: M) -> Self {
        let mm = memory::manager(raw);
        Self {
            config: StableCell::init(mm.get(memory::CONFIG), Config::default()),
            counters: StableCell::init(mm.get(memory::COUNTERS), Counters::default()),
            files: StableBTreeMap::init(mm.get(memory::FILES)),
            chunks: StableBTreeMap::init(mm.get(memory::CHUNKS)),
            slab: Slab::init(mm.get(memory::CHUNK_DATA), mm.get(memory::FREE_SLOTS)),
            _manager: mm,
        }
    }

    pub fn config(&self) -> &Config {
        self.config.get()
    }

    pub fn set_config(&mut self, c: Config) {
        self.config.set(c);
    }

    fn require_directory(&self, caller: Principal) -> Result<(), BucketError> {
        if caller != self.config().directory {
            return Err(unauthorised("only the directory may call this"));
        }
        Ok(())
    }

    pub fn set_keys(&mut self, caller: Principal, keys: Vec<PublicKeyInfo>) -> Result<(), BucketError> {
        self.require_directory(caller)?;
        if keys.iter().any(|k| k.key.len() != depot_api::keys::PUBLIC_KEY_BYTES) {
            return Err(BucketError::InvalidRequest { reason: "public keys are 32 bytes".into() });
        }
        let mut c = self.config().clone();
        c.keys = keys;
        self.config.set(c);
        Ok(())
    }

    pub fn set_read_only(&mut self, caller: Principal, read_only: bool) -> Result<(), BucketError> {
        self.require_directory(caller)?;
        let mut c = self.config().clone();
        c.read_only = read_only;
        self.config.set(c);
        Ok(())
    }

    pub fn counters(&self) -> Counters {
        *self.counters.get()
    }

    fn update_counters(&mut self, f: impl FnOnce(&mut Counters)) {
        let mut c = *self.counters.get();
        f(&mut c);
        self.counters.set(c);
    }

    pub fn file(&self, key: &FileKey) -> Option<FileRecord> {
        self.files.get(&key.0)
    }

    pub fn chunk_ref(&self, key: &FileKey, index: u32) -> Option<ChunkRef> {
        self.chunks.get(&chunk_key(&key.0, index))
    }

    /// Chunk hashes of a file in index order (missing chunks are skipped).
    pub fn chunk_hashes(&self, key: &FileKey) -> Vec<[u8; 32]> {
        self.chunks.range(chunk_key(&key.0, 0)..=chunk_key(&key.0, u32::MAX)).map(|e| e.value().sha256).collect()
    }

    /// Committed files in key order, starting after `after` (all when `None`).
    pub fn committed_files_after(&self, after: Option<FileKey>) -> impl Iterator<Item = (FileKey, FileRecord)> + '_ {
        use std::ops::Bound::{Excluded, Unbounded};
        let start = after.map_or(Unbounded, |k| Excluded(k.0));
        self.files.range((start, Unbounded)).filter_map(|e| {
            let (k, v) = e.into_pair();
            v.committed.is_some().then_some((FileKey(k), v))
        })
    }

    /// Bytes `offset..offset+len` of one stored chunk.
    pub fn read_chunk_part(&self, r: &ChunkRef, offset: u64, len: u64) -> Vec<u8> {
        debug_assert!(offset + len <= r.len as u64);
        let mut buf = vec![0u8; len as usize];
        self.slab.read(r.offset + offset, &mut buf);
        buf
    }

    pub fn read_chunk(&self, r: &ChunkRef) -> Vec<u8> {
        self.read_chunk_part(r, 0, r.len as u64)
    }

    /// `put_chunk` (spec §7.3): checks the token, the index and the exact
    /// size, then stores the bytes once. Same bytes again succeed; other
    /// bytes for a stored chunk are refused.
    pub fn put_chunk(
        &mut self,
        this_bucket: Principal,
        caller: Principal,
        args: PutChunkArgs,
        now_ns: u64,
    ) -> Result<PutChunkOk, BucketError> {
        let PutChunkArgs { token, chunk_index, bytes } = args;
        if self.config().read_only {
            return Err(BucketError::ReadOnly);
        }
        token.verify(&self.config().keys, this_bucket, now_ns).map_err(|e| match e {
            TokenError::Expired => BucketError::TokenExpired,
            other => unauthorised(other.to_string()),
        })?;
        // A token is bound to the file's owner: a leaked token is useless
        // to anyone else.
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
        if token.chunk_size > MAX_CHUNK_SIZE || token.chunk_size % 64 != 0 {
            return Err(BucketError::InvalidRequest { reason: "unsupported chunk size".into() });
        }
        if bytes.len() as u64 > token.chunk_size as u64 {
            return Err(BucketError::ChunkTooLarge { size: bytes.len() as u64, max: token.chunk_size as u64 });
        }
        let file = key_of(&token.file_id)?;
        let stored = self.files.get(&file);
        let new_file = stored.is_none();
        let mut rec = match stored {
            Some(rec) => {
                if rec.upload_id != token.upload_id
                    || rec.owner != token.file_id.owner
                    || rec.size_bytes != token.size_bytes
                    || rec.chunk_size != token.chunk_size
                    || rec.declared_sha256.map(|h| h.to_vec()) != token.sha256.as_ref().map(|h| h.to_vec())
                {
                    return Err(unauthorised("token does not match this file's upload"));
                }
                rec
            }
            None => FileRecord {
                owner: token.file_id.owner,
                upload_id: token.upload_id.clone(),
                size_bytes: token.size_bytes,
                chunk_size: token.chunk_size,
                chunk_count: token.chunk_count,
                declared_sha256: token.sha256.as_ref().map(|h| h.as_slice().try_into().expect("checked 32 bytes")),
                hasher: StreamingSha256::default(),
                hashed_chunks: 0,
                stored_chunks: 0,
                stored_bytes: 0,
                created_at_ns: now_ns,
                committed: None,
            },
        };
        let expected = rec.expected_chunk_len(chunk_index);
        if bytes.len() as u64 != expected {
            return Err(BucketError::ChunkSizeMismatch { index: chunk_index, expected, actual: bytes.len() as u64 });
        }
        let hash = sha256(&bytes);
        let ok = PutChunkOk { stored_bytes: bytes.len() as u32, etag: hash.to_vec() };
        let ckey = chunk_key(&file, chunk_index);
        if let Some(existing) = self.chunks.get(&ckey) {
            return if existing.sha256 == hash {
                Ok(ok)
            } else {
                Err(BucketError::ChunkConflict { index: chunk_index })
            };
        }
        if rec.committed.is_some() {
            // Every chunk of a committed file is present, so this is unreachable
            // for a consistent store; refuse rather than grow a committed file.
            return Err(BucketError::AlreadyCommitted);
        }
        let counters = self.counters();
        let capacity = self.config().capacity_bytes;
        if counters.used_bytes + expected > capacity {
            return Err(BucketError::OutOfSpace {
                needed: expected,
                available: capacity.saturating_sub(counters.used_bytes),
            });
        }
        let (offset, class) =
            self.slab.allocate(expected).map_err(|_| BucketError::OutOfSpace { needed: expected, available: 0 })?;
        self.slab.write(offset, &bytes);
        self.chunks.insert(ckey, ChunkRef { offset, len: expected as u32, class, sha256: hash });
        rec.stored_chunks += 1;
        rec.stored_bytes += expected;
        if rec.declared_sha256.is_some() {
            self.advance_hash(&file, &mut rec, HASH_CHUNKS_PER_PUT + 1, Some((chunk_index, &bytes)));
        }
        self.files.insert(file, rec);
        self.update_counters(|c| {
            c.used_bytes += expected;
            c.allocated_bytes += slot_size(class);
            c.chunks += 1;
            c.files += new_file as u64;
        });
        Ok(ok)
    }

    /// Absorbs present, contiguous, non-last chunks into the whole-file
    /// hash, at most `budget` of them. `fresh` avoids re-reading the chunk
    /// this message just wrote.
    fn advance_hash(&self, file: &[u8; 16], rec: &mut FileRecord, budget: u32, fresh: Option<(u32, &[u8])>) -> u32 {
        let mut done = 0;
        while done < budget && rec.hashed_chunks + 1 < rec.chunk_count {
            let i = rec.hashed_chunks;
            match fresh {
                Some((fi, bytes)) if fi == i => rec.hasher.absorb_blocks(bytes),
                _ => match self.chunks.get(&chunk_key(file, i)) {
                    Some(r) => rec.hasher.absorb_blocks(&self.read_chunk(&r)),
                    None => break,
                },
            }
            rec.hashed_chunks += 1;
            done += 1;
        }
        done
    }

    fn missing_chunks(&self, file: &[u8; 16], rec: &FileRecord) -> Vec<u32> {
        let mut present = self
            .chunks
            .keys_range(chunk_key(file, 0)..=chunk_key(file, u32::MAX))
            .map(|k| u32::from_be_bytes(k[16..].try_into().unwrap()));
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

    /// The directory's commit: every chunk present (sizes were checked at
    /// put), the declared hash matches. Idempotent once committed.
    pub fn commit_file(
        &mut self,
        caller: Principal,
        args: CommitFileArgs,
        now_ns: u64,
    ) -> Result<(CommitFileOk, bool), BucketError> {
        self.require_directory(caller)?;
        let file = key_of(&args.file_id)?;
        let mut rec = self.files.get(&file).ok_or(BucketError::NotFound)?;
        if rec.upload_id != args.upload_id || rec.owner != args.file_id.owner {
            return Err(unauthorised("upload id or owner does not match"));
        }
        if let Some(c) = &rec.committed {
            return Ok((commit_ok(&rec, c), false));
        }
        let missing = self.missing_chunks(&file, &rec);
        if !missing.is_empty() {
            return Err(BucketError::UploadIncomplete { missing });
        }
        let mut sha = None;
        if let Some(declared) = rec.declared_sha256 {
            self.advance_hash(&file, &mut rec, HASH_CHUNKS_PER_COMMIT, None);
            if rec.hashed_chunks + 1 < rec.chunk_count {
                let hashed_bytes = rec.hasher.absorbed();
                let total_bytes = rec.size_bytes;
                self.files.insert(file, rec);
                return Err(BucketError::HashInProgress { hashed_bytes, total_bytes });
            }
            let last = self.chunk_ref(&FileKey(file), rec.chunk_count - 1).expect("all chunks present");
            let digest = rec.hasher.clone().finish(&self.read_chunk(&last));
            if digest != declared {
                // Keep the progress made; the directory aborts the upload.
                self.files.insert(file, rec);
                return Err(BucketError::HashMismatch { expected: declared.to_vec(), actual: digest.to_vec() });
            }
            sha = Some(digest);
        }
        let etag = etag_of(&self.chunk_hashes(&FileKey(file)));
        let committed = Committed { name: args.name, mime: args.mime, etag, sha256: sha, committed_at_ns: now_ns };
        let ok = commit_ok(&rec, &committed);
        rec.committed = Some(committed);
        let size = rec.size_bytes;
        self.files.insert(file, rec);
        self.update_counters(|c| c.committed_bytes += size);
        Ok((ok, true))
    }

    /// Deletes every chunk of a file and frees their slots.
    pub fn delete_file(&mut self, caller: Principal, file_id: &FileId) -> Result<(DeleteFileOk, bool), BucketError> {
        self.require_directory(caller)?;
        let file = key_of(file_id)?;
        let rec = self.files.get(&file).ok_or(BucketError::NotFound)?;
        if rec.owner != file_id.owner {
            return Err(BucketError::NotFound);
        }
        let keys: Vec<_> = self.chunks.keys_range(chunk_key(&file, 0)..=chunk_key(&file, u32::MAX)).collect();
        let (mut freed, mut slots) = (0u64, 0u64);
        for k in &keys {
            let r = self.chunks.remove(k).expect("key listed above");
            self.slab.release(r.offset, r.class);
            freed += r.len as u64;
            slots += slot_size(r.class);
        }
        self.files.remove(&file);
        let was_committed = rec.committed.is_some();
        self.update_counters(|c| {
            c.used_bytes -= freed;
            c.allocated_bytes -= slots;
            c.chunks -= keys.len() as u64;
            c.files -= 1;
            if was_committed {
                c.committed_bytes -= rec.size_bytes;
            }
        });
        Ok((DeleteFileOk { freed_bytes: freed }, was_committed))
    }

    fn readable_record(&self, caller: Principal, file_id: &FileId) -> Result<([u8; 16], FileRecord), BucketError> {
        let file = key_of(file_id)?;
        if caller != file_id.owner && caller != self.config().directory {
            return Err(unauthorised("only the owner or the directory may read"));
        }
        match self.files.get(&file) {
            Some(rec) if rec.owner == file_id.owner => Ok((file, rec)),
            _ => Err(BucketError::NotFound),
        }
    }

    pub fn get_chunk(&self, caller: Principal, args: &GetChunkArgs) -> Result<Vec<u8>, BucketError> {
        let (file, _) = self.readable_record(caller, &args.file_id)?;
        let r = self.chunks.get(&chunk_key(&file, args.chunk_index)).ok_or(BucketError::NotFound)?;
        Ok(self.read_chunk(&r))
    }

    pub fn list_chunks(&self, caller: Principal, file_id: &FileId) -> Result<ChunkPresence, BucketError> {
        let (file, rec) = self.readable_record(caller, file_id)?;
        let present = self
            .chunks
            .keys_range(chunk_key(&file, 0)..=chunk_key(&file, u32::MAX))
            .map(|k| u32::from_be_bytes(k[16..].try_into().unwrap()))
            .collect();
        Ok(ChunkPresence {
            chunk_count: rec.chunk_count,
            size_bytes: rec.size_bytes,
            stored_bytes: rec.stored_bytes,
            present,
            committed: rec.committed.is_some(),
        })
    }

    pub fn stat(&self, stable_memory_bytes: u64, certified_responses: u64) -> BucketStat {
        let c = self.counters();
        let cfg = self.config();
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
}

/// The strong ETag: SHA-256 over the chunk hashes in order. It changes with
/// any byte of the file and needs no pass over the bytes.
pub fn etag_of(chunk_hashes: &[[u8; 32]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for c in chunk_hashes {
        h.update(c);
    }
    h.finalize().into()
}

pub fn etag_header(etag: &[u8; 32]) -> String {
    format!("\"{}\"", hex::encode(etag))
}

fn commit_ok(rec: &FileRecord, c: &Committed) -> CommitFileOk {
    CommitFileOk {
        size_bytes: rec.size_bytes,
        sha256: c.sha256.map(|h| serde_bytes::ByteBuf::from(h.to_vec())),
        etag: etag_header(&c.etag),
    }
}
