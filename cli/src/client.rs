//! Typed calls to the directory and the buckets over ic-agent.

use candid::utils::ArgumentEncoder;
use candid::{CandidType, Principal};
use depot_api::billing::*;
use depot_api::bucket::*;
use depot_api::directory::*;
use depot_api::methods::{Method, Mode, bucket as bm, directory as dm};
use depot_api::share::*;
use depot_api::token::UploadToken;
use depot_api::{BucketError, DirectoryError, FileId};
use ic_agent::{Agent, AgentError, Identity};
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};
use serde::de::DeserializeOwned;
use serde_bytes::ByteBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
pub enum CallError {
    /// The call did not reach a verdict (network, overload): worth retrying.
    Transient(String),
    /// The IC rejected the call or the reply was malformed.
    Failed(String),
    Directory(DirectoryError),
    Bucket(BucketError),
    Billing(BillingError),
    Share(ShareError),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transient(m) => write!(f, "network error (retryable): {m}"),
            CallError::Failed(m) => write!(f, "call failed: {m}"),
            CallError::Directory(e) => write!(f, "{}", crate::format::explain_directory_error(e)),
            CallError::Bucket(e) => write!(f, "{}", crate::format::explain_bucket_error(e)),
            CallError::Billing(e) => write!(f, "{}", crate::billing::explain_billing_error(e)),
            CallError::Share(e) => write!(f, "{}", crate::format::explain_share_error(e)),
        }
    }
}

impl std::error::Error for CallError {}

impl CallError {
    pub fn is_transient(&self) -> bool {
        matches!(self, CallError::Transient(_))
    }
}

fn classify(e: AgentError) -> CallError {
    // A canister that refused the message before paying for it sends its
    // typed error inside the reject text.
    let text = e.to_string();
    if let Some(b) = depot_api::reject::bucket_error_in(&text) {
        return CallError::Bucket(b);
    }
    if let Some(d) = depot_api::reject::directory_error_in(&text) {
        return CallError::Directory(d);
    }
    match &e {
        AgentError::TransportError(_) | AgentError::TimeoutWaitingForResponse() => CallError::Transient(e.to_string()),
        AgentError::HttpError(p) if p.status >= 500 || p.status == 429 => CallError::Transient(e.to_string()),
        _ => CallError::Failed(e.to_string()),
    }
}

/// The bucket's HTTP interface, called the way a verifying HTTP gateway
/// calls it. Described here rather than in `depot_api::methods`: its types
/// come from `ic-http-certification`, which depot-api does not depend on.
pub const HTTP_REQUEST: Method<(HttpRequest<'static>,), HttpResponse<'static>> = Method::query("http_request");
pub const HTTP_REQUEST_UPDATE: Method<(HttpUpdateRequest<'static>,), HttpUpdateResponse<'static>> =
    Method::update("http_request_update");

pub struct Depot {
    pub agent: Agent,
    pub directory: Principal,
    /// How long `start_upload` may wait out rate limits and a directory
    /// with no room yet, in all (`None`: fail at once, the library's
    /// default; the `depot` command waits unless `--no-wait`).
    pub max_wait: Option<Duration>,
    /// How those waits pass: a timer (`tokio::time::sleep`). Tests that
    /// run the IC's clock forward in place of waiting set their own.
    pub sleep: Sleeper,
}

/// Waits out a duration (see [`Depot::sleep`]).
pub type Sleeper = Arc<dyn Fn(Duration) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

/// The real passage of time.
pub fn timer() -> Sleeper {
    Arc::new(|d| Box::pin(tokio::time::sleep(d)))
}

impl Depot {
    pub async fn connect(
        url: &str,
        fetch_root_key: bool,
        identity: Arc<dyn Identity>,
        directory: Principal,
    ) -> anyhow::Result<Self> {
        let agent = Agent::builder()
            .with_url(url)
            .with_arc_identity(identity)
            .with_max_polling_time(Duration::from_secs(120))
            .build()?;
        if fetch_root_key {
            agent.fetch_root_key().await.map_err(|e| anyhow::anyhow!("cannot reach {url}: {e}"))?;
        }
        Ok(Self { agent, directory, max_wait: None, sleep: timer() })
    }

    pub fn me(&self) -> Principal {
        self.agent.get_principal().unwrap_or(Principal::anonymous())
    }

    /// One call of a typed method, as a query or an update by its mode.
    async fn call<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
        &self,
        canister: Principal,
        m: Method<A, R>,
        args: A,
    ) -> Result<R, CallError> {
        let arg = m.encode(args).map_err(|e| CallError::Failed(e.to_string()))?;
        let out = match m.mode {
            Mode::Update => self.agent.update(&canister, m.name).with_arg(arg).call_and_wait().await,
            Mode::Query => self.agent.query(&canister, m.name).with_arg(arg).call().await,
        }
        .map_err(classify)?;
        m.decode(&out).map_err(|e| CallError::Failed(format!("bad reply from {}: {e}", m.name)))
    }

    async fn dir<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
        &self,
        m: Method<A, Result<R, DirectoryError>>,
        args: A,
    ) -> Result<R, CallError> {
        self.call(self.directory, m, args).await?.map_err(CallError::Directory)
    }

    async fn bucket<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
        &self,
        bucket: Principal,
        m: Method<A, Result<R, BucketError>>,
        args: A,
    ) -> Result<R, CallError> {
        self.call(bucket, m, args).await?.map_err(CallError::Bucket)
    }

    async fn billing<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
        &self,
        m: Method<A, Result<R, BillingError>>,
        args: A,
    ) -> Result<R, CallError> {
        self.call(self.directory, m, args).await?.map_err(CallError::Billing)
    }

    async fn share<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
        &self,
        m: Method<A, Result<R, ShareError>>,
        args: A,
    ) -> Result<R, CallError> {
        self.call(self.directory, m, args).await?.map_err(CallError::Share)
    }

    pub async fn create_share(&self, req: CreateShareReq) -> Result<ShareInfo, CallError> {
        self.share(dm::CREATE_SHARE, (req,)).await
    }

    pub async fn list_shares(&self, req: ListSharesReq) -> Result<ListSharesRes, CallError> {
        self.share(dm::LIST_SHARES, (req,)).await
    }

    pub async fn revoke_share(&self, share_id: &str) -> Result<bool, CallError> {
        self.share(dm::REVOKE_SHARE, (share_id.to_string(),)).await
    }

    /// Works for anyone, with any identity (anonymous included).
    pub async fn resolve_share(&self, share_id: &str) -> Result<ResolvedShare, CallError> {
        self.share(dm::RESOLVE_SHARE, (share_id.to_string(),)).await
    }

    pub async fn get_pricing(&self) -> Result<Pricing, CallError> {
        self.billing(dm::GET_PRICING, ()).await
    }

    pub async fn estimate_upload_cost(&self, bytes: u64) -> Result<UploadCost, CallError> {
        self.billing(dm::ESTIMATE_UPLOAD_COST, (bytes,)).await
    }

    pub async fn get_balance(&self) -> Result<Balance, CallError> {
        self.billing(dm::GET_BALANCE, ()).await
    }

    pub async fn deposit(&self, req: DepositReq) -> Result<DepositRes, CallError> {
        self.billing(dm::DEPOSIT, (req,)).await
    }

    /// An update to any canister with untyped Candid (the ledgers).
    pub async fn raw_update(&self, canister: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, CallError> {
        self.agent.update(&canister, method).with_arg(arg).call_and_wait().await.map_err(classify)
    }

    pub async fn raw_query(&self, canister: Principal, method: &str, arg: Vec<u8>) -> Result<Vec<u8>, CallError> {
        self.agent.query(&canister, method).with_arg(arg).call().await.map_err(classify)
    }

    pub async fn start_upload(&self, req: StartUploadReq) -> Result<StartUploadRes, CallError> {
        self.dir(dm::START_UPLOAD, (req,)).await
    }

    pub async fn get_upload(&self, upload_id: &[u8]) -> Result<UploadProgress, CallError> {
        self.dir(dm::GET_UPLOAD, (ByteBuf::from(upload_id.to_vec()),)).await
    }

    pub async fn get_upload_token(&self, upload_id: &[u8], first: u32, last: u32) -> Result<UploadToken, CallError> {
        let req =
            GetUploadTokenReq { upload_id: ByteBuf::from(upload_id.to_vec()), first_chunk: first, last_chunk: last };
        self.dir(dm::GET_UPLOAD_TOKEN, (req,)).await
    }

    pub async fn mark_chunk_uploaded(
        &self,
        upload_id: &[u8],
        chunk_index: u32,
        etag: Vec<u8>,
    ) -> Result<(), CallError> {
        let req = MarkChunkUploadedReq {
            upload_id: ByteBuf::from(upload_id.to_vec()),
            chunk_index,
            etag: Some(ByteBuf::from(etag)),
        };
        self.dir(dm::MARK_CHUNK_UPLOADED, (req,)).await
    }

    pub async fn commit_upload(&self, req: CommitUploadReq) -> Result<FileMeta, CallError> {
        self.dir(dm::COMMIT_UPLOAD, (req,)).await
    }

    pub async fn delete_file(&self, file_id: FileId) -> Result<DeleteRes, CallError> {
        self.dir(dm::DELETE_FILE, (file_id,)).await
    }

    pub async fn set_retention(&self, req: SetRetentionReq) -> Result<FileMeta, CallError> {
        self.dir(dm::SET_RETENTION, (req,)).await
    }

    pub async fn list_files(&self, req: ListFilesReq) -> Result<ListFilesRes, CallError> {
        self.dir(dm::LIST_FILES, (req,)).await
    }

    pub async fn get_file_meta(&self, file_id: FileId) -> Result<FileMeta, CallError> {
        self.dir(dm::GET_FILE_META, (file_id,)).await
    }

    pub async fn get_download_plan(&self, file_id: FileId) -> Result<DownloadPlan, CallError> {
        self.dir(dm::GET_DOWNLOAD_PLAN, (file_id,)).await
    }

    pub async fn get_download_url(&self, req: GetDownloadUrlReq) -> Result<DownloadUrl, CallError> {
        self.dir(dm::GET_DOWNLOAD_URL, (req,)).await
    }

    pub async fn get_usage(&self) -> Result<Usage, CallError> {
        self.dir(dm::GET_USAGE, (None::<Principal>,)).await
    }

    pub async fn admin_get_stats(&self) -> Result<AdminStats, CallError> {
        self.dir(dm::ADMIN_GET_STATS, ()).await
    }

    pub async fn admin_upgrade_buckets(&self, req: UpgradeBucketsReq) -> Result<RolloutInfo, CallError> {
        self.dir(dm::ADMIN_UPGRADE_BUCKETS, (req,)).await
    }

    pub async fn put_chunk(&self, bucket: Principal, args: PutChunkArgs) -> Result<PutChunkOk, CallError> {
        self.bucket(bucket, bm::PUT_CHUNK, (args,)).await
    }

    pub async fn get_chunk(&self, bucket: Principal, file_id: FileId, chunk_index: u32) -> Result<Vec<u8>, CallError> {
        self.bucket(bucket, bm::GET_CHUNK, (GetChunkArgs { file_id, chunk_index },)).await.map(ByteBuf::into_vec)
    }

    /// The bucket's `http_request` as a query: the reply is unverified
    /// until `verify::verify_chunk_response` has checked it.
    pub async fn http_request(
        &self,
        bucket: Principal,
        req: HttpRequest<'static>,
    ) -> Result<HttpResponse<'static>, CallError> {
        self.call(bucket, HTTP_REQUEST, (req,)).await
    }

    /// The bucket's `http_request_update`, after the query answered
    /// `upgrade`: an update, so its reply is certified by consensus.
    pub async fn http_request_update(
        &self,
        bucket: Principal,
        req: HttpUpdateRequest<'static>,
    ) -> Result<HttpUpdateResponse<'static>, CallError> {
        self.call(bucket, HTTP_REQUEST_UPDATE, (req,)).await
    }

    pub async fn list_chunks(&self, bucket: Principal, file_id: FileId) -> Result<ChunkPresence, CallError> {
        self.bucket(bucket, bm::LIST_CHUNKS, (file_id,)).await
    }
}

/// Attempts of one call before a transient failure is given up on.
pub const MAX_ATTEMPTS: u32 = 6;

/// Retries transient failures (network, overload) with exponential backoff:
/// 0.4 s, 0.8 s, … for up to `MAX_ATTEMPTS` attempts.
pub async fn retry<T, F, Fut>(mut f: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if e.is_transient() && attempt + 1 < MAX_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            other => return other,
        }
    }
}
