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
pub mod phases;
pub mod state;

use candid::Principal;
use depot_api::FileId;
use depot_api::bucket::*;
use depot_api::keys::{BucketKey, PublicKeyInfo};
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
    prepare_macs();
    install_certification(REBUILD_INSTRUCTIONS_IN_UPGRADE);
    lifecycle::stream_key::ensure(std::time::Duration::ZERO);
}

#[post_upgrade]
fn post_upgrade() {
    // Opens the store (everything is in stable memory already); only the
    // heap tree is rebuilt.
    with_store(|_| ());
    prepare_macs();
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
        let raw = ic_cdk::api::call::arg_data_raw();
        let args: PutChunkArgsRef = decode_arg(&raw)?;
        // The typed error travels in the reject text (`depot_api::reject`).
        with_store(|s| logic::put_chunk::inspect_put_chunk(s, ic_cdk::id(), caller, now_ns(), &args))
            .map_err(|e| depot_api::reject::bucket_reject(&e))
    } else if method == HTTP_REQUEST_UPDATE {
        if arg_bytes > limits::MAX_HTTP_UPDATE_ARG_BYTES {
            return Err(format!("argument larger than {} bytes", limits::MAX_HTTP_UPDATE_ARG_BYTES));
        }
        let req: HttpUpdateRequest = decode_arg(&ic_cdk::api::call::arg_data_raw())?;
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

/// One argument, decoded where it lies under `ARG_SKIPPING_QUOTA`.
fn decode_arg<'a, T: candid::CandidType + serde::Deserialize<'a>>(raw: &'a [u8]) -> Result<T, String> {
    let mut config = candid::de::DecoderConfig::new();
    config.set_skipping_quota(limits::ARG_SKIPPING_QUOTA);
    candid::utils::decode_one_with_config(raw, &config).map_err(|e| format!("malformed argument: {e}"))
}

/// Stores a chunk. A canister caller may attach cycles: a stored chunk
/// keeps them all (the bucket's fuel tank, spec §5.2); a refused one keeps
/// none, so they go back to the caller.
///
/// Exported by hand ([`put_chunk_export`]): `#[update]` decodes into owned
/// values, which copies the chunk (~1.05 M instructions per MiB, as much as
/// the rest of `put_chunk` beside the hashing); its bytes are borrowed from
/// the message instead. `candid_method` declares it for `bucket.did`.
#[candid::candid_method(update, rename = "put_chunk")]
#[cfg_attr(not(target_family = "wasm"), allow(dead_code, reason = "natively only its interface is read"))]
fn put_chunk(args: PutChunkArgsRef<'_>) -> PutChunkResult {
    let result =
        with_store_mut(|s| logic::put_chunk::put_chunk_impl(s, ic_cdk::id(), ic_cdk::caller(), now_ns(), args));
    metrics::count_put_chunk(&result);
    if result.is_ok() {
        ic_cdk::api::call::msg_cycles_accept128(ic_cdk::api::call::msg_cycles_available128());
    }
    result
}

/// The `put_chunk` method: decodes its argument where it was read and
/// replies what [`put_chunk`] returns. Traps on an argument that does not
/// decode, as `#[update]` does.
#[cfg(target_family = "wasm")]
#[unsafe(export_name = "canister_update put_chunk")]
fn put_chunk_export() {
    ic_cdk::setup();
    let raw = ic_cdk::api::call::arg_data_raw();
    let args: PutChunkArgsRef =
        decode_arg(&raw).unwrap_or_else(|e| ic_cdk::trap(&format!("failed to decode call arguments: {e}")));
    ic_cdk::api::call::reply((put_chunk(args),));
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

/// Public keys only, from a directory of an earlier release; drops the MAC
/// keys (directory only).
#[update]
fn set_keys(keys: Vec<PublicKeyInfo>) -> UnitResult {
    let result = with_store_mut(|s| logic::admin::set_keys_impl(s, ic_cdk::caller(), keys));
    prepare_macs();
    result
}

/// The directory's whole key ring: public keys and this bucket's MAC keys
/// (directory only).
#[update]
fn set_key_ring(ring: Vec<BucketKey>) -> UnitResult {
    let result = with_store_mut(|s| logic::admin::set_key_ring_impl(s, ic_cdk::caller(), ring));
    prepare_macs();
    result
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

/// Exported by hand ([`http_request_export`]): the argument is read and the
/// reply written by `http::wire` rather than by candid's codec (see there
/// why), and a large body goes out from its buffer (`http::reply`).
/// `candid_method` declares it for `bucket.did`.
#[candid::candid_method(query, rename = "http_request")]
#[cfg_attr(not(target_family = "wasm"), allow(dead_code, reason = "natively only its interface is read"))]
fn http_request(req: HttpRequest<'_>) -> HttpResponse<'static> {
    http_query_response(&req)
}

/// The `http_request` query. Traps on an argument that does not decode, as
/// `#[query]` does.
#[cfg(target_family = "wasm")]
#[unsafe(export_name = "canister_query http_request")]
fn http_request_export() {
    ic_cdk::setup();
    let raw = ic_cdk::api::call::arg_data_raw();
    http::reply::reply_http(&http_request(decode_http_request(&raw)));
}

/// `http_request`'s argument: by `http::wire` when it has the usual type
/// table, by candid otherwise.
#[cfg(target_family = "wasm")]
fn decode_http_request(raw: &[u8]) -> HttpRequest<'_> {
    let req = http::wire::decode_request(raw).unwrap_or_else(|| {
        decode_arg(raw).unwrap_or_else(|e| ic_cdk::trap(&format!("failed to decode call arguments: {e}")))
    });
    phases::mark("request decoded");
    req
}

fn http_query_response(req: &HttpRequest) -> HttpResponse<'static> {
    if req.url().split('?').next() == Some(metrics::METRICS_PATH) && req.method().as_str() == "GET" {
        return metrics_response();
    }
    let cert = ic_cdk::api::data_certificate();
    let now_secs = now_ns() / 1_000_000_000;
    phases::mark("certificate and clock read");
    with_store(|store| {
        with_certs(|certs| {
            let cx = Context { store, certs, this_bucket: ic_cdk::id(), now_secs };
            answer_query(&cx, req.method().as_str(), req.url(), req.headers(), cert.as_deref())
        })
    })
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

/// Benchmark only (feature `bench`): what `http_request` spends in each
/// phase of answering `req` (`phases::mark`), its reply encoded but not
/// sent. `depot-bench` sets the phases beside the total of the real call.
#[cfg(all(feature = "bench", target_family = "wasm"))]
#[unsafe(export_name = "canister_query bench_http_phases")]
fn bench_http_phases() {
    phases::start();
    ic_cdk::setup();
    let raw = ic_cdk::api::call::arg_data_raw();
    let req = decode_http_request(&raw);
    let resp = http_query_response(&req);
    std::hint::black_box(http::wire::encode_response(&resp));
    phases::mark("reply encoded");
    ic_cdk::api::call::reply((phases::take(),));
}

/// Benchmark only (feature `bench`): the floor a certified 206 is measured
/// against, a bare read of chunk `index` of `file` from stable memory,
/// replied as a `blob` appended in place (as `http_request` replies large
/// bodies). Traps for a file or chunk it does not hold.
#[cfg(feature = "bench")]
#[query(manual_reply = true)]
fn bench_read(file: serde_bytes::ByteBuf, index: u32) -> ManualReply<serde_bytes::ByteBuf> {
    let key = depot_api::FileKey(file.as_slice().try_into().unwrap_or_else(|_| ic_cdk::trap("a 16-byte key")));
    let bytes = with_store(|s| {
        let r = s.chunk_ref(&key, index).unwrap_or_else(|| ic_cdk::trap("no such chunk"));
        s.read_chunk_part(&r, 0, r.len as u64)
    });
    http::reply::reply_with_blob(serde_bytes::ByteBuf::from, &bytes);
    ManualReply::empty()
}

ic_cdk::export_candid!();

#[cfg(test)]
mod tests;
