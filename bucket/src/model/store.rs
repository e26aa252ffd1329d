//! The bucket's stable storage: config, counters, file records and chunk
//! bytes. Storage only: who may call and what is allowed is decided in
//! `crate::logic`, before anything here is called.

use super::memory::{self, Mem};
use super::records::{ChunkRef, Config, Counters, FileRecord, chunk_key};
use super::response_set::ResponseSet;
use super::slab::{Slab, slot_size};
use super::view::FileView;
use depot_api::FileKey;
use ic_stable_structures::memory_manager::MemoryManager;
use ic_stable_structures::{Memory, StableBTreeMap, StableCell};

pub struct BucketStore<M: Memory> {
    config: StableCell<Config, Mem<M>>,
    counters: StableCell<Counters, Mem<M>>,
    files: StableBTreeMap<[u8; 16], FileRecord, Mem<M>>,
    chunks: StableBTreeMap<[u8; 20], ChunkRef, Mem<M>>,
    slab: Slab<Mem<M>, Mem<M>>,
    tombstones: StableBTreeMap<[u8; 16], u64, Mem<M>>,
    tombstone_expiry: StableBTreeMap<[u8; 24], (), Mem<M>>,
    response_sets: StableBTreeMap<[u8; 16], ResponseSet, Mem<M>>,
    /// Kept to hand out virtual memories; also reports total stable size.
    _manager: MemoryManager<M>,
}

/// The slab has no slot for a chunk (stable memory exhausted).
#[derive(Debug, PartialEq, Eq)]
pub struct NoSlot;

/// What removing a file's chunks gave back.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Freed {
    pub bytes: u64,
    pub slot_bytes: u64,
    pub chunks: u64,
}

/// Tombstones by expiry: big-endian time, then the file key.
fn expiry_key(until_ns: u64, key: &FileKey) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(&until_ns.to_be_bytes());
    k[8..].copy_from_slice(&key.0);
    k
}

impl<M: Memory> BucketStore<M> {
    /// Opens (or creates) the store on a raw stable memory.
    pub fn init(raw: M) -> Self {
        let mm = memory::manager(raw);
        Self {
            config: StableCell::init(mm.get(memory::CONFIG_MEMORY), Config::default()),
            counters: StableCell::init(mm.get(memory::COUNTERS_MEMORY), Counters::default()),
            files: StableBTreeMap::init(mm.get(memory::FILES_MEMORY)),
            chunks: StableBTreeMap::init(mm.get(memory::CHUNKS_MEMORY)),
            slab: Slab::init(mm.get(memory::CHUNK_DATA_MEMORY), mm.get(memory::FREE_SLOTS_MEMORY)),
            tombstones: StableBTreeMap::init(mm.get(memory::TOMBSTONES_MEMORY)),
            tombstone_expiry: StableBTreeMap::init(mm.get(memory::TOMBSTONE_EXPIRY_MEMORY)),
            response_sets: StableBTreeMap::init(mm.get(memory::RESPONSE_SETS_MEMORY)),
            _manager: mm,
        }
    }

    // ---- config and counters ----

    pub fn config(&self) -> &Config {
        self.config.get()
    }

    pub fn set_config(&mut self, c: Config) {
        self.config.set(c);
    }

    pub fn update_config(&mut self, f: impl FnOnce(&mut Config)) {
        let mut c = self.config().clone();
        f(&mut c);
        self.config.set(c);
    }

    pub fn counters(&self) -> Counters {
        *self.counters.get()
    }

    pub fn update_counters(&mut self, f: impl FnOnce(&mut Counters)) {
        let mut c = *self.counters.get();
        f(&mut c);
        self.counters.set(c);
    }

    // ---- files ----

    pub fn file(&self, key: &FileKey) -> Option<FileRecord> {
        self.files.get(&key.0)
    }

    pub fn put_file(&mut self, key: &FileKey, record: FileRecord) {
        self.files.insert(key.0, record);
    }

    pub fn remove_file_record(&mut self, key: &FileKey) -> Option<FileRecord> {
        self.files.remove(&key.0)
    }

    /// A committed file's view, for the HTTP layer and certification; none
    /// for a suspended file, which is served as absent (see `is_suspended`).
    pub fn file_view(&self, key: &FileKey) -> Option<FileView> {
        let rec = self.file(key)?;
        if rec.suspended {
            return None;
        }
        let c = rec.committed?;
        Some(FileView {
            key: *key,
            name: c.name,
            mime: c.mime,
            size: rec.size_bytes,
            chunk_size: rec.chunk_size as u64,
            chunk_count: rec.chunk_count,
            etag: c.etag,
        })
    }

    /// Committed files that are served (not suspended), in key order,
    /// starting after `after` (all when `None`): what the tree holds.
    pub fn committed_files_after(&self, after: Option<FileKey>) -> impl Iterator<Item = (FileKey, FileRecord)> + '_ {
        use std::ops::Bound::{Excluded, Unbounded};
        let start = after.map_or(Unbounded, |k| Excluded(k.0));
        self.files.range((start, Unbounded)).filter_map(|e| {
            let (k, v) = e.into_pair();
            (v.committed.is_some() && !v.suspended).then_some((FileKey(k), v))
        })
    }

    /// A committed file held back for non-payment.
    pub fn is_suspended(&self, key: &FileKey) -> bool {
        self.file(key).is_some_and(|r| r.suspended && r.committed.is_some())
    }

    // ---- certified response hashes ----

    /// The hashes of a file's certified responses, as certification left
    /// them (see `http::certs`).
    pub fn response_set(&self, key: &FileKey) -> Option<ResponseSet> {
        self.response_sets.get(&key.0)
    }

    pub fn put_response_set(&mut self, key: &FileKey, set: &ResponseSet) {
        self.response_sets.insert(key.0, set.clone());
    }

    pub fn remove_response_set(&mut self, key: &FileKey) -> Option<ResponseSet> {
        self.response_sets.remove(&key.0)
    }

    /// SHA-256 of one stored chunk (zero when it is not stored).
    pub fn chunk_hash(&self, key: &FileKey, index: u32) -> [u8; 32] {
        self.chunk_ref(key, index).map_or([0; 32], |r| r.sha256)
    }

    // ---- tombstones ----

    /// Marks a deleted file: no chunk is stored for it before `until_ns`.
    /// A later tombstone of the same file replaces the earlier one.
    pub fn put_tombstone(&mut self, key: &FileKey, until_ns: u64) {
        if let Some(old) = self.tombstones.insert(key.0, until_ns) {
            self.tombstone_expiry.remove(&expiry_key(old, key));
        }
        self.tombstone_expiry.insert(expiry_key(until_ns, key), ());
    }

    pub fn is_tombstoned(&self, key: &FileKey, now_ns: u64) -> bool {
        self.tombstones.get(&key.0).is_some_and(|until| until > now_ns)
    }

    pub fn tombstones_count(&self) -> u64 {
        self.tombstones.len()
    }

    /// Removes up to `max` tombstones that expired at or before `now_ns`.
    pub fn prune_tombstones(&mut self, now_ns: u64, max: usize) -> usize {
        let expired: Vec<[u8; 24]> = self
            .tombstone_expiry
            .keys_range(..expiry_key(now_ns.saturating_add(1), &FileKey([0; 16])))
            .take(max)
            .collect();
        for k in &expired {
            self.tombstone_expiry.remove(k);
            let file: [u8; 16] = k[8..].try_into().expect("24-byte expiry key");
            self.tombstones.remove(&file);
        }
        expired.len()
    }

    // ---- chunks ----

    pub fn chunk_ref(&self, key: &FileKey, index: u32) -> Option<ChunkRef> {
        self.chunks.get(&chunk_key(&key.0, index))
    }

    /// Chunk hashes of a file in index order (missing chunks are skipped).
    pub fn chunk_hashes(&self, key: &FileKey) -> Vec<[u8; 32]> {
        self.chunks.range(chunk_key(&key.0, 0)..=chunk_key(&key.0, u32::MAX)).map(|e| e.value().sha256).collect()
    }

    /// Indices of a file's stored chunks, ascending.
    pub fn chunk_indices(&self, key: &FileKey) -> impl Iterator<Item = u32> + '_ {
        self.chunks
            .keys_range(chunk_key(&key.0, 0)..=chunk_key(&key.0, u32::MAX))
            .map(|k| u32::from_be_bytes(k[16..].try_into().expect("chunk keys end in a 4-byte index")))
    }

    /// Writes a chunk's bytes into a new slot and indexes it. The caller
    /// has checked that the chunk is not stored yet and fits the capacity.
    pub fn store_chunk(
        &mut self,
        key: &FileKey,
        index: u32,
        bytes: &[u8],
        sha256: [u8; 32],
    ) -> Result<ChunkRef, NoSlot> {
        let len = bytes.len() as u64;
        let (offset, class) = self.slab.allocate(len).map_err(|_| NoSlot)?;
        self.slab.write(offset, bytes);
        let r = ChunkRef { offset, len: len as u32, class, sha256 };
        self.chunks.insert(chunk_key(&key.0, index), r);
        Ok(r)
    }

    /// Removes every chunk of a file and frees their slots.
    pub fn remove_chunks(&mut self, key: &FileKey) -> Freed {
        let keys: Vec<_> = self.chunks.keys_range(chunk_key(&key.0, 0)..=chunk_key(&key.0, u32::MAX)).collect();
        let mut freed = Freed::default();
        for k in &keys {
            let r = self.chunks.remove(k).expect("key listed above");
            self.slab.release(r.offset, r.class);
            freed.bytes += r.len as u64;
            freed.slot_bytes += slot_size(r.class);
            freed.chunks += 1;
        }
        freed
    }

    /// Bytes `offset..offset+len` of one stored chunk.
    pub fn read_chunk_part(&self, r: &ChunkRef, offset: u64, len: u64) -> Vec<u8> {
        debug_assert!(offset + len <= r.len as u64);
        self.slab.read_vec(r.offset + offset, len as usize)
    }

    pub fn read_chunk(&self, r: &ChunkRef) -> Vec<u8> {
        self.read_chunk_part(r, 0, r.len as u64)
    }
}
