//! The bucket's decisions: who may call, what a token allows, when a file
//! is complete. Each `*_impl(store, caller, now, args)` checks everything
//! first and returns a typed error without touching the store, or applies
//! all of its changes; it never calls ic-cdk, so every rule runs in native
//! tests. Endpoints in `lib.rs` read the caller and the clock, call one of
//! these, and apply the [`CertChange`] it reports to the certification tree.

pub mod admin;
pub mod commit;
pub mod delete;
pub mod etag;
pub mod hashing;
pub mod put_chunk;
pub mod read;

use crate::model::{BucketStore, FileView};
use candid::Principal;
use depot_api::{BucketError, FileId, FileKey};
use ic_stable_structures::Memory;

/// What a change did to the set of certified (committed) files; the
/// endpoint updates the certification tree and the certified data from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertChange {
    Unchanged,
    /// A file was committed or resumed: its responses enter the tree.
    Added(FileKey),
    /// A committed file was deleted or suspended: its responses leave the tree.
    Removed(FileView),
}

pub(crate) fn unauthorised(reason: impl Into<String>) -> BucketError {
    BucketError::Unauthorised { reason: reason.into() }
}

pub(crate) fn invalid(reason: impl Into<String>) -> BucketError {
    BucketError::InvalidRequest { reason: reason.into() }
}

pub(crate) fn key_of(file_id: &FileId) -> Result<FileKey, BucketError> {
    file_id.key().ok_or_else(|| invalid("file id must be 16 bytes"))
}

/// Methods that change what the bucket holds or trusts: the directory only.
pub(crate) fn require_directory<M: Memory>(store: &BucketStore<M>, caller: Principal) -> Result<(), BucketError> {
    if caller != store.config().directory {
        return Err(unauthorised("only the directory may call this"));
    }
    Ok(())
}
