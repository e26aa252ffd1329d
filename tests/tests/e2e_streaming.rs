//! Streaming callbacks on devnet: once a bucket has fetched its secret
//! (`raw_rand`, one round after install), the tokens it gives out are
//! sealed and checked by their seal; the secret survives an upgrade, so a
//! download that spans one goes on; a bucket without its secret yet gives
//! out unsealed tokens, checked by the URL's signature. Each stream is read
//! to its end and compared byte for byte.

use candid::{Decode, Encode, Principal};
use depot_api::DirectoryError;
use depot_api::directory::{DirectoryInit, DownloadUrl, GetDownloadUrlReq};
use depot_api::methods::directory as dm;
use depot_devnet::{Devnet, DevnetConfig, InstallMode};
use depot_tests::deploy::{DeployOpts, Deployment, call, deploy};
use depot_tests::drive::{content, upload};
use depot_tests::wasm::canister_wasm;
use ic_http_certification::HttpRequest;
use ic_utils::interfaces::http_request::{
    HttpRequestStreamingCallbackAny, HttpResponse, StreamingCallbackHttpResponse, StreamingStrategy, Token,
};

const CHUNK: usize = 1 << 20;

type UpdateReply = HttpResponse<Token, HttpRequestStreamingCallbackAny>;

/// The one field of the bucket's opaque token this test reads.
#[derive(candid::CandidType, serde::Deserialize)]
struct TokenSeal {
    mac: Option<serde_bytes::ByteBuf>,
}

/// The file's bytes from `start` on, as a gateway reads them: the update's
/// body, then the callbacks; and whether the first token carried a seal.
/// `between` runs after the first callback.
fn read_from(
    dev: &mut Devnet,
    bucket: Principal,
    path: &str,
    start: usize,
    between: impl FnOnce(&mut Devnet),
) -> (Vec<u8>, bool) {
    let range = vec![("Range".to_string(), format!("bytes={start}-"))];
    let req = HttpRequest::get(path.to_string()).with_headers(range).build_update();
    let out = dev.update(Principal::anonymous(), bucket, "http_request_update", &Encode!(&req).unwrap()).unwrap();
    let reply = Decode!(&out.result.unwrap(), UpdateReply).unwrap();
    assert_eq!(reply.status_code, 206);
    let mut body = reply.body.clone();
    let mut token = reply.streaming_strategy.map(|StreamingStrategy::Callback(c)| c.token);
    let sealed = token.as_ref().is_some_and(|t| {
        let bytes = candid::IDLArgs::new(std::slice::from_ref(&t.0)).to_bytes().unwrap();
        Decode!(&bytes, TokenSeal).unwrap().mac.is_some_and(|m| m.len() == 32)
    });
    let mut between = Some(between);
    while let Some(t) = token {
        let arg = candid::IDLArgs::new(&[t.0]).to_bytes().unwrap();
        let out = dev.query(Principal::anonymous(), bucket, "http_request_streaming_callback", &arg).unwrap();
        let next = Decode!(&out.result.expect("callback answered"), StreamingCallbackHttpResponse<Token>).unwrap();
        body.extend_from_slice(&next.body);
        token = next.token;
        if let Some(f) = between.take() {
            f(dev);
        }
    }
    (body, sealed)
}

fn setup() -> (Devnet, Deployment, Principal) {
    let mut dev = Devnet::new(DevnetConfig { debug_print: false, ..Default::default() });
    let init = DirectoryInit { chunk_size: Some(CHUNK as u32), ..Default::default() };
    let d = deploy(
        &mut dev,
        DeployOpts { buckets: 1, domain_template: "{bucket}.localhost:1".into(), directory_init: init },
    )
    .unwrap();
    let alice = Principal::self_authenticating(b"streaming alice");
    (dev, d, alice)
}

fn signed_path(dev: &mut Devnet, d: &Deployment, alice: Principal, data: &[u8]) -> String {
    let file_id = upload(dev, d, alice, data).unwrap();
    let req = GetDownloadUrlReq { file_id, ttl_secs: None, disposition: None };
    let url: Result<DownloadUrl, DirectoryError> = call(dev, alice, d.directory, dm::GET_DOWNLOAD_URL, (req,)).unwrap();
    let url = url.unwrap().url;
    url[url.find("/f/").unwrap()..].to_string()
}

#[test]
fn sealed_tokens_stream_to_the_end_across_an_upgrade() {
    let (mut dev, d, alice) = setup();
    dev.tick();
    let data = content(3, 4 * CHUNK + 99);
    let path = signed_path(&mut dev, &d, alice, &data);
    let bucket = d.buckets[0];
    let (admin, wasm) = (d.admin, canister_wasm("bucket").unwrap());
    let upgrade = |dev: &mut Devnet| {
        dev.install_code(admin, bucket, &wasm, &Encode!().unwrap(), InstallMode::Upgrade).unwrap();
    };
    let (body, sealed) = read_from(&mut dev, bucket, &path, 10, upgrade);
    assert!(sealed, "a bucket with its secret seals its tokens");
    assert!(body == data[10..], "the stream reads to the end across the upgrade");
}

#[test]
fn without_its_secret_a_bucket_streams_with_unsealed_tokens() {
    let (mut dev, d, alice) = setup();
    // No round has run since the install: the secret is not there yet.
    let data = content(4, 3 * CHUNK + 5);
    let path = signed_path(&mut dev, &d, alice, &data);
    let (body, sealed) = read_from(&mut dev, d.buckets[0], &path, CHUNK - 1, |_| ());
    assert!(!sealed);
    assert!(body == data[CHUNK - 1..]);
}
