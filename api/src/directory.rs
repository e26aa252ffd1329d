//! Candid types of the directory canister (`directory/directory.did`).

use crate::error::DirectoryError;
use crate::ids::{BucketId, FileId};
use crate::keys::PublicKeyInfo;
use crate::token::UploadToken;
use crate::url::Disposition;
use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

#[derive(CandidType, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileStatus {
    Pending,
    Ready,
    Deleted,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileMeta {
    pub file_id: FileId,
    pub name: String,
    pub mime: String,
    pub size_bytes: u64,
    pub chunk_size: u32,
    pub chunk_count: u32,
    pub created_at_ns: u64,
    pub updated_at_ns: u64,
    pub status: FileStatus,
    pub sha256: Option<ByteBuf>,
    /// The one bucket holding every chunk of the file: a file is never
    /// split across buckets, so one signed URL serves all of it.
    pub bucket: BucketId,
    /// When the file's retention period ends and it is deleted; none: kept
    /// until its owner deletes it. Added later: older records have none.
    #[serde(default)]
    pub delete_at_ns: Option<u64>,
}

/// Directory settings; every field of the install argument is optional and
/// falls back to the defaults of `depot_api::limits`.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DirectoryInit {
    /// Host of a bucket's URLs, `{bucket}` replaced by its id, e.g.
    /// `{bucket}.icp0.io` (mainnet) or `{bucket}.localhost:4943` (devnet).
    pub domain_template: Option<String>,
    /// `https` on mainnet; `http` for a local network.
    pub url_scheme: Option<String>,
    pub chunk_size: Option<u32>,
    pub upload_token_ttl_secs: Option<u64>,
    pub upload_session_ttl_secs: Option<u64>,
    pub max_download_url_ttl_secs: Option<u64>,
    pub default_quota_bytes: Option<u64>,
    pub max_uploads_in_progress: Option<u32>,
    pub start_upload_per_minute: Option<u32>,
    pub max_file_size: Option<u64>,
    /// `get_upload_token` calls per user per minute.
    pub upload_tokens_per_minute: Option<u32>,
    /// Tokens one upload session may be issued over its life.
    pub max_tokens_per_upload: Option<u32>,
    /// Capacity (bytes) of the buckets the directory creates; their hard
    /// limit, with the soft limit at `BUCKET_SOFT_LIMIT_PERCENT` of it.
    pub bucket_capacity_bytes: Option<u64>,
    /// Ready, empty buckets kept in the pool.
    pub bucket_pool_target: Option<u32>,
    /// Cycles each new bucket is created with.
    pub bucket_creation_cycles: Option<candid::Nat>,
    /// The directory provisions nothing that would leave it below this.
    pub directory_reserve_cycles: Option<candid::Nat>,
    /// Files per bucket (Ready plus in progress).
    pub bucket_max_files: Option<u64>,
    /// Controllers given to created buckets besides the directory.
    pub bucket_controllers: Option<Vec<Principal>>,
    pub bucket_freezing_threshold_secs: Option<u64>,
    /// A bucket under this balance is topped up by `bucket_top_up_cycles`.
    pub bucket_top_up_threshold_cycles: Option<candid::Nat>,
    pub bucket_top_up_cycles: Option<candid::Nat>,
    /// Who creates buckets (default: the management canister).
    pub bucket_factory: Option<BucketFactory>,
    /// Where share links point, `{share}` replaced by the share id, e.g.
    /// `https://<gateway>.icp0.io/s/{share}` (the stable link that
    /// redirects is that URL with `/raw`). Empty: none (the default), and
    /// shares carry no URL.
    pub share_url_template: Option<String>,
}

/// Who creates the directory's buckets.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub enum BucketFactory {
    /// The management canister: buckets on the directory's own subnet.
    #[default]
    ManagementCanister,
    /// The cycles minting canister (`rkp4c-7iaaa-aaaaa-aaaca-cai` on
    /// mainnet): buckets on `subnet`, or on any subnet of `subnet_type`
    /// (e.g. `"application"`, `"european"`), or where it chooses.
    CyclesMintingCanister { cmc: Principal, subnet: Option<Principal>, subnet_type: Option<String> },
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StartUploadReq {
    pub name: String,
    /// Guessed from the name when absent.
    pub mime: Option<String>,
    pub size_bytes: u64,
    /// Declared whole-file SHA-256: the commit fails unless the bytes match.
    pub sha256: Option<ByteBuf>,
    /// Keep the file this many days from now (1..=`MAX_RETENTION_DAYS`),
    /// then delete it: it is charged for that long only. None: until its
    /// owner deletes it. `set_retention` changes it later.
    #[serde(default)]
    pub retention_days: Option<u32>,
}

/// `set_retention`: the file is deleted `days` from now (none: kept until
/// its owner deletes it).
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SetRetentionReq {
    pub file_id: FileId,
    pub days: Option<u32>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StartUploadRes {
    pub upload_id: ByteBuf,
    pub file_id: FileId,
    pub chunk_size: u32,
    pub expected_chunk_count: u32,
    pub expires_at_ns: u64,
    pub bucket: BucketId,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChunkRoute {
    pub chunk_index: u32,
    pub bucket: BucketId,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RouteChunksRes {
    pub routes: Vec<ChunkRoute>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GetUploadTokenReq {
    pub upload_id: ByteBuf,
    pub first_chunk: u32,
    pub last_chunk: u32,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MarkChunkUploadedReq {
    pub upload_id: ByteBuf,
    pub chunk_index: u32,
    pub etag: Option<ByteBuf>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct UploadProgress {
    pub upload_id: ByteBuf,
    pub file_id: FileId,
    pub bucket: BucketId,
    pub chunk_size: u32,
    pub expected_size_bytes: u64,
    pub expected_chunk_count: u32,
    /// Chunks the client reported (progress only; commit asks the bucket).
    pub uploaded_chunks: Vec<u32>,
    pub expires_at_ns: u64,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CommitUploadReq {
    pub upload_id: ByteBuf,
    pub uploaded_chunk_count: Option<u32>,
    /// Must equal the SHA-256 declared at start; refused when none was
    /// declared (the bucket checks only a declared hash).
    pub final_sha256: Option<ByteBuf>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DeleteRes {
    pub freed_bytes: u64,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ListFilesReq {
    /// `next` of the previous page.
    pub cursor: Option<ByteBuf>,
    pub limit: Option<u32>,
    pub include_pending: Option<bool>,
    /// Only files whose name contains this text, compared case-insensitively
    /// (Unicode lowercase); at most `MAX_NAME_BYTES`. A page may then hold
    /// fewer than `limit` files while `next` is set: one call examines at
    /// most `MAX_LIST_SCAN` files.
    pub name_contains: Option<String>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListFilesRes {
    pub files: Vec<FileMeta>,
    pub next: Option<ByteBuf>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChunkRange {
    pub first_chunk: u32,
    pub last_chunk: u32,
    pub bucket: BucketId,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DownloadPlan {
    pub file_id: FileId,
    pub size_bytes: u64,
    pub chunk_size: u32,
    pub chunk_count: u32,
    pub sha256: Option<ByteBuf>,
    /// Compressed as ranges: one file lives in one bucket, so one range.
    pub locations: Vec<ChunkRange>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GetDownloadUrlReq {
    pub file_id: FileId,
    pub ttl_secs: Option<u64>,
    pub disposition: Option<Disposition>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DownloadUrl {
    pub url: String,
    pub bucket: BucketId,
    pub expires_at_secs: u64,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    pub user: Principal,
    /// Bytes of Ready files.
    pub used_bytes: u64,
    /// Bytes held for uploads in progress.
    pub reserved_bytes: u64,
    pub quota_bytes: u64,
    pub files_count: u64,
    pub uploads_in_progress: u32,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketState {
    /// Takes new files.
    Writable,
    /// Past its soft limit: no new files, uploads in progress finish.
    Draining,
    /// Past its hard limit or frozen by an admin: no writes at all.
    ReadOnly,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BucketInfo {
    pub id: BucketId,
    pub state: BucketState,
    /// Bytes of Ready files.
    pub used_bytes: u64,
    /// Bytes reserved by uploads in progress.
    pub reserved_bytes: u64,
    pub soft_limit_bytes: u64,
    pub hard_limit_bytes: u64,
    pub files_count: u64,
    /// Version of the directory's key set this bucket last accepted; below
    /// `AdminStats::keys_version` it is behind (the key-push job retries).
    pub keys_version: u64,
    /// Files of uploads in progress, counted against `max_files`.
    pub reserved_files: u64,
    pub max_files: u64,
    /// Created by the directory and kept empty in the pool until a file
    /// needs it.
    pub in_pool: bool,
    /// Created by the directory (it is a controller and tops it up).
    pub provisioned: bool,
    /// From the last `canister_status` the directory read (only buckets it
    /// controls): balance, module hash and when.
    pub cycles: Option<candid::Nat>,
    pub module_hash: Option<ByteBuf>,
    pub status_at_ns: Option<u64>,
    /// Cycles it burns per day, measured between two status reads.
    pub burn_cycles_per_day: Option<candid::Nat>,
    /// The balance under which the directory tops it up.
    pub top_up_below_cycles: Option<candid::Nat>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RegisterBucketReq {
    pub id: BucketId,
    pub soft_limit_bytes: u64,
    pub hard_limit_bytes: u64,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AdminStats {
    pub total_bytes: u64,
    pub total_files: u64,
    pub users_count: u64,
    pub buckets_count: u64,
    pub active_uploads: u64,
    pub reserved_bytes: u64,
    pub pending_bucket_deletes: u64,
    /// Every key that verifies (pending, active, retired).
    pub signing_key_ids: Vec<u32>,
    /// The key that signs.
    pub active_signing_key_id: Option<u32>,
    /// A rotated key not signing yet: it waits for every bucket to accept
    /// `keys_version` (see `BucketInfo::keys_version`) or for
    /// `admin_activate_signing_key`.
    pub pending_signing_key_id: Option<u32>,
    /// Version of the directory's current public key set.
    pub keys_version: u64,
    /// The bucket wasm the directory installs; `None` for a build that
    /// embeds none (it then cannot create buckets).
    pub bucket_wasm: Option<BucketWasmInfo>,
    pub provisioning: ProvisioningStats,
    /// Every registered bucket.
    pub buckets: Vec<BucketInfo>,
    /// The last rollout of the bucket wasm (`admin_upgrade_buckets`).
    pub rollout: Option<RolloutInfo>,
}

/// `admin_upgrade_buckets`: starts a rollout of the embedded bucket wasm to
/// every bucket the directory created that runs another module (or resumes
/// a paused one).
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct UpgradeBucketsReq {
    /// Buckets per maintenance tick after the canary
    /// (`DEFAULT_ROLLOUT_BATCH`, at most `MAX_ROLLOUT_BATCH`).
    pub batch_size: Option<u32>,
}

/// Where a rollout stands.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RolloutInfo {
    /// The module every bucket ends with.
    pub target_sha256: ByteBuf,
    pub started_at_ns: u64,
    pub finished_at_ns: Option<u64>,
    pub batch_size: u32,
    /// Upgraded first, alone; the rest wait until it answers.
    pub canary: Option<Principal>,
    pub total: u64,
    pub upgraded: u64,
    /// Buckets not started yet.
    pub waiting: u64,
    /// The bucket being upgraded and its step (`stopping`, `installing`,
    /// `starting`, `checking`, `restarting`).
    pub current: Option<(Principal, String)>,
    pub failed: Vec<RolloutFailure>,
    /// Set when a bucket failed: the rollout waits for the operator
    /// (`admin_upgrade_buckets` again resumes it, failed buckets first).
    pub paused_reason: Option<String>,
}

#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RolloutFailure {
    pub bucket: Principal,
    pub error: String,
}

pub type RolloutResult = Result<RolloutInfo, DirectoryError>;

/// Where bucket provisioning stands.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProvisioningStats {
    pub pool_target: u32,
    /// Pooled buckets ready for files.
    pub pool_ready: u32,
    /// Buckets being created, installed or registered.
    pub in_progress: Vec<ProvisionInfo>,
    /// Why the directory creates no bucket now, if it cannot.
    pub paused_reason: Option<String>,
    /// The directory's balance and the reserve it keeps.
    pub directory_cycles: candid::Nat,
    pub reserve_cycles: candid::Nat,
    /// Buckets created and cycles sent to buckets, over the directory's life.
    pub buckets_created: u64,
    pub top_up_cycles_sent: candid::Nat,
}

/// One bucket being made (the provisioning journal).
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProvisionInfo {
    pub seq: u64,
    /// `creating`, `created`, `installed`.
    pub step: String,
    pub bucket: Option<Principal>,
    pub started_at_ns: u64,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The bucket wasm embedded in the directory.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BucketWasmInfo {
    /// SHA-256 of the gzipped module: the `module_hash` a bucket running it
    /// reports.
    pub sha256: ByteBuf,
    /// Size of the gzipped module.
    pub bytes: u64,
    /// The workspace version it was built from.
    pub version: String,
}

/// Bytes of stable memory one structure of the directory occupies.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MemoryStat {
    pub name: String,
    pub bytes: u64,
}

pub type StartUploadResult = Result<StartUploadRes, DirectoryError>;
pub type RouteChunksResult = Result<RouteChunksRes, DirectoryError>;
pub type UploadTokenResult = Result<UploadToken, DirectoryError>;
pub type UploadProgressResult = Result<UploadProgress, DirectoryError>;
pub type CommitUploadResult = Result<FileMeta, DirectoryError>;
pub type UnitResult = Result<(), DirectoryError>;
pub type DeleteResult = Result<DeleteRes, DirectoryError>;
pub type ListFilesResult = Result<ListFilesRes, DirectoryError>;
pub type FileMetaResult = Result<FileMeta, DirectoryError>;
pub type DownloadPlanResult = Result<DownloadPlan, DirectoryError>;
pub type DownloadUrlResult = Result<DownloadUrl, DirectoryError>;
pub type UsageResult = Result<Usage, DirectoryError>;
pub type AdminStatsResult = Result<AdminStats, DirectoryError>;
pub type BucketsResult = Result<Vec<BucketInfo>, DirectoryError>;
pub type PublicKeysResult = Result<Vec<PublicKeyInfo>, DirectoryError>;
pub type CountResult = Result<u64, DirectoryError>;
pub type MemoryStatsResult = Result<Vec<MemoryStat>, DirectoryError>;
