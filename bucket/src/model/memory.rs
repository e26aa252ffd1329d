//! The one `MemoryManager` and its `MemoryId`s. An id is never reused for
//! another purpose, even after the structure it held is retired.
//!
//! Constants are named `<WHAT>_MEMORY`, as in the directory.
//!
//! | id | constant | holds |
//! |----|----------|-------|
//! | 0  | `CONFIG_MEMORY` | `Config` cell: directory, public keys, capacity, read-only |
//! | 1  | `COUNTERS_MEMORY` | `Counters` cell: running byte/file/chunk totals |
//! | 2  | `FILES_MEMORY` | files: `FileKey → FileRecord` (binary, `file_record_bytes`) |
//! | 3  | `CHUNKS_MEMORY` | chunks: `(FileKey, index) → ChunkRef` |
//! | 4  | `FREE_SLOTS_MEMORY` | free slots of the slab: `(class, offset) → ()` |
//! | 5  | `CHUNK_DATA_MEMORY` | chunk bytes (the slab) |
//! | 6  | `TOMBSTONES_MEMORY` | deleted files: `FileKey → until_ns` (no chunk is taken for them until then) |
//! | 7  | `TOMBSTONE_EXPIRY_MEMORY` | the same, by time: `(until_ns, FileKey) → ()`, for pruning |
//! | 8  | `RESPONSE_SETS_MEMORY` | certified response hashes: `FileKey → ResponseSet` |

use ic_stable_structures::Memory;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};

pub const CONFIG_MEMORY: MemoryId = MemoryId::new(0);
pub const COUNTERS_MEMORY: MemoryId = MemoryId::new(1);
pub const FILES_MEMORY: MemoryId = MemoryId::new(2);
pub const CHUNKS_MEMORY: MemoryId = MemoryId::new(3);
pub const FREE_SLOTS_MEMORY: MemoryId = MemoryId::new(4);
pub const CHUNK_DATA_MEMORY: MemoryId = MemoryId::new(5);
pub const TOMBSTONES_MEMORY: MemoryId = MemoryId::new(6);
pub const TOMBSTONE_EXPIRY_MEMORY: MemoryId = MemoryId::new(7);
pub const RESPONSE_SETS_MEMORY: MemoryId = MemoryId::new(8);

/// Every structure by name, for statistics.
pub const ALL_MEMORIES: &[(&str, MemoryId)] = &[
    ("config", CONFIG_MEMORY),
    ("counters", COUNTERS_MEMORY),
    ("files", FILES_MEMORY),
    ("chunks", CHUNKS_MEMORY),
    ("free_slots", FREE_SLOTS_MEMORY),
    ("chunk_data", CHUNK_DATA_MEMORY),
    ("tombstones", TOMBSTONES_MEMORY),
    ("tombstone_expiry", TOMBSTONE_EXPIRY_MEMORY),
    ("response_sets", RESPONSE_SETS_MEMORY),
];

/// Pages per MemoryManager bucket (16 MiB). The manager has at most 32,768
/// buckets, so this addresses 512 GiB: the IC's 500 GiB stable-memory cap
/// binds first. Each small structure costs one bucket (16 MiB) of stable
/// memory.
pub const BUCKET_SIZE_PAGES: u16 = 256;

pub type Mem<M> = VirtualMemory<M>;

pub fn manager<M: Memory>(raw: M) -> MemoryManager<M> {
    MemoryManager::init_with_bucket_size(raw, BUCKET_SIZE_PAGES)
}
