//! Candid types of the bucket canister (`bucket/bucket.did`).

use crate::error::BucketError;
use crate::ids::FileId;
use crate::keys::PublicKeyInfo;
use crate::token::UploadToken;
use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};

/// Install argument of a bucket.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BucketInit {
    /// The only principal allowed to commit, delete, set keys and read-only.
    pub directory: Principal,
    /// Directory public keys for tokens and URLs.
    pub keys: Vec<PublicKeyInfo>,
    /// Bytes this bucket may store (logical chunk bytes); defaults to
    /// `DEFAULT_BUCKET_CAPACITY_BYTES` in the bucket.
    pub capacity_bytes: Option<u64>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PutChunkArgs {
    pub token: UploadToken,
    pub chunk_index: u32,
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// [`PutChunkArgs`] with its bytes borrowed from the buffer it is decoded
/// from: the same Candid type, decoded without copying the chunk (a copy
/// costs an instruction per byte in wasm, ~1 M per MiB).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PutChunkArgsRef<'a> {
    pub token: UploadToken,
    pub chunk_index: u32,
    pub bytes: &'a [u8],
}

impl PutChunkArgs {
    /// The same arguments, borrowing the bytes.
    pub fn as_ref(&self) -> PutChunkArgsRef<'_> {
        PutChunkArgsRef { token: self.token.clone(), chunk_index: self.chunk_index, bytes: &self.bytes }
    }
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PutChunkOk {
    pub stored_bytes: u32,
    /// SHA-256 of the chunk.
    #[serde(with = "serde_bytes")]
    pub etag: Vec<u8>,
}

pub type PutChunkResult = Result<PutChunkOk, BucketError>;

/// Read one chunk: the file's owner or the directory.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GetChunkArgs {
    pub file_id: FileId,
    pub chunk_index: u32,
}

pub type GetChunkResult = Result<serde_bytes::ByteBuf, BucketError>;

/// Which chunks of a file are stored (for resume and commit).
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChunkPresence {
    pub chunk_count: u32,
    pub size_bytes: u64,
    pub stored_bytes: u64,
    /// Sorted indices of stored chunks.
    pub present: Vec<u32>,
    pub committed: bool,
}

pub type ListChunksResult = Result<ChunkPresence, BucketError>;

/// Sent by the directory at `commit_upload`.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CommitFileArgs {
    pub file_id: FileId,
    #[serde(with = "serde_bytes")]
    pub upload_id: Vec<u8>,
    pub name: String,
    pub mime: String,
    /// Set by the directory for a file of 0 bytes, which no `put_chunk`
    /// announced to the bucket: the bucket creates its record at commit.
    pub empty_file: Option<EmptyFile>,
}

/// What the bucket needs to create the record of a 0-byte file.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EmptyFile {
    pub chunk_size: u32,
    /// The SHA-256 declared at `start_upload`, checked as for other files.
    pub sha256: Option<serde_bytes::ByteBuf>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CommitFileOk {
    pub size_bytes: u64,
    /// Whole-file SHA-256, when the upload declared one (then it matched).
    pub sha256: Option<serde_bytes::ByteBuf>,
    /// The strong ETag the bucket serves for the file.
    pub etag: String,
}

pub type CommitFileResult = Result<CommitFileOk, BucketError>;

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DeleteFileArgs {
    pub file_id: FileId,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DeleteFileOk {
    pub freed_bytes: u64,
}

pub type DeleteFileResult = Result<DeleteFileOk, BucketError>;

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BucketStat {
    /// Logical bytes of all stored chunks (committed and in-progress files).
    pub used_bytes: u64,
    /// Bytes of committed files only.
    pub committed_bytes: u64,
    /// Bytes of stable memory held by chunk slots (≥ used_bytes).
    pub allocated_bytes: u64,
    pub capacity_bytes: u64,
    pub free_bytes: u64,
    pub stable_memory_bytes: u64,
    pub files_count: u64,
    pub chunks_count: u64,
    /// Responses in the HTTP certification tree.
    pub certified_responses: u64,
    pub read_only: bool,
    pub version: String,
}

pub type UnitResult = Result<(), BucketError>;

/// `set_suspended` (directory only): files of an owner whose account is
/// suspended for non-payment stop being served (a certified 402), and are
/// served again when `suspended` is false. At most
/// `limits::MAX_FILES_PER_SUSPEND_CALL` files.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SetSuspendedArgs {
    pub files: Vec<FileId>,
    pub suspended: bool,
}

/// How many of the files changed state (unknown, uncommitted or already
/// set files are skipped).
pub type SetSuspendedResult = Result<u32, BucketError>;
