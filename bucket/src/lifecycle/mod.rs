//! Install and upgrade. Everything but the certification tree is in stable
//! memory already, the files' certified response hashes included; the
//! tree's heap index is rebuilt from them, within a budget per message.

pub mod stream_key;

use crate::http::certs::{CertTree, next_response_format, response_fingerprint};
use crate::model::BucketStore;
use crate::state::{self, RebuildCursor};
use ic_stable_structures::Memory;

/// Instructions `post_upgrade` may spend putting files back in the
/// certification tree; the rest of a large bucket is rebuilt by timer
/// steps (docs/storage.md §4). The tree's hashes are made once at the end
/// of a step, for at most half of what the files took (two fork hashes per
/// file against reading its set and hashing its labels), so a step stays
/// within 1.5 × its budget: 225 B of the 300 B an upgrade may use.
pub const REBUILD_INSTRUCTIONS_IN_UPGRADE: u64 = 150_000_000_000;
/// Instructions per timer step of that rebuild (update limit: 40 B).
pub const REBUILD_INSTRUCTIONS_PER_STEP: u64 = 20_000_000_000;

/// Starts from an empty tree (with the fallbacks) and adds files until the
/// budget is spent; a timer carries on from there. Until a file is back in
/// the tree, its requests are answered by `http_request_update`.
pub fn install_certification(budget: u64) {
    let format = state::with_store_mut(|s| {
        let format = next_response_format(s.config().response_format, response_fingerprint());
        s.update_config(|c| c.response_format = Some(format));
        format
    });
    state::with_certs_mut(|c| *c = CertTree::new(format.generation));
    state::set_rebuild_cursor(Some(None));
    continue_certification(budget);
}

/// One step of the certification backlog (files partly in the tree, then
/// the rebuild), within `budget` instructions for the whole message; when
/// work remains, a timer takes the next step in a new message.
pub fn continue_certification(budget: u64) {
    let cursor = state::rebuild_cursor();
    let next = state::with_store_mut(|s| {
        state::with_certs_mut(|c| certify_step(s, c, cursor, || ic_cdk::api::instruction_counter() > budget))
    });
    state::set_rebuild_cursor(next);
    publish_root_hash();
    schedule_certification();
}

/// Sets a timer for the next step if work remains and none is set.
pub fn schedule_certification() {
    let pending = state::rebuild_cursor().is_some() || state::with_certs(|c| c.first_partial().is_some());
    if pending && !state::certification_scheduled() {
        state::set_certification_scheduled(true);
        ic_cdk_timers::set_timer(std::time::Duration::ZERO, || {
            state::set_certification_scheduled(false);
            continue_certification(REBUILD_INSTRUCTIONS_PER_STEP);
        });
    }
}

/// Makes the tree's root the canister's certified data.
pub fn publish_root_hash() {
    state::with_certs(|c| ic_cdk::api::set_certified_data(&c.root_hash()));
}

/// Finishes files being certified, then (when `cursor` is set: a rebuild
/// is under way) adds committed files in key order after it, until
/// `out_of_budget()` says stop (asked after each response made, and after
/// each file). Returns the rebuild cursor to resume from: `None` once every
/// committed file has been reached. A file reached but not finished is
/// finished first next time. The tree is rehashed once, at the end.
pub fn certify_step<M: Memory>(
    store: &mut BucketStore<M>,
    tree: &mut CertTree,
    cursor: Option<RebuildCursor>,
    out_of_budget: impl FnMut() -> bool,
) -> Option<RebuildCursor> {
    let next = certify_files(store, tree, cursor, out_of_budget);
    tree.rehash();
    next
}

fn certify_files<M: Memory>(
    store: &mut BucketStore<M>,
    tree: &mut CertTree,
    cursor: Option<RebuildCursor>,
    mut out_of_budget: impl FnMut() -> bool,
) -> Option<RebuildCursor> {
    while let Some(key) = tree.first_partial() {
        if !tree.insert_file_until(store, &key, &mut out_of_budget) || out_of_budget() {
            return cursor;
        }
    }
    let mut after = cursor?;
    loop {
        let key = store.committed_files_after(after).next().map(|(k, _)| k)?;
        let done = tree.insert_file_until(store, &key, &mut out_of_budget);
        if !done || out_of_budget() {
            return Some(Some(key));
        }
        after = Some(key);
    }
}

/// The whole certification tree at once: the reference the stepwise
/// rebuild is tested against.
#[cfg(test)]
pub fn rebuild_certification<M: Memory>(store: &mut BucketStore<M>) -> CertTree {
    let format = store.config().response_format.map_or(0, |f| f.generation);
    let mut tree = CertTree::new(format);
    certify_step(store, &mut tree, Some(None), || false);
    tree
}
