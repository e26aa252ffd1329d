//! The one `MemoryManager` and its `MemoryId`s. An id is never reused for
//! another purpose, even after the structure it held is retired.
//!
//! | id | holds |
//! |----|-------|
//! | 0  | `Config` cell: directory, public keys, capacity, read-only |
//! | 1  | `Counters` cell: running byte/file/chunk totals |
//! | 2  | files: `FileKey → FileRecord` |
//! | 3  | chunks: `(FileKey, index) → ChunkRef` |
//! | 4  | free slots of the slab: `(class, offset) → ()` |
//! | 5  | chunk bytes (the slab) |

use ic_stable_structures::Memory;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};

pub const CONFIG: MemoryId = MemoryId::new(0);
pub const COUNTERS: MemoryId = MemoryId::new(1);
pub const FILES: MemoryId = MemoryId::new(2);
pub const CHUNKS: MemoryId = MemoryId::new(3);
pub const FREE_SLOTS: MemoryId = MemoryId::new(4);
pub const CHUNK_DATA: MemoryId = MemoryId::new(5);

/// Pages per MemoryManager bucket (16 MiB). The manager has at most 32,768
/// buckets, so this addresses 512 GiB: the IC's 500 GiB stable-memory cap
/// binds first. Each small structure costs one bucket (16 MiB) of stable
/// memory.
pub const BUCKET_SIZE_PAGES: u16 = 256;

pub type Mem<M> = VirtualMemory<M>;

pub fn manager<M: Memory>(raw: M) -> MemoryManager<M> {
    MemoryManager::init_with_bucket_size(raw, BUCKET_SIZE_PAGES)
}
