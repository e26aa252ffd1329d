//! Typed calls to the directory and the buckets over ic-agent.

use candid::{CandidType, Decode, Encode, Principal};
use depot_api::bucket::*;
use depot_api::directory::*;
use depot_api::token::UploadToken;
use depot_api::{BucketError, DirectoryError, FileId};
use ic_agent::{Agent, AgentError, Identity};
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
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transient(m) => write!(f, "network error (retryable): {m}"),
            CallError::Failed(m) => write!(f, "call failed: {m}"),
            CallError::Directory(e) => write!(f, "{}", crate::format::explain_directory_error(e)),
            CallError::Bucket(e) => write!(f, "{}", crate::format::explain_bucket_error(e)),
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
    match &e {
        AgentError::TransportError(_) | AgentError::TimeoutWaitingForResponse() => CallError::Transient(e.to_string()),
        AgentError::HttpError(p) if p.status >= 500 || p.status == 429 => CallError::Transient(e.to_string()),
        _ => CallError::Failed(e.to_string()),
    }
}

pub struct Depot {
    pub agent: Agent,
    pub directory: Principal,
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
        Ok(Self { agent, directory })
    }

    pub fn me(&self) -> Principal {
        self.agent.get_principal().unwrap_or(Principal::anonymous())
    }

    async fn update<A: CandidType, R: CandidType + DeserializeOwned>(
        &self,
        c: Principal,
        m: &str,
        a: A,
    ) -> Result<R, CallError> {
        let arg = Encode!(&a).map_err(|e| CallError::Failed(e.to_string()))?;
        let out = self.agent.update(&c, m).with_arg(arg).call_and_wait().await.map_err(classify)?;
        Decode!(&out, R).map_err(|e| CallError::Failed(format!("bad reply from {m}: {e}")))
    }

    async fn query<A: CandidType, R: CandidType + DeserializeOwned>(
        &self,
        c: Principal,
        m: &str,
        a: A,
    ) -> Result<R, CallError> {
        let arg = Encode!(&a).map_err(|e| CallError::Failed(e.to_string()))?;
        let out = self.agent.query(&c, m).with_arg(arg).call().await.map_err(classify)?;
        Decode!(&out, R).map_err(|e| CallError::Failed(format!("bad reply from {m}: {e}")))
    }

    async fn dir_update<A: CandidType, R: CandidType + DeserializeOwned>(&self, m: &str, a: A) -> Result<R, CallError> {
        self.update::<A, Result<R, DirectoryError>>(self.directory, m, a).await?.map_err(CallError::Directory)
    }

    async fn dir_query<A: CandidType, R: CandidType + DeserializeOwned>(&self, m: &str, a: A) -> Result<R, CallError> {
        self.query::<A, Result<R, DirectoryError>>(self.directory, m, a).await?.map_err(CallError::Directory)
    }

    pub async fn start_upload(&self, req: StartUploadReq) -> Result<StartUploadRes, CallError> {
        self.dir_update("start_upload", req).await
    }

    pub async fn get_upload(&self, upload_id: &[u8]) -> Result<UploadProgress, CallError> {
        self.dir_query("get_upload", ByteBuf::from(upload_id.to_vec())).await
    }

    pub async fn get_upload_token(&self, upload_id: &[u8], first: u32, last: u32) -> Result<UploadToken, CallError> {
        let req =
            GetUploadTokenReq { upload_id: ByteBuf::from(upload_id.to_vec()), first_chunk: first, last_chunk: last };
        self.dir_update("get_upload_token", req).await
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
        self.dir_update("mark_chunk_uploaded", req).await
    }

    pub async fn commit_upload(&self, req: CommitUploadReq) -> Result<FileMeta, CallError> {
        self.dir_update("commit_upload", req).await
    }

    pub async fn delete_file(&self, file_id: FileId) -> Result<DeleteRes, CallError> {
        self.dir_update("delete_file", file_id).await
    }

    pub async fn list_files(&self, req: ListFilesReq) -> Result<ListFilesRes, CallError> {
        self.dir_query("list_files", req).await
    }

    pub async fn get_file_meta(&self, file_id: FileId) -> Result<FileMeta, CallError> {
        self.dir_query("get_file_meta", file_id).await
    }

    pub async fn get_download_plan(&self, file_id: FileId) -> Result<DownloadPlan, CallError> {
        self.dir_query("get_download_plan", file_id).await
    }

    pub async fn get_download_url(&self, req: GetDownloadUrlReq) -> Result<DownloadUrl, CallError> {
        self.dir_update("get_download_url", req).await
    }

    pub async fn get_usage(&self) -> Result<Usage, CallError> {
        self.dir_query("get_usage", None::<Principal>).await
    }

    pub async fn admin_get_stats(&self) -> Result<AdminStats, CallError> {
        self.dir_query("admin_get_stats", ()).await
    }

    pub async fn put_chunk(&self, bucket: Principal, args: PutChunkArgs) -> Result<PutChunkOk, CallError> {
        self.update::<_, PutChunkResult>(bucket, "put_chunk", args).await?.map_err(CallError::Bucket)
    }

    pub async fn get_chunk(&self, bucket: Principal, file_id: FileId, chunk_index: u32) -> Result<Vec<u8>, CallError> {
        let r: GetChunkResult = self.query(bucket, "get_chunk", GetChunkArgs { file_id, chunk_index }).await?;
        r.map(ByteBuf::into_vec).map_err(CallError::Bucket)
    }

    pub async fn list_chunks(&self, bucket: Principal, file_id: FileId) -> Result<ChunkPresence, CallError> {
        self.query::<_, ListChunksResult>(bucket, "list_chunks", file_id).await?.map_err(CallError::Bucket)
    }
}
