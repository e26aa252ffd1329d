//! Typed errors. Every bad input maps to one of these and leaves
//! canister state untouched.

use crate::ids::BucketId;
use candid::CandidType;
use serde::{Deserialize, Serialize};

/// Errors of the bucket canister.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BucketError {
    #[error("unauthorised: {reason}")]
    Unauthorised { reason: String },
    #[error("upload token expired")]
    TokenExpired,
    #[error("chunk of {size} bytes is larger than {max}")]
    ChunkTooLarge { size: u64, max: u64 },
    /// A chunk that is not the last must be exactly `chunk_size` bytes; the
    /// last exactly the remainder.
    #[error("chunk {index} has {actual} bytes, expected {expected}")]
    ChunkSizeMismatch { index: u32, expected: u64, actual: u64 },
    #[error("chunk index {index} is not allowed by this token (allowed {first}..={last})")]
    ChunkNotAllowed { index: u32, first: u32, last: u32 },
    /// A chunk already stored with other bytes: stored chunks never change.
    #[error("chunk {index} is already stored with different bytes")]
    ChunkConflict { index: u32 },
    #[error("out of space: need {needed} bytes, {available} available")]
    OutOfSpace { needed: u64, available: u64 },
    #[error("bucket is read-only")]
    ReadOnly,
    #[error("not found")]
    NotFound,
    #[error("upload incomplete, missing {} chunk(s)", missing.len())]
    UploadIncomplete { missing: Vec<u32> },
    #[error("file hash does not match the declared SHA-256")]
    HashMismatch {
        #[serde(with = "serde_bytes")]
        expected: Vec<u8>,
        #[serde(with = "serde_bytes")]
        actual: Vec<u8>,
    },
    /// Hashing a large file spans several messages; call `commit_file` again.
    #[error("hashing in progress: {hashed_bytes} of {total_bytes} bytes")]
    HashInProgress { hashed_bytes: u64, total_bytes: u64 },
    #[error("file is already committed")]
    AlreadyCommitted,
    #[error("invalid request: {reason}")]
    InvalidRequest { reason: String },
}

/// Errors of the directory canister.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("unauthorised")]
    Unauthorised,
    #[error("not found")]
    NotFound,
    #[error("quota exceeded: requested {requested} bytes, {available} available")]
    QuotaExceeded { requested: u64, available: u64 },
    #[error("insufficient credit: {required} required, {available} available")]
    InsufficientCredit { required: u64, available: u64 },
    #[error("invalid size {size}: must be between {min} and {max} bytes")]
    InvalidSize { size: u64, min: u64, max: u64 },
    #[error("invalid request: {reason}")]
    InvalidRequest { reason: String },
    #[error("too many uploads in progress (limit {limit})")]
    TooManyInProgressUploads { limit: u32 },
    #[error("rate limited: retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("upload not found")]
    UploadNotFound,
    #[error("upload expired")]
    UploadExpired,
    #[error("upload incomplete, missing {} chunk(s)", missing.len())]
    UploadIncomplete { missing: Vec<u32> },
    #[error("file hash does not match the declared SHA-256")]
    HashMismatch,
    /// No bucket can take the upload now: never accept what
    /// cannot be stored.
    #[error("service temporarily unavailable: {reason}")]
    ServiceTemporarilyUnavailable { reason: String },
    /// The bucket answered with an error the directory passes on.
    #[error("bucket {bucket} failed: {error}")]
    Bucket { bucket: BucketId, error: BucketError },
    #[error("internal error {code}: {message}")]
    InternalError { code: u32, message: String },
}

/// What went wrong inside the directory when it answers
/// [`DirectoryError::InternalError`]: each variant has a fixed wire `code`,
/// so a client can map the code back with [`InternalFault::from_code`] or
/// [`DirectoryError::fault`]. Codes are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InternalFault {
    /// A call to a bucket was rejected or could not be made.
    BucketCallFailed,
    /// The upload session vanished while a commit awaited the bucket.
    CommitSessionLost,
    /// The management canister's `raw_rand` failed.
    RandomnessUnavailable,
    /// The directory's usage counters do not match its files and upload
    /// sessions; the operation changed nothing.
    AccountingDrift,
    /// The bucket was still hashing the file after the directory's last
    /// `commit_file` call; committing again continues.
    BucketStillHashing,
}

impl InternalFault {
    /// Every fault, for mapping codes back.
    pub const ALL: [InternalFault; 5] = [
        InternalFault::BucketCallFailed,
        InternalFault::CommitSessionLost,
        InternalFault::RandomnessUnavailable,
        InternalFault::AccountingDrift,
        InternalFault::BucketStillHashing,
    ];

    /// The wire code of `InternalError { code, .. }`: the one place codes
    /// are assigned.
    pub const fn code(self) -> u32 {
        match self {
            InternalFault::BucketCallFailed => 1,
            InternalFault::CommitSessionLost => 2,
            InternalFault::RandomnessUnavailable => 3,
            InternalFault::AccountingDrift => 4,
            InternalFault::BucketStillHashing => 5,
        }
    }

    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }
}

impl DirectoryError {
    /// The only way an `InternalError` is built: its code comes from `fault`.
    pub fn internal(fault: InternalFault, message: impl Into<String>) -> Self {
        DirectoryError::InternalError { code: fault.code(), message: message.into() }
    }

    /// The fault of an `InternalError` with a known code.
    pub fn fault(&self) -> Option<InternalFault> {
        match self {
            DirectoryError::InternalError { code, .. } => InternalFault::from_code(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod internal_fault_tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_map_back() {
        for f in InternalFault::ALL {
            assert_eq!(InternalFault::from_code(f.code()), Some(f));
            assert_eq!(DirectoryError::internal(f, "m").fault(), Some(f));
        }
        assert_eq!(InternalFault::from_code(0), None);
        assert_eq!(DirectoryError::NotFound.fault(), None);
    }
}
