//! The directory's state: every structure lives in stable memory, so an
//! upgrade needs no serialisation (pre_upgrade has nothing to do).

pub mod billing;
pub mod buckets;
pub mod deletions;
pub mod file_codec;
pub mod files;
pub mod fleet_settings;
pub mod keys;
pub mod memory;
pub mod provisioning;
pub mod rollout;
pub mod runtime;
pub mod settings;
pub mod shares;
pub mod storable;
pub mod uploads;
pub mod users;

use billing::{CreditAccount, DepositEntry, StoredMovement, StoredPricing};
use buckets::BucketRecord;
use candid::Principal;
use deletions::{DeleteReason, PendingDelete};
use depot_api::ids::ID_BYTES;
use depot_api::keys::{self as sig, BucketKey, PublicKeyInfo, SignWith};
use depot_api::{DirectoryError, FileId, FileKey};
use files::FileRecord;
use ic_stable_structures::memory_manager::MemoryManager;
use ic_stable_structures::{DefaultMemoryImpl, Memory as _, StableBTreeMap, StableCell};
use keys::SigningKeyRecord;
use memory::*;
use runtime::Runtime;
use settings::Settings;
use storable::{DepositKey, FilePlace, ListKey, MovementKey, RouteKey, TimedKey};
use uploads::UploadSession;
use users::UserRecord;

pub struct State {
    manager: MemoryManager<DefaultMemoryImpl>,
    settings: StableCell<Settings, Memory>,
    runtime: StableCell<Runtime, Memory>,
    pub users: StableBTreeMap<Principal, UserRecord, Memory>,
    pub files: files::FileTable<Memory>,
    pub file_index: StableBTreeMap<[u8; ID_BYTES], FilePlace, Memory>,
    pub uploads: StableBTreeMap<[u8; ID_BYTES], UploadSession, Memory>,
    pub upload_expiry: StableBTreeMap<TimedKey, (), Memory>,
    /// Read freely; written only through `put_bucket`, which keeps the
    /// routing index in step.
    pub buckets: StableBTreeMap<Principal, BucketRecord, Memory>,
    /// Buckets that take files, by class and fill (`RouteKey`), so that
    /// routing reads a few entries whatever the fleet's size.
    pub routing: StableBTreeMap<RouteKey, (), Memory>,
    pub signing_keys: StableBTreeMap<u32, SigningKeyRecord, Memory>,
    pub pending_deletes: StableBTreeMap<TimedKey, PendingDelete, Memory>,
    pricing: StableCell<StoredPricing, Memory>,
    pub accounts: StableBTreeMap<Principal, CreditAccount, Memory>,
    pub movements: StableBTreeMap<MovementKey, StoredMovement, Memory>,
    pub deposits: StableBTreeMap<DepositKey, DepositEntry, Memory>,
    /// Ready files by the end of their retention (an entry whose file was
    /// deleted or given another date is dropped when it comes due).
    pub retention: StableBTreeMap<TimedKey, (), Memory>,
    /// Buckets being created, installed or registered.
    pub provisions: StableBTreeMap<u64, provisioning::ProvisionEntry, Memory>,
    rollout: StableCell<rollout::StoredRollout, Memory>,
    pub shares: StableBTreeMap<[u8; ID_BYTES], shares::ShareRecord, Memory>,
    /// The owner's shares in creation order (`ListKey` over share ids).
    pub shares_by_owner: StableBTreeMap<ListKey, (), Memory>,
    /// Each file owner's number, which the file index names it by
    /// (`FilePlace`): 8 bytes per file instead of up to 30. Numbers are
    /// given from 0 in order and never reused or taken back.
    owner_numbers: StableBTreeMap<Principal, u64, Memory>,
    /// The same pairs the other way round.
    numbered_owners: StableBTreeMap<u64, Principal, Memory>,
}

impl State {
    /// Opens (or creates, on empty memory) every structure.
    pub fn load(memory: DefaultMemoryImpl) -> Self {
        Self::with_manager(memory::manager(memory))
    }

    /// Native tests: 64 KiB buckets instead of 8 MiB, so a fresh state does
    /// not zero 80 MiB of vector memory in an unoptimised build. Layout and
    /// behaviour are otherwise identical.
    #[cfg(test)]
    pub fn load_for_tests(memory: DefaultMemoryImpl) -> Self {
        Self::with_manager(MemoryManager::init_with_bucket_size(memory, 1))
    }

    fn with_manager(manager: MemoryManager<DefaultMemoryImpl>) -> Self {
        Self {
            settings: StableCell::init(manager.get(SETTINGS_MEMORY), Settings::default()),
            runtime: StableCell::init(manager.get(RUNTIME_MEMORY), Runtime::default()),
            users: StableBTreeMap::init(manager.get(USERS_MEMORY)),
            files: files::FileTable::init(manager.get(FILES_MEMORY)),
            file_index: StableBTreeMap::init(manager.get(FILE_INDEX_MEMORY)),
            uploads: StableBTreeMap::init(manager.get(UPLOADS_MEMORY)),
            upload_expiry: StableBTreeMap::init(manager.get(UPLOAD_EXPIRY_MEMORY)),
            buckets: StableBTreeMap::init(manager.get(BUCKETS_MEMORY)),
            routing: StableBTreeMap::init(manager.get(ROUTING_MEMORY)),
            signing_keys: StableBTreeMap::init(manager.get(SIGNING_KEYS_MEMORY)),
            pending_deletes: StableBTreeMap::init(manager.get(PENDING_DELETES_MEMORY)),
            pricing: StableCell::init(manager.get(PRICING_MEMORY), StoredPricing::default()),
            accounts: StableBTreeMap::init(manager.get(ACCOUNTS_MEMORY)),
            movements: StableBTreeMap::init(manager.get(MOVEMENTS_MEMORY)),
            deposits: StableBTreeMap::init(manager.get(DEPOSITS_MEMORY)),
            retention: StableBTreeMap::init(manager.get(RETENTION_MEMORY)),
            provisions: StableBTreeMap::init(manager.get(PROVISIONS_MEMORY)),
            rollout: StableCell::init(manager.get(ROLLOUT_MEMORY), rollout::StoredRollout::default()),
            shares: StableBTreeMap::init(manager.get(SHARES_MEMORY)),
            shares_by_owner: StableBTreeMap::init(manager.get(SHARES_BY_OWNER_MEMORY)),
            owner_numbers: StableBTreeMap::init(manager.get(OWNER_NUMBERS_MEMORY)),
            numbered_owners: StableBTreeMap::init(manager.get(NUMBERED_OWNERS_MEMORY)),
            manager,
        }
    }

    // ---- settings and runtime ----

    pub fn settings(&self) -> &Settings {
        self.settings.get()
    }

    pub fn set_settings(&mut self, settings: Settings) {
        self.settings.set(settings);
    }

    /// Writes a bucket record and moves its routing entry with it.
    pub fn put_bucket(&mut self, id: Principal, record: BucketRecord) {
        let new = record.route_key(id);
        if let Some(old) = self.buckets.insert(id, record).and_then(|old| old.route_key(id))
            && Some(old) != new
        {
            self.routing.remove(&old);
        }
        if let Some(k) = new {
            self.routing.insert(k, ());
        }
    }

    /// Rebuilds the routing index from the bucket records (after an
    /// upgrade: self-healing, and how an older state gets its index).
    pub fn rebuild_routing(&mut self) {
        let keys: Vec<RouteKey> = self.routing.keys().collect();
        for k in keys {
            self.routing.remove(&k);
        }
        let entries: Vec<RouteKey> = self.buckets.iter().filter_map(|e| e.value().route_key(*e.key())).collect();
        for k in entries {
            self.routing.insert(k, ());
        }
    }

    pub fn rollout(&self) -> Option<&rollout::Rollout> {
        self.rollout.get().0.as_ref()
    }

    pub fn set_rollout(&mut self, r: Option<rollout::Rollout>) {
        self.rollout.set(rollout::StoredRollout(r));
    }

    pub fn pricing(&self) -> &depot_api::billing::Pricing {
        &self.pricing.get().0
    }

    pub fn set_pricing(&mut self, pricing: depot_api::billing::Pricing) {
        self.pricing.set(StoredPricing(pricing));
    }

    pub fn account(&self, user: Principal) -> CreditAccount {
        self.accounts.get(&user).unwrap_or_default()
    }

    pub fn runtime(&self) -> &Runtime {
        self.runtime.get()
    }

    pub fn update_runtime<R>(&mut self, f: impl FnOnce(&mut Runtime) -> R) -> R {
        let mut rt = self.runtime.get().clone();
        let out = f(&mut rt);
        self.runtime.set(rt);
        out
    }

    pub fn is_initialised(&self) -> bool {
        self.runtime().rng_seed.is_some() && self.active_key().is_some()
    }

    // ---- users ----

    /// The user's record, or a fresh one (not stored) for a new user.
    pub fn user(&self, user: Principal) -> UserRecord {
        self.users.get(&user).unwrap_or_default()
    }

    pub fn put_user(&mut self, user: Principal, record: UserRecord) {
        self.users.insert(user, record);
    }

    // ---- files ----

    pub fn file_by_key(&self, key: &[u8; ID_BYTES]) -> Option<(ListKey, FileRecord)> {
        let list_key = self.place_key(self.file_index.get(key)?, FileKey(*key));
        let record = self.files.get(&list_key)?;
        Some((list_key, record))
    }

    /// The files-map key a file index entry points to.
    pub fn place_key(&self, place: FilePlace, file: FileKey) -> ListKey {
        match place {
            FilePlace::Numbered { owner_number, created_at_ns } => {
                // Numbers are written before the places that name them and
                // never removed: a missing one is corrupted state.
                let owner = self.numbered_owners.get(&owner_number).unwrap_or_else(|| {
                    panic!("decoding of a state record failed: owner number {owner_number} of a file place is unknown")
                });
                ListKey::new(owner, created_at_ns, file)
            }
            FilePlace::Owner { owner, created_at_ns } => ListKey::new(owner, created_at_ns, file),
        }
    }

    /// `owner`'s number, given now if it has none.
    fn owner_number(&mut self, owner: Principal) -> u64 {
        if let Some(n) = self.owner_numbers.get(&owner) {
            return n;
        }
        let n = self.numbered_owners.last_key_value().map_or(0, |(last, _)| {
            last.checked_add(1).expect("owner numbers are given one at a time from 0; 2^64 of them cannot be")
        });
        self.owner_numbers.insert(owner, n);
        self.numbered_owners.insert(n, owner);
        n
    }

    /// Every owner number with its owner, in number order (invariant checks).
    pub fn numbered_owners(&self) -> impl Iterator<Item = (u64, Principal)> + '_ {
        self.numbered_owners.iter().map(|e| e.into_pair())
    }

    /// Every owner with its number, in owner order (invariant checks).
    pub fn owner_numbers(&self) -> impl Iterator<Item = (Principal, u64)> + '_ {
        self.owner_numbers.iter().map(|e| e.into_pair())
    }

    /// The auth rule of every file method: another owner's id is
    /// `Unauthorised` (whether it exists or not), an unknown own id
    /// `NotFound`.
    pub fn owned_file(&self, caller: Principal, file_id: &FileId) -> Result<(ListKey, FileRecord), DirectoryError> {
        if file_id.owner != caller || caller == Principal::anonymous() {
            return Err(DirectoryError::Unauthorised);
        }
        let key = file_id.key().ok_or(DirectoryError::NotFound)?;
        match self.file_by_key(&key.0) {
            Some((list_key, record)) if list_key.owner() == caller => Ok((list_key, record)),
            _ => Err(DirectoryError::NotFound),
        }
    }

    pub fn insert_file(&mut self, record: FileRecord) -> ListKey {
        let key = record.meta.file_id.key().expect("file ids are drawn with 16 bytes");
        let owner = record.meta.file_id.owner;
        let list_key = ListKey::new(owner, record.meta.created_at_ns, key);
        let owner_number = self.owner_number(owner);
        self.file_index.insert(key.0, FilePlace::Numbered { owner_number, created_at_ns: record.meta.created_at_ns });
        self.files.insert(list_key, record);
        list_key
    }

    pub fn remove_file(&mut self, key: &FileKey) -> Option<FileRecord> {
        let place = self.file_index.remove(&key.0)?;
        let list_key = self.place_key(place, *key);
        self.files.remove(&list_key)
    }

    // ---- uploads ----

    pub fn upload(&self, upload_id: &[u8]) -> Option<UploadSession> {
        let id: [u8; ID_BYTES] = upload_id.try_into().ok()?;
        self.uploads.get(&id)
    }

    pub fn insert_upload(&mut self, session: UploadSession) {
        self.upload_expiry.insert(TimedKey::new(session.expires_at_ns, session.upload_id), ());
        self.uploads.insert(session.upload_id, session);
    }

    /// Replaces a session whose expiry did not change.
    pub fn update_upload(&mut self, session: UploadSession) {
        self.uploads.insert(session.upload_id, session);
    }

    pub fn remove_upload(&mut self, upload_id: &[u8; ID_BYTES]) -> Option<UploadSession> {
        let session = self.uploads.remove(upload_id)?;
        self.upload_expiry.remove(&TimedKey::new(session.expires_at_ns, session.upload_id));
        Some(session)
    }

    // ---- signing keys ----

    /// The key that signs new tokens and URLs: the one neither pending nor
    /// retired (the newest, should there ever be two).
    pub fn active_key(&self) -> Option<(u32, [u8; 32])> {
        self.signing_keys.iter().rev().map(|e| e.into_pair()).find(|(_, k)| k.is_active()).map(|(kid, k)| (kid, k.seed))
    }

    /// The key published but not signing yet, if a rotation is under way.
    pub fn pending_key(&self) -> Option<(u32, SigningKeyRecord)> {
        self.signing_keys.iter().map(|e| e.into_pair()).find(|(_, k)| k.is_pending())
    }

    /// Every key that verifies (pending, active and retired), by kid.
    pub fn public_keys(&self) -> Vec<PublicKeyInfo> {
        self.signing_keys
            .iter()
            .map(|e| e.into_pair())
            .map(|(kid, k)| PublicKeyInfo { kid, key: sig::public_key(&k.seed).to_vec() })
            .collect()
    }

    /// The key ring `bucket` is sent (`set_key_ring`): every key that
    /// verifies, each with the MAC key derived for that bucket alone.
    pub fn key_ring_for(&self, bucket: Principal) -> Vec<BucketKey> {
        self.signing_keys
            .iter()
            .map(|e| e.into_pair())
            .map(|(kid, k)| BucketKey {
                kid,
                public_key: sig::public_key(&k.seed).to_vec(),
                mac_key: sig::bucket_mac_key(&k.seed, bucket).to_vec(),
            })
            .collect()
    }

    /// How a token or URL for `bucket` is signed: the active kid, with the
    /// bucket's MAC when it accepted the current key ring (so it holds that
    /// kid's MAC key), else with the Ed25519 key, which every bucket
    /// checks. Thousands of instructions in the bucket instead of ~2.1 M.
    pub fn signer_for(&self, bucket: Principal) -> Option<(u32, SignWith)> {
        let (kid, seed) = self.active_key()?;
        let current = self.buckets.get(&bucket).is_some_and(|b| b.keys_pushed_version >= self.runtime().keys_version);
        Some((kid, if current { SignWith::Mac(sig::bucket_mac_key(&seed, bucket)) } else { SignWith::Ed25519(seed) }))
    }

    // ---- bucket deletions ----

    /// Queues the deletion of a file's chunks in its bucket, due at `now`.
    pub fn queue_bucket_delete(
        &mut self,
        file_id: FileId,
        bucket: Principal,
        reason: DeleteReason,
        sweep_again_at_ns: Option<u64>,
        now_ns: u64,
    ) -> TimedKey {
        let key = TimedKey::new(now_ns, file_id.key().expect("16-byte file key").0);
        let sweep_again_at_ns = sweep_again_at_ns.filter(|t| *t > now_ns);
        let item = PendingDelete {
            file_id,
            bucket,
            reason,
            attempts: 0,
            enqueued_at_ns: now_ns,
            last_error: None,
            sweep_again_at_ns,
        };
        self.pending_deletes.insert(key, item);
        key
    }

    // ---- statistics ----

    /// Bytes of stable memory each structure occupies (whole 64 KiB pages).
    pub fn memory_bytes(&self) -> Vec<(String, u64)> {
        const WASM_PAGE: u64 = 65_536;
        ALL_MEMORIES.iter().map(|(name, id)| (name.to_string(), self.manager.get(*id).size() * WASM_PAGE)).collect()
    }
}
