//! The directory's decisions as pure functions over `State`: each takes the
//! caller and the time as arguments, returns a typed error without touching
//! state, or applies all of its changes. Endpoints in `lib.rs` only read the
//! caller and the clock, and await bucket calls between a `begin_*` and a
//! `finish_*` step.

pub mod accounting;
pub mod admin;
pub mod commit;
pub mod files;
pub mod keys;
pub mod upload;
pub mod validate;

use candid::Principal;
use depot_api::DirectoryError;

/// `InternalError` codes.
pub mod codes {
    /// A call to a bucket was rejected or could not be made.
    pub const BUCKET_CALL_FAILED: u32 = 1;
    /// The upload session vanished while a commit awaited the bucket.
    pub const COMMIT_SESSION_LOST: u32 = 2;
    /// `raw_rand` failed.
    pub const RANDOMNESS_UNAVAILABLE: u32 = 3;
    /// The usage counters do not match the files and sessions
    /// (`accounting::AccountingError`).
    pub const ACCOUNTING_DRIFT: u32 = 4;
}

/// Anonymous callers are refused by every method but `get_public_keys`.
pub fn require_user(caller: Principal) -> Result<(), DirectoryError> {
    if caller == Principal::anonymous() { Err(DirectoryError::Unauthorised) } else { Ok(()) }
}

pub fn invalid(reason: impl Into<String>) -> DirectoryError {
    DirectoryError::InvalidRequest { reason: reason.into() }
}

pub fn unavailable(reason: impl Into<String>) -> DirectoryError {
    DirectoryError::ServiceTemporarilyUnavailable { reason: reason.into() }
}

/// What a failed inter-canister call becomes for the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallFailure {
    pub code: i32,
    pub message: String,
}

impl From<CallFailure> for DirectoryError {
    fn from(f: CallFailure) -> Self {
        DirectoryError::InternalError {
            code: codes::BUCKET_CALL_FAILED,
            message: format!("bucket call rejected (code {}): {}", f.code, f.message),
        }
    }
}
