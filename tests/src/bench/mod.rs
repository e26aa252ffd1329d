//! The sections of `depot-bench` (figures, not asserts) and what they share:
//! a devnet deployment with limits raised for benchmarking, one upload
//! through the real path with its instruction counts, and report printing.
//!
//! Instruction counts are devnet's (`CallOutcome::instructions`: the
//! callee's executions up to its reply).

pub mod billing;
pub mod bucket;
pub mod directory;
pub mod provisioning;
pub mod seek;
pub mod transfer;
pub mod upgrade;
pub mod webapp;

use crate::deploy::{DeployOpts, Deployment, call, deploy};
use anyhow::{Result, anyhow};
use candid::{Decode, Encode, Principal};
use depot_api::DirectoryError;
use depot_api::bucket::PutChunkArgs;
use depot_api::directory::*;
use depot_api::limits::{MAX_START_UPLOAD_PER_MINUTE, MAX_UPLOAD_TOKENS_PER_MINUTE, MAX_UPLOADS_IN_PROGRESS};
use depot_api::methods::{bucket as bm, directory as dm};
use depot_api::token::UploadToken;
use depot_devnet::{CallOutcome, Devnet, DevnetConfig};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

pub const KIB: usize = 1 << 10;
pub const MIB: usize = 1 << 20;

/// Host of download URLs in the in-process deployments (never dialled).
const DOMAIN_TEMPLATE: &str = "{bucket}.localhost:4943";

/// The user every in-process section uploads as.
pub fn user() -> Principal {
    Principal::self_authenticating(b"bench user")
}

/// Limits raised so the benchmark is never refused (chunk size as given).
pub fn raised_limits(chunk_size: u32) -> DirectoryInit {
    DirectoryInit {
        chunk_size: Some(chunk_size),
        default_quota_bytes: Some(1 << 40),
        start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE),
        max_uploads_in_progress: Some(MAX_UPLOADS_IN_PROGRESS),
        upload_tokens_per_minute: Some(MAX_UPLOAD_TOKENS_PER_MINUTE),
        ..Default::default()
    }
}

/// `DEPOT_BENCH_HEAP_ROLLBACK=copy` runs devnet as it was before dirty-page
/// tracking (each message copies the canister's heap), to compare against.
pub fn new_devnet() -> Devnet {
    let heap_rollback = match std::env::var("DEPOT_BENCH_HEAP_ROLLBACK").as_deref() {
        Ok("copy") => depot_devnet::HeapRollback::Copy,
        _ => depot_devnet::HeapRollback::DirtyPages,
    };
    Devnet::new(DevnetConfig { debug_print: false, heap_rollback, ..DevnetConfig::default() })
}

/// A directory with `buckets` release-wasm buckets on `dev`, charging
/// nothing: these benchmarks measure storage and serving, and seed more than
/// the free tier (billing's own figures are in `bench::billing`).
pub fn deploy_on(dev: &mut Devnet, buckets: usize, directory_init: DirectoryInit) -> Result<Deployment> {
    let d = deploy(dev, DeployOpts { buckets, domain_template: DOMAIN_TEMPLATE.into(), directory_init })?;
    crate::deploy::set_pricing(dev, &d, crate::deploy::zero_pricing())?;
    Ok(d)
}

/// A fresh devnet with a directory (raised limits) and `buckets` buckets.
pub fn setup(chunk_size: u32, buckets: usize) -> Result<(Devnet, Deployment)> {
    let mut dev = new_devnet();
    let d = deploy_on(&mut dev, buckets, raised_limits(chunk_size))?;
    Ok((dev, d))
}

/// The reply bytes of a call that must succeed.
pub fn reply(method: &str, out: &CallOutcome) -> Result<Vec<u8>> {
    out.result.clone().map_err(|r| anyhow!("{method} rejected: {r:?}"))
}

pub struct Uploaded {
    pub put_instructions: Vec<u64>,
    pub start_instructions: u64,
    pub commit_instructions: u64,
    pub file_id: depot_api::FileId,
}

/// One file through the real path (start_upload, get_upload_token,
/// put_chunk per chunk, commit_upload) as `user()`, with instruction counts.
pub fn upload(dev: &mut Devnet, d: &Deployment, data: &[u8], name: &str) -> Result<Uploaded> {
    let req = StartUploadReq {
        name: name.into(),
        mime: None,
        size_bytes: data.len() as u64,
        sha256: Some(ByteBuf::from(Sha256::digest(data).to_vec())),
        retention_days: None,
    };
    let out = dev.update(user(), d.directory, dm::START_UPLOAD.name, &Encode!(&req)?)?;
    let started =
        Decode!(&reply("start_upload", &out)?, StartUploadResult)?.map_err(|e| anyhow!("start_upload: {e}"))?;
    let start_instructions = out.instructions;
    let req = GetUploadTokenReq {
        upload_id: started.upload_id.clone(),
        first_chunk: 0,
        last_chunk: started.expected_chunk_count - 1,
    };
    let token: Result<UploadToken, DirectoryError> =
        call(dev, user(), d.directory, dm::GET_UPLOAD_TOKEN, (req.clone(),))?;
    let token = token.map_err(|e| anyhow!("get_upload_token: {e}"))?;
    let mut put_instructions = vec![];
    for (i, chunk) in data.chunks(started.chunk_size as usize).enumerate() {
        let args = PutChunkArgs { token: token.clone(), chunk_index: i as u32, bytes: chunk.to_vec() };
        let out = dev.update(user(), started.bucket, bm::PUT_CHUNK.name, &Encode!(&args)?)?;
        let put = Decode!(&reply("put_chunk", &out)?, depot_api::bucket::PutChunkResult)?;
        put.map_err(|e| anyhow!("put_chunk: {e}"))?;
        put_instructions.push(out.instructions);
    }
    let req = CommitUploadReq { upload_id: started.upload_id, uploaded_chunk_count: None, final_sha256: None };
    let out = dev.update(user(), d.directory, dm::COMMIT_UPLOAD.name, &Encode!(&req)?)?;
    Decode!(&reply("commit_upload", &out)?, CommitUploadResult)?.map_err(|e| anyhow!("commit_upload: {e}"))?;
    Ok(Uploaded {
        put_instructions,
        start_instructions,
        commit_instructions: out.instructions,
        file_id: started.file_id,
    })
}

/// `n` bytes of a fixed pattern, varied by `salt`.
pub fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n).map(|i| ((i as u32).wrapping_mul(2654435761) >> 9) as u8 ^ salt).collect()
}

// ---- report ----

pub fn heading(title: &str) {
    println!("\n{title}");
    println!("{}", "-".repeat(title.chars().count()));
}

/// One report line: a label and its figure, aligned.
pub fn row(label: &str, figure: impl std::fmt::Display) {
    println!("  {label:<56} {figure}");
}

/// `1 KiB`, `64 KiB`, `1 MiB`: a size in binary units.
pub fn size_label(bytes: usize) -> String {
    match bytes {
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} B"),
    }
}

/// Instructions in millions, e.g. `12.34 M instr`.
pub fn minstr(n: impl Into<f64>) -> String {
    format!("{:>10.2} M instr", n.into() / 1e6)
}

/// An integer with thousands separators.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn mean(xs: &[u64]) -> f64 {
    xs.iter().sum::<u64>() as f64 / xs.len().max(1) as f64
}
