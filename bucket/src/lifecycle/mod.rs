//! Install and upgrade. Everything but the certification tree is in stable
//! memory already; the tree is rebuilt on the heap from stable metadata and
//! chunk hashes (no body is read), within a budget per message.

use crate::http::certs::CertTree;
use crate::model::BucketStore;
use crate::state::{self, RebuildCursor};
use ic_stable_structures::Memory;

/// Instructions `post_upgrade` may spend on the certification tree; the
/// rest of a large bucket is rebuilt by timer steps (docs/storage.md §4).
pub const REBUILD_INSTRUCTIONS_IN_UPGRADE: u64 = 150_000_000_000;
/// Instructions per timer step of that rebuild (update limit: 40 B).
pub const REBUILD_INSTRUCTIONS_PER_STEP: u64 = 20_000_000_000;

/// Starts from an empty tree (with the fallbacks) and adds files until the
/// budget is spent; a timer carries on from there. Until a file is back in
/// the tree, its requests are answered by `http_request_update`.
pub fn install_certification(budget: u64) {
    let mut tree = CertTree::default();
    tree.insert_fallbacks();
    state::with_certs_mut(|c| *c = tree);
    state::set_rebuild_cursor(Some(None));
    continue_rebuild(budget);
}

fn continue_rebuild(budget: u64) {
    let Some(cursor) = state::rebuild_cursor() else { return };
    let next = state::with_store(|s| {
        state::with_certs_mut(|c| rebuild_step(s, c, cursor, || ic_cdk::api::instruction_counter() > budget))
    });
    state::set_rebuild_cursor(next);
    publish_root_hash();
    if next.is_some() {
        ic_cdk_timers::set_timer(std::time::Duration::ZERO, || continue_rebuild(REBUILD_INSTRUCTIONS_PER_STEP));
    }
}

/// Makes the tree's root the canister's certified data.
pub fn publish_root_hash() {
    state::with_certs(|c| ic_cdk::api::set_certified_data(&c.root_hash()));
}

/// Adds committed files to `tree` in key order, starting after `cursor`,
/// until `out_of_budget()` says stop (checked after each file). Returns
/// where to resume, or `None` when every file is in.
pub fn rebuild_step<M: Memory>(
    store: &BucketStore<M>,
    tree: &mut CertTree,
    cursor: RebuildCursor,
    mut out_of_budget: impl FnMut() -> bool,
) -> Option<RebuildCursor> {
    for (key, _) in store.committed_files_after(cursor) {
        let view = store.file_view(&key).expect("committed file has a view");
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
pub fn rebuild_certification<M: Memory>(store: &BucketStore<M>) -> CertTree {
    let mut tree = CertTree::default();
    tree.insert_fallbacks();
    rebuild_step(store, &mut tree, None, || false);
    tree
}
