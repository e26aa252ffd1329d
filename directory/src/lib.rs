//! Depot directory canister: users, quotas, upload sessions, bucket routing,
//! signed upload tokens and download URLs. Formats of tokens and URLs and
//! the limits are described in `docs/storage.md`.
//!
//! This file holds the endpoints only: each reads the caller and the clock,
//! calls a pure `*_impl` function of `logic` (or a begin/finish pair around
//! a bucket call) and returns its result.

pub mod bucket_client;
pub mod bucket_wasm;
pub mod jobs;
pub mod lifecycle;
pub mod logic;
pub mod management;
pub mod metrics;
pub mod model;
pub mod payments;
pub mod state;

#[cfg(test)]
mod tests;

use candid::Principal;
use depot_api::billing::*;
use depot_api::bucket::CommitFileResult;
use depot_api::directory::*;
use depot_api::error::InternalFault;
use depot_api::share::*;
use depot_api::{BucketError, DirectoryError, FileId};
use logic::admin::{self, MemoryStat, require_admin};
use logic::{CallFailure, billing, commit, files, keys, upload};
use serde_bytes::ByteBuf;

/// `commit_file` calls made while the bucket answers `HashInProgress`; each
/// call hashes a share of the file in a new message. Far above what the
/// largest file needs.
pub const MAX_COMMIT_ROUNDS: u32 = 1_000;

fn caller() -> Principal {
    ic_cdk::api::caller()
}

fn now() -> u64 {
    ic_cdk::api::time()
}

fn is_controller() -> bool {
    ic_cdk::api::is_controller(&caller())
}

fn admin() -> Result<(), DirectoryError> {
    require_admin(is_controller())
}

// ---- lifecycle ----

#[ic_cdk::init]
fn init(args: Option<DirectoryInit>) {
    lifecycle::init(args);
}

#[ic_cdk::pre_upgrade]
fn pre_upgrade() {
    // Nothing to save: all state is in stable structures.
}

#[ic_cdk::post_upgrade]
fn post_upgrade(args: Option<DirectoryInit>) {
    lifecycle::post_upgrade(args);
}

pub use logic::admission::{ADMIN_PREFIX, MAX_INGRESS_ARG_BYTES};

/// Admission of ingress (`logic::admission`): refuses, before the directory
/// pays for it, what no honest client sends. Every check is repeated in the
/// method.
#[ic_cdk::inspect_message]
fn inspect_message() {
    let method = ic_cdk::api::call::method_name();
    if ic_cdk::api::call::arg_data_raw_size() > MAX_INGRESS_ARG_BYTES {
        ic_cdk::trap(&format!("{method}: argument larger than {MAX_INGRESS_ARG_BYTES} bytes"));
    }
    let arg = ic_cdk::api::call::arg_data_raw();
    match logic::admission::admit_ingress(&method, caller(), is_controller(), &arg) {
        Ok(()) => ic_cdk::api::call::accept_message(),
        Err(reason) => ic_cdk::trap(&format!("{method}: {reason}")),
    }
}

// ---- uploads ----

#[ic_cdk::update]
fn start_upload(req: StartUploadReq) -> StartUploadResult {
    let r = state::mutate(|s| upload::start_upload_impl(s, caller(), req, now()));
    // No room (or the pool short after taking a bucket from it): the
    // provisioning job runs in its own message; this reply waits for none.
    let no_room = matches!(r, Err(DirectoryError::ServiceTemporarilyUnavailable { .. }));
    if no_room || state::read(logic::provisioning::pool_short) {
        jobs::provision::kick(no_room);
    }
    r
}

#[ic_cdk::query]
fn route_chunks(upload_id: ByteBuf, chunk_indices: Vec<u32>) -> RouteChunksResult {
    state::read(|s| upload::route_chunks_impl(s, caller(), &upload_id, &chunk_indices, now()))
}

#[ic_cdk::update]
fn get_upload_token(req: GetUploadTokenReq) -> UploadTokenResult {
    // Records the token against the session cap and the caller's rate.
    state::mutate(|s| upload::get_upload_token_impl(s, caller(), &req, now()))
}

#[ic_cdk::update]
fn mark_chunk_uploaded(req: MarkChunkUploadedReq) -> UnitResult {
    state::mutate(|s| upload::mark_chunk_uploaded_impl(s, caller(), &req, now()))
}

#[ic_cdk::query]
fn get_upload(upload_id: ByteBuf) -> UploadProgressResult {
    state::read(|s| upload::get_upload_impl(s, caller(), &upload_id, now()))
}

#[ic_cdk::update]
async fn commit_upload(req: CommitUploadReq) -> CommitUploadResult {
    let caller = caller();
    let plan = state::mutate(|s| commit::begin_commit(s, caller, &req, now()))?;
    let answer = commit_with_bucket(&plan).await;
    let outcome = state::mutate(|s| commit::finish_commit(s, &plan.upload_id, answer, now()));
    if let Some(key) = outcome.queued_delete {
        jobs::attempt_deletes(vec![key]).await;
    }
    outcome.result
}

/// Calls `commit_file` until the bucket stops answering `HashInProgress`.
async fn commit_with_bucket(plan: &commit::CommitPlan) -> Result<CommitFileResult, CallFailure> {
    for _ in 0..MAX_COMMIT_ROUNDS {
        match bucket_client::commit_file(plan.bucket, plan.args.clone()).await {
            Ok(Err(BucketError::HashInProgress { .. })) => continue,
            answer => return answer,
        }
    }
    Err(CallFailure::StillHashing { rounds: MAX_COMMIT_ROUNDS })
}

#[ic_cdk::update]
async fn abort_upload(upload_id: ByteBuf) -> UnitResult {
    let key = state::mutate(|s| upload::abort_upload_impl(s, caller(), &upload_id, now()))?;
    jobs::attempt_deletes(vec![key]).await;
    Ok(())
}

// ---- files ----

#[ic_cdk::update]
async fn delete_file(file_id: FileId) -> DeleteResult {
    let (res, key) = state::mutate(|s| files::delete_file_impl(s, caller(), &file_id, now()))?;
    jobs::attempt_deletes(vec![key]).await;
    Ok(res)
}

// ---- share links (logic/shares.rs) ----

#[ic_cdk::update]
fn create_share(req: CreateShareReq) -> ShareResult {
    state::mutate(|s| logic::shares::create_share_impl(s, caller(), &req, now()))
}

#[ic_cdk::query]
fn list_shares(req: ListSharesReq) -> ListSharesResult {
    state::read(|s| logic::shares::list_shares_impl(s, caller(), &req))
}

#[ic_cdk::update]
fn revoke_share(share_id: String) -> RevokeShareResult {
    state::mutate(|s| logic::shares::revoke_share_impl(s, caller(), &share_id))
}

/// Anyone's, anonymous included: a fresh signed URL for a shared file.
#[ic_cdk::update]
fn resolve_share(share_id: String) -> ResolveShareResult {
    state::mutate(|s| logic::shares::resolve_share_impl(s, &share_id, now()))
}

/// Moves (or removes) the date a file is deleted at.
#[ic_cdk::update]
fn set_retention(req: SetRetentionReq) -> FileMetaResult {
    state::mutate(|s| files::set_retention_impl(s, caller(), &req, now()))
}

#[ic_cdk::query]
fn list_files(req: ListFilesReq) -> ListFilesResult {
    state::read(|s| files::list_files_impl(s, caller(), &req))
}

#[ic_cdk::query]
fn get_file_meta(file_id: FileId) -> FileMetaResult {
    state::read(|s| files::get_file_meta_impl(s, caller(), &file_id))
}

#[ic_cdk::query]
fn get_download_plan(file_id: FileId) -> DownloadPlanResult {
    state::read(|s| files::get_download_plan_impl(s, caller(), &file_id))
}

/// An update, so the URL comes back certified by consensus.
#[ic_cdk::update]
fn get_download_url(req: GetDownloadUrlReq) -> DownloadUrlResult {
    state::read(|s| files::get_download_url_impl(s, caller(), &req, now()))
}

// ---- usage, keys, admin ----

#[ic_cdk::query]
fn get_usage(user: Option<Principal>) -> UsageResult {
    state::read(|s| admin::get_usage_impl(s, caller(), user, is_controller()))
}

/// Public: anyone may verify tokens and URLs.
#[ic_cdk::query]
fn get_public_keys() -> PublicKeysResult {
    state::read(|s| Ok(s.public_keys()))
}

#[ic_cdk::query]
fn admin_get_stats() -> AdminStatsResult {
    admin()?;
    state::read(|s| Ok(admin::admin_get_stats_impl(s, ic_cdk::api::canister_balance128())))
}

/// `/metrics` (Prometheus text), uncertified: read through the raw domain.
/// Anything else is 404.
#[ic_cdk::query]
fn http_request(req: ic_http_certification::HttpRequest<'static>) -> ic_http_certification::HttpResponse<'static> {
    use ic_http_certification::{HttpResponse, StatusCode};
    let text = |status: StatusCode, body: Vec<u8>, kind: &str| {
        HttpResponse::builder()
            .with_status_code(status)
            .with_headers(vec![("content-type".into(), kind.into()), ("cache-control".into(), "no-store".into())])
            .with_body(body)
            .build()
    };
    if req.url().split('?').next() != Some(metrics::METRICS_PATH) || req.method().as_str() != "GET" {
        return text(StatusCode::NOT_FOUND, b"not found: the directory serves /metrics only\n".to_vec(), "text/plain");
    }
    let sys = metrics::System {
        now_ns: now(),
        cycles: ic_cdk::api::canister_balance128(),
        heap_bytes: lifecycle::heap_bytes(),
        stable_bytes: ic_cdk::api::stable::stable_size() * 65536,
    };
    match state::read(|s| metrics::encode(s, &sys)) {
        Ok(body) => text(StatusCode::OK, body, "text/plain; version=0.0.4"),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("metrics: {e}\n").into_bytes(), "text/plain"),
    }
}

/// Stable memory per structure (whole pages).
#[ic_cdk::query]
fn admin_get_memory_stats() -> Result<Vec<MemoryStat>, DirectoryError> {
    admin()?;
    state::read(|s| Ok(admin::admin_get_memory_stats_impl(s)))
}

#[ic_cdk::update]
fn admin_set_quota(user: Principal, quota_bytes: u64) -> UnitResult {
    admin()?;
    state::mutate(|s| admin::admin_set_quota_impl(s, user, quota_bytes))
}

#[ic_cdk::query]
fn list_buckets() -> BucketsResult {
    admin()?;
    state::read(|s| Ok(admin::list_buckets_impl(s)))
}

#[ic_cdk::update]
async fn admin_register_bucket(req: RegisterBucketReq) -> UnitResult {
    admin()?;
    let (keys, version) = state::read(|s| admin::begin_register_bucket(s, &req))?;
    let bucket = req.id;
    bucket_client::set_key_ring(bucket, keys).await?.map_err(|error| DirectoryError::Bucket { bucket, error })?;
    let stat = bucket_client::stat(bucket).await?;
    state::mutate(|s| admin::finish_register_bucket(s, &req, &stat, version, false, now()))?;
    // Keys may have rotated during the calls: the job catches the bucket up.
    jobs::push_keys().await;
    Ok(())
}

/// Rolls the embedded bucket wasm out to the buckets the directory created
/// (a canary, then batches, per maintenance tick); again: resumes a paused
/// rollout. Progress in `admin_get_stats().rollout`.
#[ic_cdk::update]
fn admin_upgrade_buckets(req: UpgradeBucketsReq) -> RolloutResult {
    admin()?;
    let r = state::mutate(|s| logic::rollout::start(s, bucket_wasm::sha256(), &req, now()))?;
    jobs::rollout::kick();
    Ok(r)
}

#[ic_cdk::update]
async fn admin_set_bucket_state(bucket: Principal, new_state: BucketState) -> UnitResult {
    admin()?;
    if let Some(read_only) = state::read(|s| admin::plan_bucket_state(s, bucket, new_state))? {
        bucket_client::set_read_only(bucket, read_only)
            .await?
            .map_err(|error| DirectoryError::Bucket { bucket, error })?;
    }
    state::mutate(|s| admin::apply_bucket_state(s, bucket, new_state))
}

#[ic_cdk::update]
async fn admin_reap_expired_uploads() -> CountResult {
    admin()?;
    let queued = state::mutate(|s| jobs::reaper::reap_expired_uploads(s, now(), jobs::reaper::REAP_BATCH));
    let count = queued.len() as u64;
    jobs::attempt_deletes(queued).await;
    Ok(count)
}

/// Publishes a new pending key; the active key keeps signing until every
/// bucket accepted the new set (or `admin_activate_signing_key`).
#[ic_cdk::update]
async fn admin_rotate_signing_key() -> UnitResult {
    admin()?;
    state::read(|s| keys::check_rotation(s, now()))?;
    let seed = lifecycle::randomness::random_seed()
        .await
        .map_err(|message| DirectoryError::internal(InternalFault::RandomnessUnavailable, message))?;
    state::mutate(|s| keys::rotate_key_impl(s, seed, now()))?;
    // The last bucket to accept activates the key; buckets that refuse now
    // are retried by the maintenance job.
    jobs::push_keys().await;
    Ok(())
}

/// Makes the pending key `kid` sign now, even if a bucket has not accepted
/// it (that bucket refuses new tokens and URLs until the push reaches it).
#[ic_cdk::update]
fn admin_activate_signing_key(kid: u32) -> UnitResult {
    state::mutate(|s| keys::admin_activate_key(s, is_controller(), kid, now()))
}

/// Emergency: `kid` stops verifying at once, in `get_public_keys` and, as
/// soon as each accepts the new set, in every bucket (pushed now, retried by
/// the maintenance job). The active key can be revoked only while a key is
/// pending, which then signs at once.
#[ic_cdk::update]
async fn admin_revoke_signing_key(kid: u32) -> UnitResult {
    state::mutate(|s| keys::admin_revoke_key(s, is_controller(), kid, now()))?;
    jobs::push_keys().await;
    Ok(())
}

// ---- billing (docs/billing.md) ----

/// Public: what Depot charges and which tokens it accepts.
#[ic_cdk::query]
fn get_pricing() -> PricingResult {
    state::read(|s| Ok(s.pricing().clone()))
}

/// What `start_upload` of `bytes` would hold for the caller now.
#[ic_cdk::query]
fn estimate_upload_cost(bytes: u64) -> UploadCostResult {
    logic::require_user(caller())?;
    state::read(|s| Ok(billing::quote(s, caller(), bytes, None, now())))
}

#[ic_cdk::query]
fn get_balance() -> BalanceResult {
    logic::require_user(caller())?;
    state::read(|s| Ok(billing::get_balance(s, caller(), now())))
}

/// Credit through PAPI: journaled before the payment is asked for, credited
/// in the message that receives it, exactly once per nonce.
#[ic_cdk::update]
async fn deposit(req: DepositReq) -> DepositResult {
    let caller = caller();
    let directory = ic_cdk::api::id();
    let plan = match state::mutate(|s| billing::begin_deposit(s, caller, &req, directory, now()))? {
        billing::DepositStart::Replay(result) => return result,
        billing::DepositStart::Pay(plan) => plan,
    };
    let paid = payments::collect(&plan.payment, plan.amount).await;
    let result = state::mutate(|s| billing::finish_deposit(s, &plan, paid, now()));
    // Paid up: files held back are served again now, not at the next tick.
    if result.is_ok() && state::read(|s| logic::suspension::needs_attention(s, caller, now())) {
        jobs::update_serving(vec![caller]).await;
    }
    result
}

#[ic_cdk::update]
fn admin_set_pricing(pricing: Pricing) -> BillingUnitResult {
    admin()?;
    billing::validate_pricing(&pricing)?;
    state::mutate(|s| s.set_pricing(pricing));
    Ok(())
}

/// One run of the storage-charging job now (it also runs every tick):
/// for operators, and for the benchmark of its cost.
#[ic_cdk::update]
async fn admin_charge_storage() -> ChargeRunResult {
    admin()?;
    let run = state::mutate(|s| billing::accrue_due(s, now(), billing::ACCRUAL_BATCH));
    let result = ChargeRun { charged: run.charged as u64, attention: run.attention.len() as u64 };
    jobs::update_serving(run.attention).await;
    Ok(result)
}

/// Settles a deposit whose ledger call never returned, after the operator
/// looked the transfer up (docs/billing.md §3).
#[ic_cdk::update]
async fn admin_resolve_deposit(req: ResolveDepositReq) -> DepositResult {
    admin()?;
    let result = state::mutate(|s| billing::resolve_deposit(s, &req, now()));
    if result.is_ok() && state::read(|s| logic::suspension::needs_attention(s, req.user, now())) {
        jobs::update_serving(vec![req.user]).await;
    }
    result
}

/// Credit given by the operator, with its reason.
#[ic_cdk::update]
async fn admin_refund(req: RefundReq) -> BillingUnitResult {
    admin()?;
    state::mutate(|s| billing::refund(s, &req, now()))?;
    if state::read(|s| logic::suspension::needs_attention(s, req.user, now())) {
        jobs::update_serving(vec![req.user]).await;
    }
    Ok(())
}

// `__export_service()` (the interface test) and `get_candid_pointer` (for
// `candid-extractor`).
ic_cdk::export_candid!();

/// Benchmark only (feature `bench`, off by default; see Cargo.toml):
/// registers `n` synthetic Writable buckets of 1 TiB, each holding a few
/// bytes (no canister behind them), so routing can be measured with many
/// buckets. Not in `directory.did`.
#[cfg(feature = "bench")]
#[ic_cdk::update]
fn bench_add_buckets(n: u32) -> UnitResult {
    admin()?;
    state::mutate(|s| {
        let start = s.buckets.len() as u32;
        for i in start..start + n {
            let id = Principal::from_slice(&[&[0xbe, 0x4c][..], &i.to_be_bytes()[..]].concat());
            let record = model::buckets::BucketRecord {
                state: BucketState::Writable,
                auto_draining: false,
                used_bytes: 1 + i as u64,
                reserved_bytes: 0,
                soft_limit_bytes: 1 << 40,
                hard_limit_bytes: 1 << 40,
                files_count: 0,
                registered_used_bytes: 1 + i as u64,
                registered_at_ns: now(),
                keys_pushed_version: s.runtime().keys_version,
                keys_push_not_before_ns: u64::MAX,
                reserved_files: 0,
                max_files: 1_000_000,
                in_pool: false,
                provisioned: false,
                cycles: None,
                module_hash: None,
                status_at_ns: None,
                burn_per_day: None,
                top_up_below: None,
            };
            s.put_bucket(id, record);
        }
    });
    Ok(())
}
