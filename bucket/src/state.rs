//! The canister's state: the stable store and the heap certification tree.

use crate::http::answer::file_view;
use crate::http::certs::CertTree;
use crate::model::BucketStore;
use depot_api::FileKey;
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

/// Where an unfinished rebuild of the certification tree resumes: after
/// this file (`None`: from the start). Absent when the tree is complete.
pub type RebuildCursor = Option<FileKey>;

thread_local! {
    static REBUILD: RefCell<Option<RebuildCursor>> = const { RefCell::new(None) };
}

pub fn rebuild_cursor() -> Option<RebuildCursor> {
    REBUILD.with(|r| *r.borrow())
}

pub fn set_rebuild_cursor(c: Option<RebuildCursor>) {
    REBUILD.with(|r| *r.borrow_mut() = c);
}

/// Adds committed files to `tree` in key order, starting after `cursor`,
/// until `out_of_budget()` says stop (checked after each file). Returns
/// where to resume, or `None` when every file is in.
pub fn rebuild_step<M: ic_stable_structures::Memory>(
    store: &BucketStore<M>,
    tree: &mut CertTree,
    cursor: RebuildCursor,
    mut out_of_budget: impl FnMut() -> bool,
) -> Option<RebuildCursor> {
    for (key, _) in store.committed_files_after(cursor) {
        let view = file_view(store, &key).expect("committed file has a view");
        tree.insert_file(&view, &store.chunk_hashes(&key));
        if out_of_budget() {
            return Some(Some(key));
        }
    }
    None
}

/// The whole certification tree at once: the reference the stepwise
/// rebuild is tested against.
#[cfg(test)]
pub fn rebuild_certification<M: ic_stable_structures::Memory>(store: &BucketStore<M>) -> CertTree {
    let mut tree = CertTree::default();
    tree.insert_fallbacks();
    rebuild_step(store, &mut tree, None, || false);
    tree
}
