//! Depot bucket canister: the data plane.
//!
//! Layers, each depending only on those below it:
//! - this file: endpoints. Each reads the caller and the clock, calls one
//!   `logic::*_impl`, and applies the certification change it reports;
//! - `lifecycle`: install, upgrade and the stepwise certification rebuild;
//! - `http`: certified serving (plans, responses, the certification tree);
//! - `logic`: every check and decision, as plain functions over the store;
//! - `model`: stable storage only.

pub mod http;
pub mod lifecycle;
pub mod limits;
pub mod logic;
pub mod model;
pub mod state;

use candid::Principal;
use depot_api::FileId;
use depot_api::bucket::*;
use depot_api::keys::PublicKeyInfo;
use depot_api::methods::{self, is_one_of};
use http::answer::{Context, answer_query, answer_update};
use ic_cdk::{init, inspect_message, post_upgrade, query, update};
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};
use lifecycle::{REBUILD_INSTRUCTIONS_IN_UPGRADE, install_certification, publish_root_hash};
use logic::CertChange;
use state::*;

fn now_ns() -> u64 {
    ic_cdk::api::time()
}

/// Brings the certification tree and the certified data up to date.
fn certify(change: &CertChange) {
    if *change != CertChange::Unchanged {
        with_store(|s| with_certs_mut(|c| c.apply(s, change)));
        publish_root_hash();
    }
}

#[init]
fn init(args: BucketInit) {
    with_store_mut(|s| logic::admin::init_impl(s, args));
    install_certification(REBUILD_INSTRUCTIONS_IN_UPGRADE);
}

#[post_upgrade]
fn post_upgrade() {
    // Opens the store (everything is in stable memory already); only the
    // heap tree is rebuilt.
    with_store(|_| ());
    install_certification(REBUILD_INSTRUCTIONS_IN_UPGRADE);
}

/// Cheap early rejects; every check is repeated inside the methods.
#[inspect_message]
fn inspect_message() {
    let method = ic_cdk::api::call::method_name();
    let caller = ic_cdk::caller();
    if is_one_of(&method, &methods::bucket::DIRECTORY_ONLY) && caller != with_store(|s| s.config().directory) {
        ic_cdk::trap("only the directory may call this method");
    }
    if method == methods::bucket::PUT_CHUNK.name && caller == Principal::anonymous() {
        ic_cdk::trap("anonymous callers cannot upload");
    }
    ic_cdk::api::call::accept_message();
}

#[update]
fn put_chunk(args: PutChunkArgs) -> PutChunkResult {
    with_store_mut(|s| logic::put_chunk::put_chunk_impl(s, ic_cdk::id(), ic_cdk::caller(), now_ns(), args))
}

#[query]
fn get_chunk(args: GetChunkArgs) -> GetChunkResult {
    with_store(|s| logic::read::get_chunk_impl(s, ic_cdk::caller(), &args)).map(serde_bytes::ByteBuf::from)
}

#[query]
fn list_chunks(file_id: FileId) -> ListChunksResult {
    with_store(|s| logic::read::list_chunks_impl(s, ic_cdk::caller(), &file_id))
}

#[update]
fn commit_file(args: CommitFileArgs) -> CommitFileResult {
    let (ok, change) = with_store_mut(|s| logic::commit::commit_file_impl(s, ic_cdk::caller(), now_ns(), args))?;
    certify(&change);
    Ok(ok)
}

#[update]
fn delete_file(args: DeleteFileArgs) -> DeleteFileResult {
    let (ok, change) =
        with_store_mut(|s| logic::delete::delete_file_impl(s, ic_cdk::caller(), now_ns(), &args.file_id))?;
    certify(&change);
    Ok(ok)
}

#[query]
fn stat() -> BucketStat {
    let stable = ic_cdk::api::stable::stable_size() * 65536;
    let entries = with_certs(|c| c.entries());
    with_store(|s| logic::read::stat_impl(s, stable, entries))
}

#[update]
fn set_keys(keys: Vec<PublicKeyInfo>) -> UnitResult {
    with_store_mut(|s| logic::admin::set_keys_impl(s, ic_cdk::caller(), keys))
}

#[update]
fn set_read_only(read_only: bool) -> UnitResult {
    with_store_mut(|s| logic::admin::set_read_only_impl(s, ic_cdk::caller(), read_only))
}

#[query]
fn http_request(req: HttpRequest<'static>) -> HttpResponse<'static> {
    let cert = ic_cdk::api::data_certificate();
    let now_secs = now_ns() / 1_000_000_000;
    with_store(|store| {
        with_certs(|certs| {
            let cx = Context { store, certs, this_bucket: ic_cdk::id(), now_secs };
            answer_query(&cx, req.method().as_str(), req.url(), req.headers(), cert.as_deref())
        })
    })
}

#[update]
fn http_request_update(req: HttpUpdateRequest<'static>) -> HttpUpdateResponse<'static> {
    let now_secs = now_ns() / 1_000_000_000;
    with_store(|store| {
        with_certs(|certs| {
            let cx = Context { store, certs, this_bucket: ic_cdk::id(), now_secs };
            answer_update(&cx, req.method().as_str(), req.url(), req.headers()).into()
        })
    })
}

/// Benchmark only (feature `bench`, off by default; see Cargo.toml): the
/// SHA-256 of `bytes` with the sha2 crate `put_chunk` hashes with, and the
/// instructions the digest alone took (the call's total also counts decoding
/// the argument). `depot-bench` sets `put_chunk`'s cost per MiB beside it.
/// Not in `bucket.did`: the interface test runs without the feature.
#[cfg(feature = "bench")]
#[update]
fn bench_sha256(bytes: serde_bytes::ByteBuf) -> (serde_bytes::ByteBuf, u64) {
    use sha2::{Digest, Sha256};
    let before = ic_cdk::api::instruction_counter();
    let digest = Sha256::digest(&bytes);
    let instructions = ic_cdk::api::instruction_counter() - before;
    (serde_bytes::ByteBuf::from(digest.to_vec()), instructions)
}

ic_cdk::export_candid!();

#[cfg(test)]
mod tests;
