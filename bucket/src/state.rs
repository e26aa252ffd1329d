//! The canister's state: the stable store, the heap certification tree
//! and where an unfinished rebuild of that tree resumes. Opened by the
//! thread-local initialisers, which `init` and `post_upgrade` run first.

use crate::http::certs::CertTree;
use crate::model::BucketStore;
use depot_api::FileKey;
use depot_api::keys::PreparedMac;
use ic_stable_structures::DefaultMemoryImpl;
use std::cell::RefCell;

/// Where an unfinished rebuild of the certification tree resumes: after
/// this file (`None`: from the start). Absent when the tree is complete.
pub type RebuildCursor = Option<FileKey>;

thread_local! {
    static STORE: RefCell<BucketStore<DefaultMemoryImpl>> = RefCell::new(BucketStore::init(DefaultMemoryImpl::default()));
    static CERTS: RefCell<CertTree> = RefCell::new(CertTree::default());
    static REBUILD: RefCell<Option<RebuildCursor>> = const { RefCell::new(None) };
    /// The MAC keys of the stored ring, prepared (`depot_api::keys::
    /// PreparedMac`): remade whenever the ring changes (`prepare_macs`).
    /// Only a speed-up: a key is used only while the ring holds it.
    static PREPARED_MACS: RefCell<Vec<PreparedMac>> = const { RefCell::new(Vec::new()) };
    /// A timer for the next certification step is set (at most one is).
    static CERTIFY_SCHEDULED: RefCell<bool> = const { RefCell::new(false) };
}

pub fn with_store<R>(f: impl FnOnce(&BucketStore<DefaultMemoryImpl>) -> R) -> R {
    STORE.with(|s| f(&s.borrow()))
}

pub fn with_store_mut<R>(f: impl FnOnce(&mut BucketStore<DefaultMemoryImpl>) -> R) -> R {
    STORE.with(|s| f(&mut s.borrow_mut()))
}

pub fn with_certs<R>(f: impl FnOnce(&CertTree) -> R) -> R {
    CERTS.with(|c| f(&c.borrow()))
}

pub fn with_certs_mut<R>(f: impl FnOnce(&mut CertTree) -> R) -> R {
    CERTS.with(|c| f(&mut c.borrow_mut()))
}

pub fn rebuild_cursor() -> Option<RebuildCursor> {
    REBUILD.with(|r| *r.borrow())
}

pub fn set_rebuild_cursor(c: Option<RebuildCursor>) {
    REBUILD.with(|r| *r.borrow_mut() = c);
}

pub fn certification_scheduled() -> bool {
    CERTIFY_SCHEDULED.with(|r| *r.borrow())
}

pub fn set_certification_scheduled(v: bool) {
    CERTIFY_SCHEDULED.with(|r| *r.borrow_mut() = v);
}

/// Prepares the MAC keys the store's ring holds now; call after any change
/// of the ring, and on install and upgrade.
pub fn prepare_macs() {
    let prepared = with_store(|s| s.config().mac_keys.iter().map(PreparedMac::new).collect());
    PREPARED_MACS.set(prepared);
}

pub fn with_prepared_macs<R>(f: impl FnOnce(&[PreparedMac]) -> R) -> R {
    PREPARED_MACS.with(|p| f(&p.borrow()))
}
