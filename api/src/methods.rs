//! Typed method descriptors: each canister method's name, whether it is a
//! query or an update, and its argument and result types, in one place.
//! The directory's bucket client, the CLI, the end-to-end tests and the
//! canisters' `inspect_message` name methods through these instead of
//! string literals, and each canister's interface test checks every
//! descriptor against its `.did`.
//!
//! `http_request` and `http_request_update` are absent: only HTTP gateways
//! call them, with the types of `ic-http-certification`.

use candid::utils::ArgumentEncoder;
use candid::{CandidType, Principal};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// Skipping quota when a client decodes a reply: our replies have no
/// fields a client skips, beyond a few added later.
pub const REPLY_SKIPPING_QUOTA: usize = 10_000;

/// How a method is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Query,
    Update,
}

/// A method with arguments `A` (a tuple) and one result `R`.
pub struct Method<A, R> {
    pub name: &'static str,
    pub mode: Mode,
    signature: PhantomData<fn(A) -> R>,
}

impl<A, R> Clone for Method<A, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A, R> Copy for Method<A, R> {}

impl<A, R> std::fmt::Debug for Method<A, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:?})", self.name, self.mode)
    }
}

impl<A, R> Method<A, R> {
    pub const fn query(name: &'static str) -> Self {
        Self { name, mode: Mode::Query, signature: PhantomData }
    }

    pub const fn update(name: &'static str) -> Self {
        Self { name, mode: Mode::Update, signature: PhantomData }
    }
}

impl<A: ArgumentEncoder, R: CandidType + DeserializeOwned> Method<A, R> {
    /// The Candid argument bytes of a call.
    pub fn encode(&self, args: A) -> Result<Vec<u8>, candid::Error> {
        candid::encode_args(args)
    }

    /// The result of a reply, with bounded work: a reply is outside input
    /// to a client, and without a skipping quota a few bytes of Candid can
    /// declare billions of values to skip.
    pub fn decode(&self, reply: &[u8]) -> Result<R, candid::Error> {
        let mut config = candid::de::DecoderConfig::new();
        config.set_skipping_quota(REPLY_SKIPPING_QUOTA);
        candid::utils::decode_one_with_config(reply, &config)
    }
}

impl<A: for<'a> candid::utils::ArgumentDecoder<'a>, R> Method<A, R> {
    /// Whether `arg` decodes as this method's arguments, within candid's
    /// decoding and skipping quotas: what `inspect_message` checks before a
    /// canister pays for a message.
    pub fn check_args(&self, arg: &[u8], config: &candid::de::DecoderConfig) -> Result<(), candid::Error> {
        candid::utils::decode_args_with_config::<A>(arg, config).map(drop)
    }
}

/// Name and mode, without the types: what an interface check iterates over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodName {
    pub name: &'static str,
    pub mode: Mode,
}

impl<A, R> From<Method<A, R>> for MethodName {
    fn from(m: Method<A, R>) -> Self {
        MethodName { name: m.name, mode: m.mode }
    }
}

/// Methods of the bucket canister.
pub mod bucket {
    use super::*;
    use crate::FileId;
    use crate::bucket::*;
    use crate::keys::{BucketKey, PublicKeyInfo};

    pub const PUT_CHUNK: Method<(PutChunkArgs,), PutChunkResult> = Method::update("put_chunk");
    pub const GET_CHUNK: Method<(GetChunkArgs,), GetChunkResult> = Method::query("get_chunk");
    pub const LIST_CHUNKS: Method<(FileId,), ListChunksResult> = Method::query("list_chunks");
    pub const COMMIT_FILE: Method<(CommitFileArgs,), CommitFileResult> = Method::update("commit_file");
    pub const DELETE_FILE: Method<(DeleteFileArgs,), DeleteFileResult> = Method::update("delete_file");
    /// Public keys only: kept for directories of earlier releases.
    pub const SET_KEYS: Method<(Vec<PublicKeyInfo>,), UnitResult> = Method::update("set_keys");
    /// The whole key ring: public keys and this bucket's MAC keys.
    pub const SET_KEY_RING: Method<(Vec<BucketKey>,), UnitResult> = Method::update("set_key_ring");
    pub const SET_READ_ONLY: Method<(bool,), UnitResult> = Method::update("set_read_only");
    pub const STAT: Method<(), BucketStat> = Method::query("stat");
    pub const SET_SUSPENDED: Method<(SetSuspendedArgs,), SetSuspendedResult> = Method::update("set_suspended");

    /// Methods only the bucket's directory may call.
    pub const DIRECTORY_ONLY: [MethodName; 6] = [
        method_name(COMMIT_FILE),
        method_name(DELETE_FILE),
        method_name(SET_KEYS),
        method_name(SET_KEY_RING),
        method_name(SET_READ_ONLY),
        method_name(SET_SUSPENDED),
    ];

    /// Every descriptor of this canister.
    pub const ALL: [MethodName; 10] = [
        method_name(PUT_CHUNK),
        method_name(GET_CHUNK),
        method_name(LIST_CHUNKS),
        method_name(COMMIT_FILE),
        method_name(DELETE_FILE),
        method_name(SET_KEYS),
        method_name(SET_KEY_RING),
        method_name(SET_READ_ONLY),
        method_name(STAT),
        method_name(SET_SUSPENDED),
    ];
}

/// Methods of the directory canister.
pub mod directory {
    use super::*;
    use crate::FileId;
    use crate::billing::*;
    use crate::directory::*;
    use crate::keys::KeyId;
    use crate::share::*;
    use serde_bytes::ByteBuf;

    pub const START_UPLOAD: Method<(StartUploadReq,), StartUploadResult> = Method::update("start_upload");
    pub const ROUTE_CHUNKS: Method<(ByteBuf, Vec<u32>), RouteChunksResult> = Method::query("route_chunks");
    pub const GET_UPLOAD_TOKEN: Method<(GetUploadTokenReq,), UploadTokenResult> = Method::update("get_upload_token");
    pub const MARK_CHUNK_UPLOADED: Method<(MarkChunkUploadedReq,), UnitResult> = Method::update("mark_chunk_uploaded");
    pub const GET_UPLOAD: Method<(ByteBuf,), UploadProgressResult> = Method::query("get_upload");
    pub const COMMIT_UPLOAD: Method<(CommitUploadReq,), CommitUploadResult> = Method::update("commit_upload");
    pub const ABORT_UPLOAD: Method<(ByteBuf,), UnitResult> = Method::update("abort_upload");
    pub const DELETE_FILE: Method<(FileId,), DeleteResult> = Method::update("delete_file");
    pub const LIST_FILES: Method<(ListFilesReq,), ListFilesResult> = Method::query("list_files");
    pub const GET_FILE_META: Method<(FileId,), FileMetaResult> = Method::query("get_file_meta");
    pub const GET_DOWNLOAD_PLAN: Method<(FileId,), DownloadPlanResult> = Method::query("get_download_plan");
    pub const GET_DOWNLOAD_URL: Method<(GetDownloadUrlReq,), DownloadUrlResult> = Method::update("get_download_url");
    pub const GET_USAGE: Method<(Option<Principal>,), UsageResult> = Method::query("get_usage");
    pub const GET_PUBLIC_KEYS: Method<(), PublicKeysResult> = Method::query("get_public_keys");
    pub const ADMIN_GET_STATS: Method<(), AdminStatsResult> = Method::query("admin_get_stats");
    pub const ADMIN_GET_MEMORY_STATS: Method<(), MemoryStatsResult> = Method::query("admin_get_memory_stats");
    pub const ADMIN_SET_QUOTA: Method<(Principal, u64), UnitResult> = Method::update("admin_set_quota");
    pub const LIST_BUCKETS: Method<(), BucketsResult> = Method::query("list_buckets");
    pub const ADMIN_REGISTER_BUCKET: Method<(RegisterBucketReq,), UnitResult> = Method::update("admin_register_bucket");
    pub const ADMIN_SET_BUCKET_STATE: Method<(Principal, BucketState), UnitResult> =
        Method::update("admin_set_bucket_state");
    pub const ADMIN_REAP_EXPIRED_UPLOADS: Method<(), CountResult> = Method::update("admin_reap_expired_uploads");
    pub const ADMIN_ROTATE_SIGNING_KEY: Method<(), UnitResult> = Method::update("admin_rotate_signing_key");
    pub const ADMIN_ACTIVATE_SIGNING_KEY: Method<(KeyId,), UnitResult> = Method::update("admin_activate_signing_key");
    pub const ADMIN_REVOKE_SIGNING_KEY: Method<(KeyId,), UnitResult> = Method::update("admin_revoke_signing_key");
    pub const SET_RETENTION: Method<(SetRetentionReq,), FileMetaResult> = Method::update("set_retention");
    pub const ADMIN_RESOLVE_DEPOSIT: Method<(ResolveDepositReq,), DepositResult> =
        Method::update("admin_resolve_deposit");
    pub const ADMIN_REFUND: Method<(RefundReq,), BillingUnitResult> = Method::update("admin_refund");
    pub const GET_PRICING: Method<(), PricingResult> = Method::query("get_pricing");
    pub const ESTIMATE_UPLOAD_COST: Method<(u64,), UploadCostResult> = Method::query("estimate_upload_cost");
    pub const DEPOSIT: Method<(DepositReq,), DepositResult> = Method::update("deposit");
    pub const GET_BALANCE: Method<(), BalanceResult> = Method::query("get_balance");
    pub const ADMIN_SET_PRICING: Method<(Pricing,), BillingUnitResult> = Method::update("admin_set_pricing");
    pub const ADMIN_CHARGE_STORAGE: Method<(), ChargeRunResult> = Method::update("admin_charge_storage");
    pub const ADMIN_UPGRADE_BUCKETS: Method<(UpgradeBucketsReq,), RolloutResult> =
        Method::update("admin_upgrade_buckets");
    pub const CREATE_SHARE: Method<(CreateShareReq,), ShareResult> = Method::update("create_share");
    pub const LIST_SHARES: Method<(ListSharesReq,), ListSharesResult> = Method::query("list_shares");
    pub const REVOKE_SHARE: Method<(String,), RevokeShareResult> = Method::update("revoke_share");
    /// Anyone's, anonymous included: an update, as it counts a use.
    pub const RESOLVE_SHARE: Method<(String,), ResolveShareResult> = Method::update("resolve_share");

    /// Methods only controllers may call, besides those named `admin_*`.
    pub const CONTROLLER_ONLY: [MethodName; 1] = [method_name(LIST_BUCKETS)];

    /// Methods anonymous callers may call.
    pub const ANONYMOUS_OK: [MethodName; 3] =
        [method_name(GET_PUBLIC_KEYS), method_name(GET_PRICING), method_name(RESOLVE_SHARE)];

    /// Every descriptor of this canister.
    pub const ALL: [MethodName; 38] = [
        method_name(ADMIN_UPGRADE_BUCKETS),
        method_name(CREATE_SHARE),
        method_name(LIST_SHARES),
        method_name(REVOKE_SHARE),
        method_name(RESOLVE_SHARE),
        method_name(START_UPLOAD),
        method_name(ROUTE_CHUNKS),
        method_name(GET_UPLOAD_TOKEN),
        method_name(MARK_CHUNK_UPLOADED),
        method_name(GET_UPLOAD),
        method_name(COMMIT_UPLOAD),
        method_name(ABORT_UPLOAD),
        method_name(DELETE_FILE),
        method_name(LIST_FILES),
        method_name(GET_FILE_META),
        method_name(GET_DOWNLOAD_PLAN),
        method_name(GET_DOWNLOAD_URL),
        method_name(GET_USAGE),
        method_name(GET_PUBLIC_KEYS),
        method_name(ADMIN_GET_STATS),
        method_name(ADMIN_GET_MEMORY_STATS),
        method_name(ADMIN_SET_QUOTA),
        method_name(LIST_BUCKETS),
        method_name(ADMIN_REGISTER_BUCKET),
        method_name(ADMIN_SET_BUCKET_STATE),
        method_name(ADMIN_REAP_EXPIRED_UPLOADS),
        method_name(ADMIN_ROTATE_SIGNING_KEY),
        method_name(ADMIN_ACTIVATE_SIGNING_KEY),
        method_name(ADMIN_REVOKE_SIGNING_KEY),
        method_name(GET_PRICING),
        method_name(ESTIMATE_UPLOAD_COST),
        method_name(DEPOSIT),
        method_name(GET_BALANCE),
        method_name(ADMIN_SET_PRICING),
        method_name(ADMIN_CHARGE_STORAGE),
        method_name(SET_RETENTION),
        method_name(ADMIN_RESOLVE_DEPOSIT),
        method_name(ADMIN_REFUND),
    ];
}

/// `MethodName::from` for constants.
pub const fn method_name<A, R>(m: Method<A, R>) -> MethodName {
    MethodName { name: m.name, mode: m.mode }
}

/// Whether `name` is one of `methods`.
pub fn is_one_of(name: &str, methods: &[MethodName]) -> bool {
    methods.iter().any(|m| m.name == name)
}
