//! Unpaid accounts (`docs/billing.md` §4): once an account is `Suspended`,
//! the buckets hold its files back (a certified 402); paid again, they serve
//! them; past the deletion period, the files are deleted.
//!
//! The account's state is a function of time (`billing::account_state_at`);
//! what the buckets were told is kept per file (`FileRecord::suspended`,
//! set once the bucket confirmed) and per account (`files_suspended`: the
//! target the files are being brought to). The job (`jobs::update_serving`)
//! alternates a pure step here with one bucket call.

use super::CallFailure;
use super::billing::{CreditChange, account_state_at};
use crate::model::State;
use crate::model::storable::{ListKey, TimedKey};
use candid::Principal;
use depot_api::billing::AccountState;
use depot_api::bucket::SetSuspendedResult;
use depot_api::directory::FileStatus;
use depot_api::limits::MAX_FILES_PER_SUSPEND_CALL;
use depot_api::{BucketId, FileId};

/// Files deleted per step once the deletion period has passed.
pub const DELETE_BATCH: usize = 100;

/// One bucket call: hold back (or serve again) some of a user's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServingChange {
    pub user: Principal,
    pub bucket: BucketId,
    pub files: Vec<FileId>,
    pub suspend: bool,
}

/// The account's state now, storage accrued up to now included.
fn state_now(state: &State, user: Principal, now_ns: u64) -> AccountState {
    let account = CreditChange::open(state, user, now_ns).account;
    account_state_at(state.pricing(), &account, now_ns)
}

/// Whether `user`'s files should be held back now.
pub fn should_suspend(state: &State, user: Principal, now_ns: u64) -> bool {
    matches!(state_now(state, user, now_ns), AccountState::Suspended { .. })
}

/// Whether the deletion period of `user`'s account has passed.
pub fn deletion_due(state: &State, user: Principal, now_ns: u64) -> bool {
    matches!(state_now(state, user, now_ns), AccountState::Suspended { delete_at_ns, .. } if now_ns >= delete_at_ns)
}

/// Whether the job has anything to do for this user: files to hold back
/// or serve again, or to delete.
pub fn needs_attention(state: &State, user: Principal, now_ns: u64) -> bool {
    let target = should_suspend(state, user, now_ns);
    // While suspended, look every time: a file committed meanwhile (its
    // upload began before the grace period) is still served.
    target || state.account(user).files_suspended
}

/// The next bucket call for `user`: files (Ready) whose serving differs
/// from the target, all on the bucket of the first one, at most
/// `MAX_FILES_PER_SUSPEND_CALL`. `None` when every file is as it should be;
/// the account then records the target.
pub fn next_serving_change(state: &mut State, user: Principal, now_ns: u64) -> Option<ServingChange> {
    let suspend = should_suspend(state, user, now_ns);
    let mut change: Option<ServingChange> = None;
    for (_, f) in state.files.range(ListKey::first_of(user)..=ListKey::last_of(user)) {
        if f.meta.status != FileStatus::Ready || f.suspended == suspend {
            continue;
        }
        let c = change.get_or_insert_with(|| ServingChange { user, bucket: f.meta.bucket, files: vec![], suspend });
        if f.meta.bucket == c.bucket {
            c.files.push(f.meta.file_id);
            if c.files.len() == MAX_FILES_PER_SUSPEND_CALL {
                break;
            }
        }
    }
    if change.is_none() {
        let mut account = state.account(user);
        if account.files_suspended != suspend {
            account.files_suspended = suspend;
            state.accounts.insert(user, account);
        }
    }
    change
}

/// The bucket's answer: files it confirmed are marked. A refused or failed
/// call changes nothing (the job tries again).
pub fn finish_serving_change(
    state: &mut State,
    change: &ServingChange,
    answer: Result<SetSuspendedResult, CallFailure>,
) -> bool {
    if !matches!(answer, Ok(Ok(_))) {
        return false;
    }
    for id in &change.files {
        let Some(key) = id.key() else { continue };
        if let Some((list_key, mut record)) = state.file_by_key(&key.0)
            && record.meta.status == FileStatus::Ready
        {
            record.suspended = change.suspend;
            state.files.insert(list_key, record);
        }
    }
    true
}

/// Past the deletion period: deletes up to `batch` of the user's Ready
/// files, as their owner's `delete_file` would, and returns the queued
/// bucket deletions. A file whose books do not add up is left (and
/// counted as drift by the usual checks).
pub fn delete_unpaid(state: &mut State, user: Principal, now_ns: u64, batch: usize) -> Vec<TimedKey> {
    if !deletion_due(state, user, now_ns) {
        return vec![];
    }
    let ready: Vec<(ListKey, crate::model::files::FileRecord)> = state
        .files
        .range(ListKey::first_of(user)..=ListKey::last_of(user))
        .filter(|(_, f)| f.meta.status == FileStatus::Ready)
        .take(batch)
        .collect();
    ready
        .into_iter()
        .filter_map(|(list_key, record)| super::files::delete_ready(state, list_key, record, now_ns).ok())
        .collect()
}
