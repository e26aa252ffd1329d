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
pub mod metrics;
pub mod model;
pub mod state;

use candid::Principal;
use depot_api::FileId;
use depot_api::bucket::*;
use depot_api::keys::PublicKeyInfo;
use depot_api::methods::{self, is_one_of};
use http::answer::{Context, answer_query, answer_update};
use http::stream::{HttpStreamingResponse, StreamingCallbackHttpResponse, StreamingToken};
use ic_cdk::api::call::ManualReply;
use ic_cdk::{init, inspect_message, post_upgrade, query, update};
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest};
use lifecycle::{REBUILD_INSTRUCTIONS_IN_UPGRADE, install_certification, publish_root_hash, schedule_certification};
use logic::CertChange;
use state::*;

fn now_ns() -> u64 {
    ic_cdk::api::time()
}

/// Brings the certification tree and the certified data up to date, as
/// far as this message's instructions allow; a timer certifies the rest of
/// a large file (served by update until then).
fn certify(change: &CertChange) {
    if *change != CertChange::Unchanged {
        let out_of_budget = || ic_cdk::api::instruction_counter() > limits::CERTIFY_INSTRUCTIONS_PER_MESSAGE;
        with_store_mut(|s| with_certs_mut(|c| c.apply(s, change, out_of_budget)));
        publish_root_hash();
        schedule_certification();
    }
}

#[init]
fn init(args: BucketInit) {
    with_store_mut(|s| logic::admin::init_impl(s, args));
    install_certification(REBUILD_INSTRUCTIONS_IN_UPGRADE);
    lifecycle::stream_key::ensure(std::time::Duration::ZERO);
}

#[post_upgrade]
fn post_upgrade() {
    // Opens the store (everything is in stable memory already); only the
    // heap tree is rebuilt.
    with_store(|_| ());
    install_certification(REBUILD_INSTRUCTIONS_IN_UPGRADE);
    lifecycle::stream_key::ensure(std::time::Duration::ZERO);
}

/// The only update an HTTP gateway sends, after the query answered `upgrade`.
const HTTP_REQUEST_UPDATE: &str = "http_request_update";

/// Admission of ingress messages, before the bucket pays for them. Only
/// two methods are ever called by ingress: `put_chunk`, checked as far as
/// it can be without hashing (token signature and expiry, caller, index,
/// size, not already stored), and `http_request_update`, accepted only for
/// a request the query answered with `upgrade`. The directory's methods
/// come from the directory canister, never as ingress, and queries called
/// as updates are refused. Every check is repeated inside the methods.
#[inspect_message]
fn inspect_message() {
    let method = ic_cdk::api::call::method_name();
    match admit_ingress(&method, ic_cdk::caller(), ic_cdk::api::call::arg_data_raw_size()) {
        Ok(()) => ic_cdk::api::call::accept_message(),
        Err(reason) => ic_cdk::trap(&format!("{method}: {reason}")),
    }
}

fn admit_ingress(method: &str, caller: Principal, arg_bytes: usize) -> Result<(), String> {
    if method == methods::bucket::PUT_CHUNK.name {
        if caller == Principal::anonymous() {
            return Err("anonymous callers cannot upload".into());
        }
        if arg_bytes > limits::MAX_PUT_CHUNK_ARG_BYTES {
            return Err(format!("argument larger than {} bytes", limits::MAX_PUT_CHUNK_ARG_BYTES));
        }
        let args: PutChunkArgs = decode_ingress_arg()?;
        // The typed error travels in the reject text (`depot_api::reject`).
        with_store(|s| logic::put_chunk::inspect_put_chunk(s, ic_cdk::id(), caller, now_ns(), &args))
            .map_err(|e| depot_api::reject::bucket_reject(&e))
    } else if method == HTTP_REQUEST_UPDATE {
        if arg_bytes > limits::MAX_HTTP_UPDATE_ARG_BYTES {
            return Err(format!("argument larger than {} bytes", limits::MAX_HTTP_UPDATE_ARG_BYTES));
        }
        let req: HttpUpdateRequest<'static> = decode_ingress_arg()?;
        let now_secs = now_ns() / 1_000_000_000;
        let upgrades = with_store(|store| {
            with_certs(|certs| {
                let cx = Context { store, certs, this_bucket: ic_cdk::id(), now_secs };
                http::answer::query_upgrades(&cx, req.method().as_str(), req.url(), req.headers())
            })
        });
        if upgrades { Ok(()) } else { Err("the query answers this request itself: no upgrade".into()) }
    } else if is_one_of(method, &methods::bucket::DIRECTORY_ONLY) {
        Err("only the directory calls this, between canisters".into())
    } else {
        Err("not callable by ingress".into())
    }
}

fn decode_ingress_arg<T: candid::CandidType + serde::de::DeserializeOwned>() -> Result<T, String> {
    let mut config = candid::de::DecoderConfig::new();
    config.set_skipping_quota(limits::INGRESS_SKIPPING_QUOTA);
    candid::utils::decode_one_with_config(&ic_cdk::api::call::arg_data_raw(), &config)
        .map_err(|e| format!("malformed argument: {e}"))
}

/// Stores a chunk. A canister caller may attach cycles: a stored chunk
/// keeps them all (the bucket's fuel tank, spec §5.2); a refused one keeps
/// none, so they go back to the caller.
#[update]
fn put_chunk(args: PutChunkArgs) -> PutChunkResult {
    let result =
        with_store_mut(|s| logic::put_chunk::put_chunk_impl(s, ic_cdk::id(), ic_cdk::caller(), now_ns(), args));
    metrics::count_put_chunk(&result);
    if result.is_ok() {
        ic_cdk::api::call::msg_cycles_accept128(ic_cdk::api::call::msg_cycles_available128());
    }
    result
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

/// Files held back for non-payment, or served again (directory only).
#[update]
fn set_suspended(args: SetSuspendedArgs) -> SetSuspendedResult {
    let (changed, changes) = with_store_mut(|s| logic::admin::set_suspended_impl(s, ic_cdk::caller(), &args))?;
    for change in &changes {
        certify(change);
    }
    Ok(changed)
}

/// Replied by hand (`http::reply`): a large body goes out from its buffer
/// rather than through a copy in the Candid encoder.
#[query(manual_reply = true)]
fn http_request(req: HttpRequest<'static>) -> ManualReply<HttpResponse<'static>> {
    if req.url().split('?').next() == Some(metrics::METRICS_PATH) && req.method().as_str() == "GET" {
        return ManualReply::one(metrics_response());
    }
    let cert = ic_cdk::api::data_certificate();
    let now_secs = now_ns() / 1_000_000_000;
    let resp = with_store(|store| {
        with_certs(|certs| {
            let cx = Context { store, certs, this_bucket: ic_cdk::id(), now_secs };
            answer_query(&cx, req.method().as_str(), req.url(), req.headers(), cert.as_deref())
        })
    });
    http::reply::reply_http(&resp);
    ManualReply::empty()
}

#[update(manual_reply = true)]
fn http_request_update(req: HttpUpdateRequest<'static>) -> ManualReply<HttpStreamingResponse> {
    let now_secs = now_ns() / 1_000_000_000;
    let resp = with_store(|store| {
        with_certs(|certs| {
            let cx = Context { store, certs, this_bucket: ic_cdk::id(), now_secs };
            answer_update(&cx, req.method().as_str(), req.url(), req.headers())
        })
    });
    metrics::count_http_update(resp.status_code);
    http::reply::reply_owned(resp, |r| &mut r.body);
    ManualReply::empty()
}

/// `/metrics`, uncertified (read it through the raw domain).
fn metrics_response() -> HttpResponse<'static> {
    let sys = metrics::System {
        now_millis: (now_ns() / 1_000_000) as i64,
        cycles: ic_cdk::api::canister_balance128(),
        heap_bytes: heap_bytes(),
    };
    let (status, body) = match metrics::encode(&stat(), &sys) {
        Ok(body) => (200, body),
        Err(e) => (500, format!("metrics: {e}\n").into_bytes()),
    };
    HttpResponse::builder()
        .with_status_code(ic_http_certification::StatusCode::from_u16(status).expect("valid status"))
        .with_headers(vec![
            ("content-type".into(), "text/plain; version=0.0.4".into()),
            ("cache-control".into(), "no-store".into()),
        ])
        .with_body(body)
        .build()
}

fn heap_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// The rest of an exact range, one chunk per call, for a token that
/// `http_request_update` or an earlier callback gave out. A refused token
/// traps: the gateway then ends the body short of its `Content-Length`.
#[query(manual_reply = true)]
fn http_request_streaming_callback(token: StreamingToken) -> ManualReply<StreamingCallbackHttpResponse> {
    let now_secs = now_ns() / 1_000_000_000;
    let result = with_store(|store| {
        with_certs(|certs| {
            let cx = Context { store, certs, this_bucket: ic_cdk::id(), now_secs };
            http::stream::callback(&cx, &token)
        })
    });
    let resp = result.unwrap_or_else(|e| ic_cdk::trap(&e.to_string()));
    http::reply::reply_owned(resp, |r| &mut r.body);
    ManualReply::empty()
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
