//! Typed errors (spec §12). Every bad input maps to one of these and leaves
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
    /// No bucket can take the upload now (spec §9.3): never accept what
    /// cannot be stored.
    #[error("service temporarily unavailable: {reason}")]
    ServiceTemporarilyUnavailable { reason: String },
    /// The bucket answered with an error the directory passes on.
    #[error("bucket {bucket} failed: {error}")]
    Bucket { bucket: BucketId, error: BucketError },
    #[error("internal error {code}: {message}")]
    InternalError { code: u32, message: String },
}
