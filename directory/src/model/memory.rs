//! Stable-memory layout: one `MemoryManager`, one virtual memory per
//! structure. A `MemoryId` is never reused, even after its structure is
//! removed: an old id may still hold data of an older version.
//!
//! | id | constant                 | structure                                   |
//! |----|--------------------------|---------------------------------------------|
//! |  0 | `SETTINGS_MEMORY`        | StableCell<Settings>                         |
//! |  1 | `RUNTIME_MEMORY`         | StableCell<Runtime> (id seed, counters)      |
//! |  2 | `USERS_MEMORY`           | BTreeMap<Principal, UserRecord>              |
//! |  3 | `FILES_MEMORY`           | BTreeMap<ListKey, StoredFile> (binary)       |
//! |  4 | `FILE_INDEX_MEMORY`      | BTreeMap<[u8;16] file key, FilePlace>        |
//! |  5 | `UPLOADS_MEMORY`         | BTreeMap<[u8;16] upload id, UploadSession>   |
//! |  6 | `UPLOAD_EXPIRY_MEMORY`   | BTreeMap<TimedKey(expires_at, upload id), ()> |
//! |  7 | `BUCKETS_MEMORY`         | BTreeMap<Principal, BucketRecord>            |
//! |  8 | `SIGNING_KEYS_MEMORY`    | BTreeMap<u32 kid, SigningKeyRecord>          |
//! |  9 | `PENDING_DELETES_MEMORY` | BTreeMap<TimedKey(due, file key), PendingDelete> |
//! | 10 | `PRICING_MEMORY`         | StableCell<StoredPricing>                    |
//! | 11 | `ACCOUNTS_MEMORY`        | BTreeMap<Principal, CreditAccount>           |
//! | 12 | `MOVEMENTS_MEMORY`       | BTreeMap<MovementKey(user, seq), StoredMovement> |
//! | 13 | `DEPOSITS_MEMORY`        | BTreeMap<DepositKey(user, nonce), DepositEntry> |
//! | 14 | `RETENTION_MEMORY`       | BTreeMap<TimedKey(delete_at, file key), ()>  |
//! | 15 | `PROVISIONS_MEMORY`      | BTreeMap<u64 seq, ProvisionEntry>            |
//! | 16 | `ROLLOUT_MEMORY`         | StableCell<StoredRollout>                    |
//! | 17 | `ROUTING_MEMORY`         | BTreeMap<RouteKey(class, fill, bucket), ()>  |
//! | 18 | `SHARES_MEMORY`          | BTreeMap<[u8;16] share id, ShareRecord>      |
//! | 19 | `SHARES_BY_OWNER_MEMORY` | BTreeMap<ListKey(owner, created, share id), ()> |
//! | 20 | `OWNER_NUMBERS_MEMORY`   | BTreeMap<Principal, u64 owner number>        |
//! | 21 | `NUMBERED_OWNERS_MEMORY` | BTreeMap<u64 owner number, Principal>        |

use ic_stable_structures::DefaultMemoryImpl;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager, VirtualMemory};

pub type Memory = VirtualMemory<DefaultMemoryImpl>;

pub const SETTINGS_MEMORY: MemoryId = MemoryId::new(0);
pub const RUNTIME_MEMORY: MemoryId = MemoryId::new(1);
pub const USERS_MEMORY: MemoryId = MemoryId::new(2);
pub const FILES_MEMORY: MemoryId = MemoryId::new(3);
pub const FILE_INDEX_MEMORY: MemoryId = MemoryId::new(4);
pub const UPLOADS_MEMORY: MemoryId = MemoryId::new(5);
pub const UPLOAD_EXPIRY_MEMORY: MemoryId = MemoryId::new(6);
pub const BUCKETS_MEMORY: MemoryId = MemoryId::new(7);
pub const SIGNING_KEYS_MEMORY: MemoryId = MemoryId::new(8);
pub const PENDING_DELETES_MEMORY: MemoryId = MemoryId::new(9);
pub const PRICING_MEMORY: MemoryId = MemoryId::new(10);
pub const ACCOUNTS_MEMORY: MemoryId = MemoryId::new(11);
pub const MOVEMENTS_MEMORY: MemoryId = MemoryId::new(12);
pub const DEPOSITS_MEMORY: MemoryId = MemoryId::new(13);
pub const RETENTION_MEMORY: MemoryId = MemoryId::new(14);
pub const PROVISIONS_MEMORY: MemoryId = MemoryId::new(15);
pub const ROLLOUT_MEMORY: MemoryId = MemoryId::new(16);
pub const ROUTING_MEMORY: MemoryId = MemoryId::new(17);
pub const SHARES_MEMORY: MemoryId = MemoryId::new(18);
pub const SHARES_BY_OWNER_MEMORY: MemoryId = MemoryId::new(19);
pub const OWNER_NUMBERS_MEMORY: MemoryId = MemoryId::new(20);
pub const NUMBERED_OWNERS_MEMORY: MemoryId = MemoryId::new(21);

/// Every memory with its name, for the memory statistics.
pub const ALL_MEMORIES: [(&str, MemoryId); 22] = [
    ("settings", SETTINGS_MEMORY),
    ("runtime", RUNTIME_MEMORY),
    ("users", USERS_MEMORY),
    ("files", FILES_MEMORY),
    ("file_index", FILE_INDEX_MEMORY),
    ("uploads", UPLOADS_MEMORY),
    ("upload_expiry", UPLOAD_EXPIRY_MEMORY),
    ("buckets", BUCKETS_MEMORY),
    ("signing_keys", SIGNING_KEYS_MEMORY),
    ("pending_deletes", PENDING_DELETES_MEMORY),
    ("pricing", PRICING_MEMORY),
    ("accounts", ACCOUNTS_MEMORY),
    ("movements", MOVEMENTS_MEMORY),
    ("deposits", DEPOSITS_MEMORY),
    ("retention", RETENTION_MEMORY),
    ("provisions", PROVISIONS_MEMORY),
    ("rollout", ROLLOUT_MEMORY),
    ("routing", ROUTING_MEMORY),
    ("shares", SHARES_MEMORY),
    ("shares_by_owner", SHARES_BY_OWNER_MEMORY),
    ("owner_numbers", OWNER_NUMBERS_MEMORY),
    ("numbered_owners", NUMBERED_OWNERS_MEMORY),
];

pub fn manager(memory: DefaultMemoryImpl) -> MemoryManager<DefaultMemoryImpl> {
    MemoryManager::init(memory)
}
