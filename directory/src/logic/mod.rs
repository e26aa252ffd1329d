//! The directory's decisions as pure functions over `State`: each takes the
//! caller and the time as arguments, returns a typed error without touching
//! state, or applies all of its changes. Endpoints in `lib.rs` only read the
//! caller and the clock, and await bucket calls between a `begin_*` and a
//! `finish_*` step.

pub mod accounting;
pub mod admin;
pub mod admission;
pub mod billing;
pub mod commit;
pub mod files;
pub mod fleet;
pub mod keys;
pub mod provisioning;
pub mod rollout;
pub mod shares;
pub mod suspension;
pub mod upload;
pub mod validate;

use candid::Principal;
use depot_api::DirectoryError;
use depot_api::error::InternalFault;
use ic_cdk::api::call::RejectionCode;
use std::fmt;

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

/// A bucket call that produced no answer from the bucket's code. (A
/// bucket's own error is an answer: it stays in the call's typed result.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallFailure {
    /// The system rejected the call, or the bucket trapped or rejected it.
    Rejected { code: RejectionCode, message: String },
    /// `commit_file` still answered `HashInProgress` after `rounds` calls.
    StillHashing { rounds: u32 },
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The numeric reject code, as the IC specification numbers it.
            CallFailure::Rejected { code, message } => write!(f, "call rejected ({}): {message}", *code as i32),
            CallFailure::StillHashing { rounds } => write!(f, "bucket still hashing after {rounds} calls"),
        }
    }
}

impl From<CallFailure> for DirectoryError {
    fn from(f: CallFailure) -> Self {
        match f {
            CallFailure::Rejected { code, message } => DirectoryError::internal(
                InternalFault::BucketCallFailed,
                format!("bucket call rejected (code {}): {message}", code as i32),
            ),
            still @ CallFailure::StillHashing { .. } => {
                DirectoryError::internal(InternalFault::BucketStillHashing, still.to_string())
            }
        }
    }
}
