//! Driving a deployment through devnet's library API, without HTTP (so
//! tests may move the clock freely): uploads step by step, ingress calls
//! submitted now and answered later (while messages are held), maintenance
//! rounds, stopping and upgrading the directory.

use crate::deploy::{Deployment, call, query};
use anyhow::{Context, Result, anyhow, bail};
use candid::utils::ArgumentEncoder;
use candid::{CandidType, Encode, Principal};
use depot_api::bucket::PutChunkArgs;
use depot_api::directory::{
    CommitUploadReq, CommitUploadResult, DirectoryInit, GetUploadTokenReq, StartUploadReq, StartUploadRes,
};
use depot_api::methods::{Method, bucket as bm, directory as dm};
use depot_api::{DirectoryError, FileId};
use depot_devnet::{Devnet, IngressMessage, InstallMode, Reject, RequestStatus};
use serde::de::DeserializeOwned;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `n` bytes that differ per `seed`.
pub fn content(seed: u8, n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(0x9E37_79B9) >> 13) as u8 ^ seed).collect()
}

/// Starts an upload of `content` for `user` (declaring its SHA-256 if
/// `declare_sha`).
pub fn start_upload(
    dev: &mut Devnet,
    d: &Deployment,
    user: Principal,
    content: &[u8],
    declare_sha: bool,
) -> Result<StartUploadRes> {
    let sha256 = declare_sha.then(|| ByteBuf::from(Sha256::digest(content).to_vec()));
    let req = StartUploadReq {
        name: "f.bin".into(),
        mime: None,
        size_bytes: content.len() as u64,
        sha256,
        retention_days: None,
    };
    call(dev, user, d.directory, dm::START_UPLOAD, (req,))?.map_err(|e| anyhow!("start_upload: {e:?}"))
}

/// Sends `chunks` of the upload `s` (each with its own token call).
pub fn put_chunks(
    dev: &mut Devnet,
    d: &Deployment,
    user: Principal,
    s: &StartUploadRes,
    content: &[u8],
    chunks: impl IntoIterator<Item = u32>,
) -> Result<()> {
    let size = s.chunk_size as usize;
    for i in chunks {
        let req = GetUploadTokenReq { upload_id: s.upload_id.clone(), first_chunk: i, last_chunk: i };
        let token = call(dev, user, d.directory, dm::GET_UPLOAD_TOKEN, (req,))?
            .map_err(|e| anyhow!("get_upload_token {i}: {e:?}"))?;
        let start = i as usize * size;
        let bytes = content[start..(start + size).min(content.len())].to_vec();
        call(dev, user, s.bucket, bm::PUT_CHUNK, (PutChunkArgs { token, chunk_index: i, bytes },))?
            .map_err(|e| anyhow!("put_chunk {i}: {e:?}"))?;
    }
    Ok(())
}

/// Every chunk of the upload `s`.
pub fn put_all(dev: &mut Devnet, d: &Deployment, user: Principal, s: &StartUploadRes, content: &[u8]) -> Result<()> {
    put_chunks(dev, d, user, s, content, 0..s.expected_chunk_count)
}

pub fn commit_req(upload_id: &ByteBuf) -> CommitUploadReq {
    CommitUploadReq { upload_id: upload_id.clone(), uploaded_chunk_count: None, final_sha256: None }
}

/// `commit_upload`, run to its end.
pub fn commit(dev: &mut Devnet, d: &Deployment, user: Principal, upload_id: &ByteBuf) -> Result<CommitUploadResult> {
    call(dev, user, d.directory, dm::COMMIT_UPLOAD, (commit_req(upload_id),))
}

/// A whole upload, committed; the new file's id.
pub fn upload(dev: &mut Devnet, d: &Deployment, user: Principal, content: &[u8]) -> Result<FileId> {
    let s = start_upload(dev, d, user, content, true)?;
    put_all(dev, d, user, &s, content)?;
    let meta = commit(dev, d, user, &s.upload_id)?.map_err(|e| anyhow!("commit_upload: {e:?}"))?;
    Ok(meta.file_id)
}

/// `delete_file` as `user`, run to its end.
pub fn delete(dev: &mut Devnet, d: &Deployment, user: Principal, file_id: &FileId) -> Result<u64> {
    let r = call(dev, user, d.directory, dm::DELETE_FILE, (file_id.clone(),))?;
    Ok(r.map_err(|e| anyhow!("delete_file: {e:?}"))?.freed_bytes)
}

/// An ingress call submitted and not waited for: `tick` runs it, and
/// [`Submitted::outcome`] reads its answer once there is one.
pub struct Submitted<R> {
    pub request_id: [u8; 32],
    pub method: &'static str,
    decode: fn(&[u8]) -> Result<R>,
    _r: PhantomData<R>,
}

static NEXT_REQUEST: AtomicU64 = AtomicU64::new(0);

/// Submits `method(args)` to `canister` as ingress from `sender` (it goes
/// through `inspect_message`), without running it.
pub fn submit<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
    dev: &mut Devnet,
    sender: Principal,
    canister: Principal,
    method: Method<A, R>,
    args: A,
) -> Result<Submitted<R>> {
    let arg = method.encode(args)?;
    let n = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    let request_id: [u8; 32] = Sha256::digest(format!("depot-tests drive {n} {}", std::process::id())).into();
    let msg = IngressMessage {
        request_id,
        sender,
        canister_id: canister,
        method_name: method.name.into(),
        arg,
        ingress_expiry: u64::MAX,
        effective_canister_id: canister,
    };
    dev.submit_ingress(msg).map_err(|e| anyhow!("{}: {e}", method.name))?;
    let decode: fn(&[u8]) -> Result<R> = |b| Ok(candid::decode_one(b)?);
    Ok(Submitted { request_id, method: method.name, decode, _r: PhantomData })
}

/// Submits a management call (`stop_canister`, `start_canister`) as ingress.
pub fn submit_management(
    dev: &mut Devnet,
    sender: Principal,
    method: &'static str,
    canister: Principal,
) -> Result<Submitted<()>> {
    #[derive(CandidType)]
    struct Arg {
        canister_id: Principal,
    }
    let arg = Encode!(&Arg { canister_id: canister })?;
    let n = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    let request_id: [u8; 32] = Sha256::digest(format!("depot-tests mgmt {n} {}", std::process::id())).into();
    let msg = IngressMessage {
        request_id,
        sender,
        canister_id: Principal::management_canister(),
        method_name: method.into(),
        arg,
        ingress_expiry: u64::MAX,
        effective_canister_id: Principal::management_canister(),
    };
    dev.submit_ingress(msg).map_err(|e| anyhow!("{method}: {e}"))?;
    Ok(Submitted { request_id, method, decode: |_| Ok(()), _r: PhantomData })
}

impl<R> Submitted<R> {
    /// `None` while the call runs; then its reply, decoded, or its reject.
    pub fn outcome(&self, dev: &Devnet) -> Option<Result<R, Reject>> {
        match dev.request_status(&self.request_id)? {
            RequestStatus::Replied(b) => {
                Some(Ok((self.decode)(&b).with_context(|| format!("decoding the reply of {}", self.method)).unwrap()))
            }
            RequestStatus::Rejected(r) => Some(Err(r)),
            _ => None,
        }
    }

    /// The answer, which must be there.
    #[track_caller]
    pub fn answered(&self, dev: &Devnet) -> Result<R, Reject> {
        match self.outcome(dev) {
            Some(r) => r,
            None => panic!("{} has no answer yet: {:?}", self.method, dev.request_status(&self.request_id)),
        }
    }
}

/// `rounds` maintenance rounds: each moves time by one maintenance
/// interval (and a second) and ticks, so the directory's timer runs.
pub fn maintain(dev: &mut Devnet, rounds: usize) {
    for _ in 0..rounds {
        dev.advance_time(Duration::from_secs(61));
        dev.tick();
    }
}

/// Moves time by `d`, then runs `rounds` maintenance rounds.
pub fn jump(dev: &mut Devnet, d: Duration, rounds: usize) {
    dev.advance_time(d);
    dev.tick();
    maintain(dev, rounds);
}

/// Upgrades the directory to the same release wasm (no settings changed),
/// as its controller does: install_code in upgrade mode, whatever the
/// directory's status.
pub fn upgrade_directory(dev: &mut Devnet, d: &Deployment) -> Result<()> {
    let wasm = crate::wasm::canister_wasm("directory")?;
    let arg = Encode!(&None::<DirectoryInit>)?;
    dev.install_code(d.admin, d.directory, &wasm, &arg, InstallMode::Upgrade)?;
    Ok(())
}

/// The directory's own error in a decoded answer that must be one.
pub fn directory_err<T: std::fmt::Debug>(r: Result<Result<T, DirectoryError>>) -> Result<DirectoryError> {
    match r? {
        Ok(v) => bail!("expected an error, got {v:?}"),
        Err(e) => Ok(e),
    }
}

/// The admin's query of the directory, decoded.
pub fn admin_query<A: ArgumentEncoder, R: CandidType + DeserializeOwned>(
    dev: &mut Devnet,
    d: &Deployment,
    method: Method<A, R>,
    args: A,
) -> Result<R> {
    query(dev, d.admin, d.directory, method, args)
}
