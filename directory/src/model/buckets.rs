//! The bucket registry and its capacity accounting.

use super::storable::cbor_storable;
use depot_api::BucketId;
use depot_api::directory::{BucketInfo, BucketState};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BucketRecord {
    pub state: BucketState,
    /// The directory (not an admin) set Draining because the soft limit was
    /// reached; it sets Writable again when usage falls below it.
    pub auto_draining: bool,
    pub used_bytes: u64,
    pub reserved_bytes: u64,
    pub soft_limit_bytes: u64,
    pub hard_limit_bytes: u64,
    pub files_count: u64,
    /// Bytes the bucket already held when it was registered (not files of
    /// this directory); included in `used_bytes` so they count against the
    /// limits. Lets a consistency check tell them from the files' bytes.
    #[serde(default)]
    pub registered_used_bytes: u64,
    pub registered_at_ns: u64,
    /// `Runtime::keys_version` this bucket last accepted via `set_key_ring`.
    pub keys_pushed_version: u64,
    /// The key-push job does not call the bucket before this time (lease
    /// while a push is in flight, back-off after a failure).
    pub keys_push_not_before_ns: u64,
    /// Files of uploads in progress (each will be one file when committed).
    /// Added later: see `Runtime::reserved_files_counted`.
    #[serde(default)]
    pub reserved_files: u64,
    /// Files (Ready plus in progress) this bucket may hold.
    #[serde(default = "default_max_files")]
    pub max_files: u64,
    /// Created by the directory, still empty and kept back for when no
    /// other bucket has room.
    #[serde(default)]
    pub in_pool: bool,
    /// Created by the directory: it is a controller, reads the bucket's
    /// status and tops it up.
    #[serde(default)]
    pub provisioned: bool,
    /// The last `canister_status` read: balance, module hash, when.
    #[serde(default)]
    pub cycles: Option<u128>,
    #[serde(default)]
    pub module_hash: Option<Vec<u8>>,
    #[serde(default)]
    pub status_at_ns: Option<u64>,
    /// Cycles burned per day, measured between the last two status reads
    /// (storage, traffic, everything), at least the idle burn the IC
    /// reports.
    #[serde(default)]
    pub burn_per_day: Option<u128>,
    /// The balance under which it is topped up, and by how much, from the
    /// last read (`logic::fleet::top_up_plan`).
    #[serde(default)]
    pub top_up_below: Option<u128>,
}

fn default_max_files() -> u64 {
    depot_api::limits::DEFAULT_BUCKET_MAX_FILES
}
cbor_storable!(BucketRecord);

impl BucketRecord {
    pub fn committed_and_reserved(&self) -> u64 {
        self.used_bytes.saturating_add(self.reserved_bytes)
    }

    /// Its routing entry: class 0 (in use) or 1 (pooled) while Writable.
    pub fn route_key(&self, id: BucketId) -> Option<super::storable::RouteKey> {
        (self.state == BucketState::Writable)
            .then(|| super::storable::RouteKey::new(self.in_pool as u8, self.committed_and_reserved(), id))
    }

    /// Files held and being uploaded.
    pub fn files_and_reserved(&self) -> u64 {
        self.files_count.saturating_add(self.reserved_files)
    }

    /// Can take a new file of `size` without passing its soft limit or its
    /// file limit.
    pub fn fits(&self, size: u64) -> bool {
        self.state == BucketState::Writable
            && self.committed_and_reserved().saturating_add(size) <= self.soft_limit_bytes
            && self.files_and_reserved() < self.max_files
    }

    /// Applies the automatic Writable ⇄ Draining rule after usage changed.
    /// Admin-chosen states (Draining by hand, ReadOnly) are never touched.
    pub fn update_draining(&mut self) {
        let full =
            self.committed_and_reserved() >= self.soft_limit_bytes || self.files_and_reserved() >= self.max_files;
        match self.state {
            BucketState::Writable if full => {
                self.state = BucketState::Draining;
                self.auto_draining = true;
            }
            BucketState::Draining if self.auto_draining && !full => {
                self.state = BucketState::Writable;
                self.auto_draining = false;
            }
            _ => {}
        }
    }

    pub fn info(&self, id: BucketId) -> BucketInfo {
        BucketInfo {
            id,
            state: self.state,
            used_bytes: self.used_bytes,
            reserved_bytes: self.reserved_bytes,
            soft_limit_bytes: self.soft_limit_bytes,
            hard_limit_bytes: self.hard_limit_bytes,
            files_count: self.files_count,
            keys_version: self.keys_pushed_version,
            reserved_files: self.reserved_files,
            max_files: self.max_files,
            in_pool: self.in_pool,
            provisioned: self.provisioned,
            cycles: self.cycles.map(candid::Nat::from),
            module_hash: self.module_hash.clone().map(serde_bytes::ByteBuf::from),
            status_at_ns: self.status_at_ns,
            burn_cycles_per_day: self.burn_per_day.map(candid::Nat::from),
            top_up_below_cycles: self.top_up_below.map(candid::Nat::from),
        }
    }
}
