//! Prints instruction counts of Depot's canisters on devnet. Figures, not
//! asserts: `cargo run --release -p depot-tests --bin depot-bench`.
//!
//! - bucket `put_chunk` per MiB and `http_request` per served chunk;
//! - directory `start_upload` / `commit_upload`;
//! - the bucket's `post_upgrade` (certification tree rebuild) per file and
//!   per chunk, extrapolated to the 300 B instruction upgrade budget.

use anyhow::{anyhow, Result};
use candid::{Decode, Encode, Principal};
use depot_api::bucket::PutChunkArgs;
use depot_api::directory::*;
use depot_api::token::UploadToken;
use depot_api::DirectoryError;
use depot_devnet::{Devnet, DevnetConfig, InstallMode};
use depot_tests::deploy::{call, deploy, DeployOpts, Deployment};
use depot_tests::wasm::canister_wasm;
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

const UPGRADE_BUDGET: f64 = 300e9;

fn user() -> Principal {
    Principal::self_authenticating(b"bench user")
}

struct Uploaded {
    put_instructions: Vec<u64>,
    start_instructions: u64,
    commit_instructions: u64,
    file_id: depot_api::FileId,
}

/// One file through the real path, as `user()`; returns instruction counts.
fn upload(dev: &mut Devnet, d: &Deployment, data: &[u8], name: &str) -> Result<Uploaded> {
    let req = StartUploadReq {
        name: name.into(),
        mime: None,
        size_bytes: data.len() as u64,
        sha256: Some(ByteBuf::from(Sha256::digest(data).to_vec())),
        retention_days: None,
    };
    let out = dev.update(user(), d.directory, "start_upload", &Encode!(&req)?)?;
    let start_instructions = out.instructions;
    let started: StartUploadResult = Decode!(&out.result.map_err(|r| anyhow!("{r:?}"))?, StartUploadResult)?;
    let started = started.map_err(|e| anyhow!("start_upload: {e}"))?;
    let req = GetUploadTokenReq {
        upload_id: started.upload_id.clone(),
        first_chunk: 0,
        last_chunk: started.expected_chunk_count - 1,
    };
    let token: Result<UploadToken, DirectoryError> = call(dev, user(), d.directory, "get_upload_token", &req)?;
    let token = token.map_err(|e| anyhow!("token: {e}"))?;
    let mut put_instructions = vec![];
    for (i, chunk) in data.chunks(started.chunk_size as usize).enumerate() {
        let args = PutChunkArgs { token: token.clone(), chunk_index: i as u32, bytes: chunk.to_vec() };
        let out = dev.update(user(), started.bucket, "put_chunk", &Encode!(&args)?)?;
        out.result.map_err(|r| anyhow!("put_chunk: {r:?}"))?;
        put_instructions.push(out.instructions);
    }
    let req = CommitUploadReq { upload_id: started.upload_id, uploaded_chunk_count: None, final_sha256: None };
    let out = dev.update(user(), d.directory, "commit_upload", &Encode!(&req)?)?;
    let res: CommitUploadResult = Decode!(&out.result.map_err(|r| anyhow!("{r:?}"))?, CommitUploadResult)?;
    res.map_err(|e| anyhow!("commit: {e}"))?;
    Ok(Uploaded { put_instructions, start_instructions, commit_instructions: out.instructions, file_id: started.file_id })
}

fn set_state(dev: &mut Devnet, d: &Deployment, bucket: Principal, state: BucketState) -> Result<()> {
    let out = dev.update(d.admin, d.directory, "admin_set_bucket_state", &Encode!(&bucket, &state)?)?;
    let r: Result<(), DirectoryError> = Decode!(&out.result.map_err(|r| anyhow!("{r:?}"))?, Result<(), DirectoryError>)?;
    r.map_err(|e| anyhow!("admin_set_bucket_state: {e}"))
}

fn upgrade_instructions(dev: &mut Devnet, d: &Deployment, bucket: Principal) -> Result<u64> {
    let wasm = canister_wasm("bucket")?;
    dev.install_code(d.admin, bucket, &wasm, &Encode!()?, InstallMode::Upgrade)?;
    Ok(dev.last_instructions())
}

fn setup(chunk_size: u32, buckets: usize) -> Result<(Devnet, Deployment)> {
    let mut dev = Devnet::new(DevnetConfig { debug_print: false, ..DevnetConfig::default() });
    let init = DirectoryInit {
        chunk_size: Some(chunk_size),
        default_quota_bytes: Some(1 << 40),
        start_upload_per_minute: Some(1_000_000),
        max_uploads_in_progress: Some(1_000),
        ..Default::default()
    };
    let d = deploy(&mut dev, DeployOpts { buckets, domain_template: "{bucket}.localhost:4943".into(), directory_init: init })?;
    Ok((dev, d))
}

fn http_chunk_instructions(dev: &mut Devnet, d: &Deployment, file_id: &depot_api::FileId, bucket: Principal, range: &str) -> Result<u64> {
    let url_req = GetDownloadUrlReq { file_id: file_id.clone(), ttl_secs: None, disposition: None };
    let url: Result<DownloadUrl, DirectoryError> = call(dev, user(), d.directory, "get_download_url", &url_req)?;
    let url = url.map_err(|e| anyhow!("url: {e}"))?.url;
    let path = &url[url.find("/f/").ok_or_else(|| anyhow!("no path in {url}"))?..];
    let mut headers = vec![];
    if !range.is_empty() {
        headers.push(("Range".to_string(), range.to_string()));
    }
    let req = ic_http_certification::HttpRequest::get(path).with_headers(headers).build();
    let out = dev.query(Principal::anonymous(), bucket, "http_request", &Encode!(&req)?)?;
    out.result.map_err(|r| anyhow!("http_request: {r:?}"))?;
    Ok(out.instructions)
}

fn main() -> Result<()> {
    let mib = 1usize << 20;
    println!("Depot benchmark on devnet (instructions as devnet counts them)\n");

    // put_chunk and serving, 1 MiB chunks
    let (mut dev, d) = setup(mib as u32, 1)?;
    let data: Vec<u8> = (0..8 * mib).map(|i| (i * 7 % 251) as u8).collect();
    let up = upload(&mut dev, &d, &data, "bench.bin")?;
    let avg_put = up.put_instructions.iter().sum::<u64>() as f64 / up.put_instructions.len() as f64;
    println!("bucket put_chunk (1 MiB, whole-file SHA-256 declared): {:.1} M instructions per MiB", avg_put / 1e6);
    println!("directory start_upload: {:.2} M, commit_upload (8 MiB file): {:.2} M instructions",
        up.start_instructions as f64 / 1e6, up.commit_instructions as f64 / 1e6);
    let bucket = d.buckets[0];
    let first = http_chunk_instructions(&mut dev, &d, &up.file_id, bucket, "")?;
    let aligned = http_chunk_instructions(&mut dev, &d, &up.file_id, bucket, &format!("bytes={}-", 3 * mib))?;
    println!("bucket http_request, certified 206 of a 1 MiB chunk: {:.1} M (first chunk), {:.1} M (Range at chunk 3)",
        first as f64 / 1e6, aligned as f64 / 1e6);

    // Upgrade rebuild: per file (1-chunk files) and per chunk (64 KiB chunks).
    let (mut dev, d) = setup(64 * 1024, 2)?;
    let (small, large) = (d.buckets[0], d.buckets[1]);
    let empty = upgrade_instructions(&mut dev, &d, small)?;
    // Park the second bucket so every small file lands in the first.
    set_state(&mut dev, &d, large, BucketState::Draining)?;
    let files = 300;
    for i in 0..files {
        upload(&mut dev, &d, format!("file {i}").as_bytes(), &format!("f{i}.txt"))?;
    }
    let with_files = upgrade_instructions(&mut dev, &d, small)?;
    let per_file = (with_files - empty) as f64 / files as f64;
    set_state(&mut dev, &d, small, BucketState::Draining)?;
    set_state(&mut dev, &d, large, BucketState::Writable)?;
    let (big_files, chunks_each) = (4usize, 250usize);
    for i in 0..big_files {
        let data: Vec<u8> = (0..chunks_each * 64 * 1024).map(|j| ((i + j) % 253) as u8).collect();
        upload(&mut dev, &d, &data, &format!("big{i}.bin"))?;
    }
    let with_chunks = upgrade_instructions(&mut dev, &d, large)?;
    let per_chunk = ((with_chunks - empty) as f64 - big_files as f64 * per_file) / (big_files * chunks_each) as f64;
    println!("\nbucket post_upgrade (certification tree rebuild):");
    println!("  empty bucket: {:.2} M instructions", empty as f64 / 1e6);
    println!("  per file (1-chunk files): {:.0} K instructions", per_file / 1e3);
    println!("  per extra chunk: {:.0} K instructions", per_chunk / 1e3);
    let max_chunks = (UPGRADE_BUDGET - empty as f64) / per_chunk;
    let max_files = (UPGRADE_BUDGET - empty as f64) / per_file;
    println!("  a rebuild in one message would reach the 300 B upgrade budget at about {:.0} K chunks in large files",
        max_chunks / 1e3);
    println!("  ({:.0} GiB at 1 MiB chunks) or about {:.0} K single-chunk files; post_upgrade therefore stops", max_chunks / 1024.0, max_files / 1e3);
    println!("  at 150 B and timer steps finish the rebuild (docs/storage.md section 4)");
    Ok(())
}
