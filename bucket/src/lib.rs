//! Depot bucket canister: the data plane. Endpoints here are thin wrappers
//! over `model` (stable state and rules) and `http` (certified serving).

pub mod http;
pub mod limits;
pub mod model;
pub mod state;

use candid::Principal;
use depot_api::FileId;
use depot_api::bucket::*;
use depot_api::keys::PublicKeyInfo;
use http::answer::{Context, answer_query, answer_update, file_view};
use ic_cdk::{init, inspect_message, post_upgrade, query, update};
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};
use state::*;

fn now_ns() -> u64 {
    ic_cdk::api::time()
}

fn publish_root_hash() {
    with_certs(|c| ic_cdk::api::set_certified_data(&c.root_hash()));
}

/// Instructions `post_upgrade` may spend on the certification tree; the
/// rest of a large bucket is rebuilt by timer steps (docs/storage.md §4).
const REBUILD_INSTRUCTIONS_IN_UPGRADE: u64 = 150_000_000_000;
/// Instructions per timer step of that rebuild (update limit: 40 B).
const REBUILD_INSTRUCTIONS_PER_STEP: u64 = 20_000_000_000;

/// Starts from an empty tree (with the fallbacks) and adds files until the
/// budget is spent; a timer carries on from there. Until a file is back in
/// the tree, its requests are answered by `http_request_update`.
fn install_certification(budget: u64) {
    let mut tree = http::certs::CertTree::default();
    tree.insert_fallbacks();
    with_certs_mut(|c| *c = tree);
    set_rebuild_cursor(Some(None));
    continue_rebuild(budget);
}

fn continue_rebuild(budget: u64) {
    let Some(cursor) = rebuild_cursor() else { return };
    let next =
        with_store(|s| with_certs_mut(|c| rebuild_step(s, c, cursor, || ic_cdk::api::instruction_counter() > budget)));
    set_rebuild_cursor(next);
    publish_root_hash();
    if next.is_some() {
        ic_cdk_timers::set_timer(std::time::Duration::ZERO, || continue_rebuild(REBUILD_INSTRUCTIONS_PER_STEP));
    }
}

#[init]
fn init(args: BucketInit) {
    with_store_mut(|s| {
        s.set_config(model::records::Config {
            directory: args.directory,
            keys: args.keys,
            capacity_bytes: args.capacity_bytes.unwrap_or(limits::DEFAULT_BUCKET_CAPACITY_BYTES),
            read_only: false,
        })
    });
    install_certification(REBUILD_INSTRUCTIONS_IN_UPGRADE);
}

#[post_upgrade]
fn post_upgrade() {
    // Everything is in stable memory already; only the heap tree is rebuilt.
    install_certification(REBUILD_INSTRUCTIONS_IN_UPGRADE);
}

const DIRECTORY_ONLY: &[&str] = &["commit_file", "delete_file", "set_keys", "set_read_only"];

/// Cheap early rejects; every check is repeated inside the methods.
#[inspect_message]
fn inspect_message() {
    let method = ic_cdk::api::call::method_name();
    let caller = ic_cdk::caller();
    if DIRECTORY_ONLY.contains(&method.as_str()) && caller != with_store(|s| s.config().directory) {
        ic_cdk::trap("only the directory may call this method");
    }
    if method == "put_chunk" && caller == Principal::anonymous() {
        ic_cdk::trap("anonymous callers cannot upload");
    }
    ic_cdk::api::call::accept_message();
}

#[update]
fn put_chunk(args: PutChunkArgs) -> PutChunkResult {
    with_store_mut(|s| s.put_chunk(ic_cdk::id(), ic_cdk::caller(), args, now_ns()))
}

#[query]
fn get_chunk(args: GetChunkArgs) -> GetChunkResult {
    with_store(|s| s.get_chunk(ic_cdk::caller(), &args)).map(serde_bytes::ByteBuf::from)
}

#[query]
fn list_chunks(file_id: FileId) -> ListChunksResult {
    with_store(|s| s.list_chunks(ic_cdk::caller(), &file_id))
}

#[update]
fn commit_file(args: CommitFileArgs) -> CommitFileResult {
    let key = args.file_id.key();
    let (ok, newly) = with_store_mut(|s| s.commit_file(ic_cdk::caller(), args, now_ns()))?;
    if newly {
        let key = key.expect("commit checked the key");
        let (view, hashes) = with_store(|s| (file_view(s, &key), s.chunk_hashes(&key)));
        let view = view.expect("just committed");
        with_certs_mut(|c| c.insert_file(&view, &hashes));
        publish_root_hash();
    }
    Ok(ok)
}

#[update]
fn delete_file(args: DeleteFileArgs) -> DeleteFileResult {
    let view = args.file_id.key().and_then(|k| with_store(|s| file_view(s, &k)));
    let (ok, was_committed) = with_store_mut(|s| s.delete_file(ic_cdk::caller(), &args.file_id))?;
    if let (true, Some(view)) = (was_committed, view) {
        with_certs_mut(|c| c.remove_file(&view));
        publish_root_hash();
    }
    Ok(ok)
}

#[query]
fn stat() -> BucketStat {
    let stable = ic_cdk::api::stable::stable_size() * 65536;
    let entries = with_certs(|c| c.entries());
    with_store(|s| s.stat(stable, entries))
}

#[update]
fn set_keys(keys: Vec<PublicKeyInfo>) -> UnitResult {
    with_store_mut(|s| s.set_keys(ic_cdk::caller(), keys))
}

#[update]
fn set_read_only(read_only: bool) -> UnitResult {
    with_store_mut(|s| s.set_read_only(ic_cdk::caller(), read_only))
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
