//! The canister's state: the stable store and the heap certification tree.

use crate::http::answer::file_view;
use crate::http::certs::CertTree;
use crate::model::BucketStore;
use ic_stable_structures::DefaultMemoryImpl;
use std::cell::RefCell;

thread_local! {
    static STORE: RefCell<BucketStore<DefaultMemoryImpl>> = RefCell::new(BucketStore::init(DefaultMemoryImpl::default()));
    static CERTS: RefCell<CertTree> = RefCell::new(CertTree::default());
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

/// Builds the certification tree from stable state (init and post_upgrade).
pub fn rebuild_certification<M: ic_stable_structures::Memory>(store: &BucketStore<M>) -> CertTree {
    let mut tree = CertTree::default();
    tree.insert_fallbacks();
    for (key, _) in store.committed_files() {
        let view = file_view(store, &key).expect("committed file has a view");
        tree.insert_file(&view, &store.chunk_hashes(&key));
    }
    tree
}
