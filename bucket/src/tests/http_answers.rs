//! HTTP answers, checked the way a verifying gateway checks them: with
//! `ic-response-verification` against a certificate signed by a test root key.

use super::fixture::*;
use crate::http::answer::{Context, answer_query, answer_update};
use crate::http::certs::CertTree;
use crate::http::stream::{
    CALLBACK_METHOD, HttpStreamingResponse, StreamError, StreamingStrategy, StreamingToken, callback,
};
use crate::limits::{MAX_RANGES_PER_REQUEST, STREAM_EXPIRY_GRACE_SECS};
use crate::logic::CertChange;
use depot_api::BucketError;
use depot_api::bucket::{CommitFileArgs, EmptyFile, PutChunkArgs};
use depot_api::limits::MAX_FILES_PER_SUSPEND_CALL;
use depot_api::url::Disposition;
use depot_api::url::UrlError;
use ic_certification::hash_tree::{HashTree, fork, label, leaf};
use ic_http_certification::{HttpRequest, HttpResponse};
use ic_verify_bls_signature::PrivateKey;

const DER_PREFIX: &[u8; 37] = b"\x30\x81\x82\x30\x1d\x06\x0d\x2b\x06\x01\x04\x01\x82\xdc\x7c\x05\x03\x01\x02\x01\x06\x0c\x2b\x06\x01\x04\x01\x82\xdc\x7c\x05\x03\x02\x01\x03\x61\x00";
const NOW_SECS: u64 = NOW / 1_000_000_000;

fn root_key() -> PrivateKey {
    let mut b = [0u8; 32];
    b[31] = 7;
    PrivateKey::deserialize(&b).unwrap()
}

fn root_key_der() -> Vec<u8> {
    [DER_PREFIX.as_slice(), &root_key().public_key().serialize()].concat()
}

fn leb128(mut v: u64) -> Vec<u8> {
    let mut out = vec![];
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A certificate as a subnet would sign it, for `certified_data`.
fn certificate(certified_data: [u8; 32]) -> Vec<u8> {
    let tree: HashTree<Vec<u8>> = fork(
        label(
            "canister",
            label(bucket_id().as_slice().to_vec(), label("certified_data", leaf(certified_data.to_vec()))),
        ),
        label("time", leaf(leb128(NOW))),
    );
    let msg = [b"\x0Dic-state-root".as_slice(), &tree.digest()].concat();
    let sig = root_key().sign(&msg).serialize();
    #[derive(serde::Serialize)]
    struct Cert<'a> {
        tree: &'a HashTree<Vec<u8>>,
        #[serde(with = "serde_bytes")]
        signature: &'a [u8],
    }
    let mut ser = serde_cbor::Serializer::new(Vec::new());
    ser.self_describe().unwrap();
    serde::Serialize::serialize(&Cert { tree: &tree, signature: &sig }, &mut ser).unwrap();
    ser.into_inner()
}

struct Served {
    resp: HttpResponse<'static>,
    verified: Result<(), String>,
}

impl Served {
    fn header(&self, name: &str) -> Option<&str> {
        self.resp.headers().iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn status(&self) -> u16 {
        self.resp.status_code().as_u16()
    }
}

fn get(fx: &Fx, certs: &CertTree, method: &str, url: &str, headers: &[(&str, &str)]) -> Served {
    let headers: Vec<(String, String)> = headers.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let cert = certificate(certs.root_hash());
    let cx = Context { store: &fx.store, certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
    let resp = answer_query(&cx, method, url, &headers, Some(&cert));
    let request =
        HttpRequest::builder().with_method(method.parse().unwrap()).with_url(url).with_headers(headers).build();
    let verified = ic_response_verification::verify_request_response_pair(
        request,
        resp.clone(),
        bucket_id().as_slice(),
        NOW as u128,
        300_000_000_000,
        &root_key_der(),
        2,
    )
    .map(|info| assert_eq!(info.verification_version, 2))
    .map_err(|e| e.to_string());
    Served { resp, verified }
}

fn setup(size: usize) -> (Fx, CertTree, Upload) {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, size);
    up.upload(&mut fx);
    let certs = fx.certs();
    (fx, certs, up)
}

#[test]
fn single_chunk_file_is_one_verified_200() {
    let (fx, certs, up) = setup(100);
    let s = get(&fx, &certs, "GET", &up.url(NOW_SECS + 60, Disposition::Inline), &[]);
    assert_eq!(s.verified, Ok(()));
    assert_eq!(s.status(), 200);
    assert_eq!(s.resp.body(), up.data.as_slice());
    assert_eq!(s.header("content-type"), Some("video/mp4"));
    assert_eq!(s.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(s.header("access-control-allow-origin"), Some("*"));
    assert!(s.header("content-disposition").unwrap().starts_with("inline; filename=\"movie.mp4\""));
    assert_eq!(s.header("cache-control"), Some("private, no-cache"));
    let s = get(&fx, &certs, "GET", &up.url(NOW_SECS + 60, Disposition::Attachment), &[]);
    assert_eq!(s.verified, Ok(()));
    assert!(s.header("content-disposition").unwrap().starts_with("attachment;"));
}

#[test]
fn multi_chunk_file_is_served_as_verified_206_chunks() {
    let size = CHUNK as usize * 3 + 17;
    let (fx, certs, up) = setup(size);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let s = get(&fx, &certs, "GET", &url, &[]);
    assert_eq!(s.verified, Ok(()));
    assert_eq!(s.status(), 206);
    assert_eq!(s.header("content-range"), Some(format!("bytes 0-{}/{size}", CHUNK - 1).as_str()));
    // What a gateway does next: Range requests for the rest, each verified.
    let mut all = s.resp.body().to_vec();
    while all.len() < size {
        let r = format!("bytes={}-", all.len());
        let s = get(&fx, &certs, "GET", &url, &[("Range", &r)]);
        assert_eq!(s.verified, Ok(()), "{r}");
        assert_eq!(s.status(), 206);
        all.extend_from_slice(s.resp.body());
    }
    assert_eq!(all, up.data);
}

/// What a gateway does with an update reply: the body, then every
/// streaming callback until the token runs out.
fn follow(cx: &Context<impl ic_stable_structures::Memory>, u: &HttpStreamingResponse) -> Vec<u8> {
    let mut body = u.body.to_vec();
    let mut token = u.streaming_strategy.clone().map(|StreamingStrategy::Callback { token, callback }| {
        assert_eq!((callback.0.principal, callback.0.method.as_str()), (bucket_id(), CALLBACK_METHOD));
        token
    });
    while let Some(t) = token {
        let next = callback(cx, &t).expect("callback");
        body.extend_from_slice(&next.body);
        token = next.token;
    }
    body
}

fn header<'a>(u: &'a HttpStreamingResponse, name: &str) -> Option<&'a str> {
    u.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[test]
fn ranges_other_than_one_chunk_upgrade_and_are_exact_to_the_end() {
    let size = CHUNK as usize * 3 + 5;
    let (fx, certs, up) = setup(size);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
    let c = CHUNK as usize;
    for (range, start, end) in [
        ("bytes=100-200", 100usize, 200usize),
        ("bytes=1000-", 1000, size - 1),
        ("bytes=-3", size - 3, size - 1),
        ("bytes=-2000", size - 2000, size - 1),
        ("bytes=1024-1030", 1024, 1030),
        ("bytes=0-", 0, size - 1),
        ("bytes=5-2999", 5, 2999),
        ("bytes=1024-3071", c, 3 * c - 1),
        ("bytes=1-", 1, size - 1),
        // A client resuming at a chunk boundary (wget -c after a break
        // between chunks) gets every byte to the end, not one chunk.
        ("bytes=1024-", c, size - 1),
        ("bytes=2048-", 2 * c, size - 1),
    ] {
        let q = get(&fx, &certs, "GET", &url, &[("Range", range)]);
        assert_eq!(q.resp.upgrade(), Some(true), "{range}");
        let headers = vec![("Range".to_string(), range.to_string())];
        let u = answer_update(&cx, "GET", &url, &headers);
        assert_eq!(u.status_code, 206);
        assert!(u.body.len() <= c, "{range}: one chunk at most in the reply");
        assert_eq!(follow(&cx, &u), &up.data[start..=end], "{range}");
        assert_eq!(header(&u, "content-range"), Some(format!("bytes {start}-{end}/{size}").as_str()), "{range}");
        assert_eq!(header(&u, "content-length"), Some((end - start + 1).to_string().as_str()), "{range}");
        assert_eq!(header(&u, "cache-control"), Some("private, no-cache"));
    }
}

#[test]
fn one_whole_chunk_and_the_gateways_next_chunk_come_certified_from_the_query() {
    let size = CHUNK as usize * 3 + 5;
    let (fx, certs, up) = setup(size);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let c = CHUNK as usize;
    for (range, index) in [("bytes=1024-2047", 1usize), ("bytes=0-1023", 0), ("bytes=2048-", 2), ("bytes=3072-", 3)] {
        let s = get(&fx, &certs, "GET", &url, &[("Range", range)]);
        assert_eq!((s.status(), s.verified.clone()), (206, Ok(())), "{range}");
        let (a, b) = (index * c, ((index + 1) * c).min(size) - 1);
        assert_eq!(s.header("content-range"), Some(format!("bytes {a}-{b}/{size}").as_str()), "{range}");
        assert_eq!(s.resp.body(), &up.data[a..=b]);
        // An open range at a chunk boundary short of the last chunk also
        // asks for an upgrade: the gateway's own chunk fetch ignores it, a
        // client's request is upgraded and answered to the end (see the
        // test above). From the last chunk, the chunk is the whole rest.
        let short_of_the_end = range.ends_with('-') && b < size - 1;
        assert_eq!(s.resp.upgrade(), short_of_the_end.then_some(true), "{range}");
        // With the request id only the gateway's chunk fetches carry, no
        // upgrade.
        let s = get(&fx, &certs, "GET", &url, &[("Range", range), ("x-request-id", "r")]);
        assert_eq!((s.status(), s.verified.clone(), s.resp.upgrade()), (206, Ok(()), None), "{range}");
    }
    // The same open range from a client resuming with If-Range is exact.
    let etag = get(&fx, &certs, "HEAD", &url, &[]).header("etag").unwrap().to_string();
    let s = get(&fx, &certs, "GET", &url, &[("Range", "bytes=1024-"), ("If-Range", &etag)]);
    assert_eq!(s.resp.upgrade(), Some(true));
}

#[test]
fn media_elements_get_the_chunk_holding_the_byte_without_an_update() {
    let size = CHUNK as usize * 3 + 5;
    let (fx, certs, up) = setup(size);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let c = CHUNK as usize;
    for dest in ["video", "audio", "track", "Video"] {
        for (range, index) in [("bytes=1500-", 1usize), ("bytes=0-", 0), ("bytes=3075-", 3), ("bytes=2100-2200", 2)] {
            let s = get(&fx, &certs, "GET", &url, &[("Range", range), ("Sec-Fetch-Dest", dest)]);
            assert_eq!((s.status(), s.verified.clone()), (206, Ok(())), "{dest} {range}");
            let (a, b) = (index * c, ((index + 1) * c).min(size) - 1);
            assert_eq!(s.header("content-range"), Some(format!("bytes {a}-{b}/{size}").as_str()));
            assert_eq!(s.resp.body(), &up.data[a..=b]);
        }
    }
    // Other destinations are exact.
    for dest in ["document", "empty", "image"] {
        let s = get(&fx, &certs, "GET", &url, &[("Range", "bytes=1500-"), ("Sec-Fetch-Dest", dest)]);
        assert_eq!(s.resp.upgrade(), Some(true), "{dest}");
    }
}

#[test]
fn multi_range_is_multipart_or_the_whole_file() {
    let size = CHUNK as usize * 3 + 5;
    let (fx, certs, up) = setup(size);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
    let range = "bytes=0-9,1020-1030,-4";
    assert_eq!(get(&fx, &certs, "GET", &url, &[("Range", range)]).resp.upgrade(), Some(true));
    let u = answer_update(&cx, "GET", &url, &[("Range".into(), range.into())]);
    assert_eq!(u.status_code, 206);
    let ct = header(&u, "content-type").unwrap();
    let boundary = ct.strip_prefix("multipart/byteranges; boundary=").expect(ct);
    let mut want = Vec::new();
    for (a, b) in [(0usize, 9usize), (1020, 1030), (size - 4, size - 1)] {
        want.extend_from_slice(
            format!("\r\n--{boundary}\r\ncontent-type: video/mp4\r\ncontent-range: bytes {a}-{b}/{size}\r\n\r\n")
                .as_bytes(),
        );
        want.extend_from_slice(&up.data[a..=b]);
    }
    want.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(u.body.as_slice(), want.as_slice());
    assert_eq!(header(&u, "content-length"), Some(want.len().to_string().as_str()));
    assert!(u.streaming_strategy.is_none());

    // Past MAX_RANGES_PER_REQUEST ranges: the Range is ignored, the whole file sent.
    let many: Vec<String> = (0..=MAX_RANGES_PER_REQUEST).map(|i| format!("{}-{}", i * 10, i * 10 + 1)).collect();
    let range = format!("bytes={}", many.join(","));
    let u = answer_update(&cx, "GET", &url, &[("Range".into(), range)]);
    assert_eq!((u.status_code, header(&u, "content-range")), (200, None));
    assert_eq!(follow(&cx, &u), up.data);
}

#[test]
fn a_range_the_answer_ignores_gets_the_whole_file() {
    let size = CHUNK as usize * 2 + 5;
    let (fx, certs, up) = setup(size);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
    for headers in [vec![("Range", "bytes=1500-"), ("If-Range", "\"stale\"")], vec![("Range", "bytes=x")]] {
        assert_eq!(get(&fx, &certs, "GET", &url, &headers).resp.upgrade(), Some(true), "{headers:?}");
        let owned: Vec<(String, String)> = headers.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let u = answer_update(&cx, "GET", &url, &owned);
        assert_eq!(u.status_code, 200);
        assert_eq!(header(&u, "content-length"), Some(size.to_string().as_str()));
        assert_eq!(follow(&cx, &u), up.data);
    }
}

#[test]
fn streaming_tokens_are_checked_like_urls() {
    let size = CHUNK as usize * 3 + 5;
    let (mut fx, certs, up) = setup(size);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let token = {
        let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
        let u = answer_update(&cx, "GET", &url, &[("Range".into(), "bytes=10-".into())]);
        let Some(StreamingStrategy::Callback { token, .. }) = u.streaming_strategy else { panic!("streams") };
        assert_eq!((token.next, token.end), (CHUNK as u64, size as u64 - 1));
        token
    };
    let at = |fx: &Fx, now_secs: u64, bucket, t: &StreamingToken| {
        let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket, now_secs };
        callback(&cx, t)
    };
    assert!(at(&fx, NOW_SECS, bucket_id(), &token).is_ok());
    // Within the grace after the URL's expiry, and not past it.
    assert!(at(&fx, NOW_SECS + 60 + STREAM_EXPIRY_GRACE_SECS - 1, bucket_id(), &token).is_ok());
    assert_eq!(
        at(&fx, NOW_SECS + 60 + STREAM_EXPIRY_GRACE_SECS, bucket_id(), &token),
        Err(StreamError::Url(UrlError::Expired))
    );
    // Another bucket, a forged signature, a moved expiry, another file, a switched disposition.
    assert!(matches!(at(&fx, NOW_SECS, alice(), &token), Err(StreamError::Url(UrlError::Signature(_)))));
    let mut t = token.clone();
    t.sig[0] ^= 1;
    assert!(matches!(at(&fx, NOW_SECS, bucket_id(), &t), Err(StreamError::Url(UrlError::Signature(_)))));
    let mut t = token.clone();
    t.exp += 3600;
    assert!(matches!(at(&fx, NOW_SECS, bucket_id(), &t), Err(StreamError::Url(UrlError::Signature(_)))));
    let mut t = token.clone();
    t.file[0] ^= 1;
    assert!(matches!(at(&fx, NOW_SECS, bucket_id(), &t), Err(StreamError::Url(UrlError::Signature(_)))));
    let mut t = token.clone();
    t.attachment = true;
    assert!(matches!(at(&fx, NOW_SECS, bucket_id(), &t), Err(StreamError::Url(UrlError::Signature(_)))));
    let mut t = token.clone();
    t.file = serde_bytes::ByteBuf::from(vec![1, 2, 3]);
    assert_eq!(at(&fx, NOW_SECS, bucket_id(), &t), Err(StreamError::Malformed));
    // Ranges outside the file.
    for (next, end) in [(5, 4), (0, size as u64), (size as u64, size as u64), (u64::MAX, u64::MAX)] {
        let t = StreamingToken { next, end, ..token.clone() };
        assert_eq!(at(&fx, NOW_SECS, bucket_id(), &t), Err(StreamError::OutOfRange), "{next}..={end}");
    }
    // A deleted file streams no more.
    fx.delete_file(directory(), &up.file_id()).unwrap();
    assert_eq!(at(&fx, NOW_SECS, bucket_id(), &token), Err(StreamError::NotFound));
}

/// With its secret, the bucket seals the tokens it gives out, and a
/// callback checks the seal instead of the URL's signature: any change to
/// a sealed token, a token sealed for another bucket, a seal of the wrong
/// size, a retired key and an expiry past the grace are refused; a token
/// without a seal is still checked by its signature.
#[test]
fn sealed_streaming_tokens_are_checked_by_their_seal() {
    let size = CHUNK as usize * 3 + 5;
    let (mut fx, certs, up) = setup(size);
    crate::logic::admin::set_stream_key_impl(&mut fx.store, [5; 32]);
    crate::logic::admin::set_stream_key_impl(&mut fx.store, [6; 32]);
    assert_eq!(fx.store.config().stream_key, Some([5; 32]), "the first secret stays");
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let (token, whole) = {
        let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
        let u = answer_update(&cx, "GET", &url, &[("Range".into(), "bytes=10-".into())]);
        let whole = follow(&cx, &u);
        let Some(StreamingStrategy::Callback { token, .. }) = u.streaming_strategy else { panic!("streams") };
        (token, whole)
    };
    assert_eq!(whole, up.data[10..], "a sealed stream reads to the end");
    assert_eq!(token.mac.as_ref().map(|m| m.len()), Some(crate::http::token_mac::MAC_BYTES));
    let at = |fx: &Fx, now_secs: u64, bucket, t: &StreamingToken| {
        let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket, now_secs };
        callback(&cx, t)
    };
    let next = at(&fx, NOW_SECS, bucket_id(), &token).expect("sealed token");
    assert!(next.token.as_ref().is_some_and(|t| t.mac.is_some()), "continuations are sealed too");
    assert!(at(&fx, NOW_SECS + 60 + STREAM_EXPIRY_GRACE_SECS - 1, bucket_id(), &token).is_ok());
    assert_eq!(
        at(&fx, NOW_SECS + 60 + STREAM_EXPIRY_GRACE_SECS, bucket_id(), &token),
        Err(StreamError::Url(UrlError::Expired))
    );
    assert_eq!(at(&fx, NOW_SECS, alice(), &token), Err(StreamError::BadSeal), "another bucket");
    let changed: Vec<(&str, StreamingToken)> = vec![
        ("next", StreamingToken { next: token.next + 1, ..token.clone() }),
        ("end", StreamingToken { end: token.end - 1, ..token.clone() }),
        ("exp", StreamingToken { exp: token.exp + 3600, ..token.clone() }),
        ("kid", StreamingToken { kid: token.kid + 1, ..token.clone() }),
        ("attachment", StreamingToken { attachment: true, ..token.clone() }),
        ("sig", {
            let mut t = token.clone();
            t.sig[0] ^= 1;
            t
        }),
        ("file", {
            let mut t = token.clone();
            t.file[0] ^= 1;
            t
        }),
        ("mac", {
            let mut t = token.clone();
            t.mac.as_mut().unwrap()[31] ^= 1;
            t
        }),
        ("short mac", StreamingToken { mac: Some(serde_bytes::ByteBuf::from(vec![0; 16])), ..token.clone() }),
        ("empty mac", StreamingToken { mac: Some(serde_bytes::ByteBuf::new()), ..token.clone() }),
        ("1 MiB sig", StreamingToken { sig: serde_bytes::ByteBuf::from(vec![0; 1 << 20]), ..token.clone() }),
    ];
    for (what, t) in changed {
        assert_eq!(at(&fx, NOW_SECS, bucket_id(), &t), Err(StreamError::BadSeal), "{what}");
    }
    // Without a seal: the URL's signature decides, as before the secret.
    let unsealed = StreamingToken { mac: None, ..token.clone() };
    assert!(at(&fx, NOW_SECS, bucket_id(), &unsealed).is_ok());
    let mut forged = unsealed.clone();
    forged.sig[0] ^= 1;
    assert!(matches!(at(&fx, NOW_SECS, bucket_id(), &forged), Err(StreamError::Url(UrlError::Signature(_)))));
    // A key the directory retired ends sealed streams too.
    let other = depot_api::keys::PublicKeyInfo { kid: KID + 1, key: depot_api::keys::public_key(&[12; 32]).to_vec() };
    fx.set_keys(directory(), vec![other]).unwrap();
    assert!(matches!(at(&fx, NOW_SECS, bucket_id(), &token), Err(StreamError::Url(UrlError::Signature(_)))));
}

/// A URL carrying the bucket's MAC instead of the directory's signature is
/// served the same certified answers, streams to the end (unsealed tokens
/// are checked by the MAC too), and any change to it is refused.
#[test]
fn mac_urls_are_served_like_signed_ones() {
    let size = CHUNK as usize * 3 + 5;
    let (mut fx, certs, up) = setup(size);
    let url = up.mac_url(NOW_SECS + 60, Disposition::Inline);
    assert!(url.len() < up.url(NOW_SECS + 60, Disposition::Inline).len(), "43 characters instead of 86");
    let s = get(&fx, &certs, "GET", &url, &[("Range", "bytes=1024-2047")]);
    assert_eq!((s.status(), s.verified.clone()), (206, Ok(())));
    assert_eq!(s.resp.body(), &up.data[1024..2048]);
    {
        let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
        let u = answer_update(&cx, "GET", &url, &[("Range".into(), "bytes=10-".into())]);
        assert_eq!(follow(&cx, &u), up.data[10..]);
    }
    let expired = up.mac_url(NOW_SECS, Disposition::Inline);
    let altered = url.replace("sig=", "sig=A").replacen("sig=AA", "sig=BA", 1);
    let attachment = format!("{url}&dl=1");
    for bad in [expired, altered, attachment] {
        let s = get(&fx, &certs, "GET", &bad, &[]);
        assert_eq!((s.status(), s.verified.clone()), (403, Ok(())), "{bad}");
    }
    // A bucket holding only the public keys (after an earlier directory's
    // `set_keys`) refuses MAC URLs and still serves signed ones.
    let public = fx.store.config().keys.clone();
    fx.set_keys(directory(), public).unwrap();
    let certs = fx.certs();
    assert_eq!(get(&fx, &certs, "GET", &url, &[]).status(), 403);
    assert_eq!(
        get(&fx, &certs, "GET", &up.url(NOW_SECS + 60, Disposition::Inline), &[]).status(),
        206,
        "the first chunk"
    );
}

#[test]
fn conditional_head_and_errors_are_certified() {
    let (fx, certs, up) = setup(CHUNK as usize + 1);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let first = get(&fx, &certs, "GET", &url, &[]);
    let etag = first.header("etag").unwrap().to_string();

    let s = get(&fx, &certs, "GET", &url, &[("If-None-Match", &etag)]);
    assert_eq!((s.status(), s.verified.clone()), (304, Ok(())));
    assert!(s.resp.body().is_empty());

    let s = get(&fx, &certs, "HEAD", &url, &[]);
    assert_eq!((s.status(), s.verified.clone()), (200, Ok(())));
    assert_eq!(s.header("content-length"), Some((CHUNK as usize + 1).to_string().as_str()));
    assert!(s.resp.body().is_empty());

    let s = get(&fx, &certs, "GET", &url, &[("Range", "bytes=5000-")]);
    assert_eq!((s.status(), s.verified.clone()), (416, Ok(())));
    assert_eq!(s.header("content-range"), Some(format!("bytes */{}", CHUNK + 1).as_str()));

    let expired = up.url(NOW_SECS, Disposition::Inline);
    let s = get(&fx, &certs, "GET", &expired, &[]);
    assert_eq!((s.status(), s.verified.clone()), (403, Ok(())));
    assert_eq!(s.header("cache-control"), Some("no-store"));

    let altered = url.replace("sig=", "sig=A");
    assert_eq!(get(&fx, &certs, "GET", &altered, &[]).status(), 403);

    // Unknown file: 404 with a valid signature, 403 without one.
    let other = Upload::new(9, 10);
    let s = get(&fx, &certs, "GET", &other.url(NOW_SECS + 60, Disposition::Inline), &[]);
    assert_eq!((s.status(), s.verified.clone()), (404, Ok(())));
    let s = get(&fx, &certs, "GET", &format!("/f/{}?exp=1&kid=1&sig=AA", "ab".repeat(16)), &[]);
    assert_eq!((s.status(), s.verified.clone()), (403, Ok(())));
    let s = get(&fx, &certs, "GET", "/", &[]);
    assert_eq!((s.status(), s.verified.clone()), (404, Ok(())));

    let s = get(&fx, &certs, "POST", &url, &[]);
    assert_eq!((s.status(), s.verified.clone()), (405, Ok(())));
    let s = get(&fx, &certs, "OPTIONS", &url, &[]);
    assert_eq!((s.status(), s.verified.clone()), (204, Ok(())));
}

#[test]
fn active_content_is_sandboxed() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(1, 50);
    for i in 0..up.chunk_count() {
        up.put(&mut fx, i).unwrap();
    }
    let mut args = up.commit_args();
    args.mime = "text/html".into();
    args.name = "page.html".into();
    fx.commit_file(directory(), args, NOW).unwrap();
    let certs = fx.certs();
    let s = get(&fx, &certs, "GET", &up.url(NOW_SECS + 60, Disposition::Inline), &[]);
    assert_eq!(s.verified, Ok(()));
    assert!(s.header("content-security-policy").unwrap().starts_with("sandbox"));
}

/// A stored type that smuggles a second type after a comma is never served
/// as that type, and every response of every type is sandboxed and nosniff.
#[test]
fn smuggled_types_are_not_served_and_every_response_is_sandboxed() {
    for (mime, name, served) in [
        ("image/png;,text/html", "x.png", "image/png"),
        ("image/png, text/html", "x", "application/octet-stream"),
        ("video/mp4", "v.mp4", "video/mp4"),
        ("application/pdf", "d.pdf", "application/pdf"),
    ] {
        let mut fx = Fx::new(1 << 30);
        let up = Upload::new(1, 3 * CHUNK as usize);
        for i in 0..up.chunk_count() {
            up.put(&mut fx, i).unwrap();
        }
        let mut args = up.commit_args();
        args.mime = mime.into();
        args.name = name.into();
        fx.commit_file(directory(), args, NOW).unwrap();
        let certs = fx.certs();
        let url = up.url(NOW_SECS + 60, Disposition::Inline);
        for (method, headers) in [("GET", vec![]), ("HEAD", vec![]), ("GET", vec![("Range", "bytes=1024-")])] {
            let s = get(&fx, &certs, method, &url, &headers);
            assert_eq!(s.verified, Ok(()), "{mime} {method}");
            assert_eq!(s.header("content-type"), Some(served), "{mime} {method}");
            assert!(s.header("content-security-policy").unwrap().starts_with("sandbox"), "{mime} {method}");
            assert_eq!(s.header("x-content-type-options"), Some("nosniff"), "{mime} {method}");
        }
        let bad = get(&fx, &certs, "GET", &up.url(NOW_SECS - 1, Disposition::Inline), &[]);
        assert_eq!(bad.status(), 403);
        assert!(bad.header("content-security-policy").unwrap().starts_with("sandbox"));
    }
}

#[test]
fn tampered_bodies_fail_verification() {
    let (fx, certs, up) = setup(100);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let s = get(&fx, &certs, "GET", &url, &[]);
    let mut body = s.resp.body().to_vec();
    body[0] ^= 1;
    let tampered = HttpResponse::builder()
        .with_status_code(s.resp.status_code())
        .with_headers(s.resp.headers().to_vec())
        .with_body(body)
        .build();
    let request = HttpRequest::get(url.as_str()).build();
    let r = ic_response_verification::verify_request_response_pair(
        request,
        tampered,
        bucket_id().as_slice(),
        NOW as u128,
        300_000_000_000,
        &root_key_der(),
        2,
    );
    assert!(r.is_err());
}

#[test]
fn deleted_files_leave_the_tree_and_rebuild_matches_incremental() {
    let mut fx = Fx::new(1 << 30);
    let a = Upload::new(1, CHUNK as usize * 2);
    let b = Upload::new(2, 10);
    a.upload(&mut fx);
    b.upload(&mut fx);
    let mut incremental = fx.empty_tree();
    for up in [&a, &b] {
        fx.certify_file(&mut incremental, &up.file);
    }
    assert_eq!(incremental.root_hash(), fx.certs().root_hash());
    incremental.remove_file(&mut fx.store, &a.file);
    assert!(fx.store.response_set(&a.file).is_none(), "its response set is dropped");
    fx.delete_file(directory(), &a.file_id()).unwrap();
    assert_eq!(incremental.root_hash(), fx.certs().root_hash());
    assert_eq!(incremental.entries(), fx.certs().entries());
    let s = get(&fx, &incremental, "GET", &a.url(NOW_SECS + 60, Disposition::Inline), &[]);
    assert_eq!((s.status(), s.verified), (404, Ok(())), "a deleted file is gone, not forbidden");
}

/// Counts the budget checks of a step, stopping at the `limit`th.
fn budget(limit: usize) -> impl FnMut() -> bool {
    let mut n = 0;
    move || {
        n += 1;
        n >= limit
    }
}

#[test]
fn rebuild_in_steps_matches_a_full_rebuild_and_serves_by_update_meanwhile() {
    let mut fx = Fx::new(1 << 30);
    let ups: Vec<Upload> = (1..=5).map(|n| Upload::new(n, 10 + n as usize * 100)).collect();
    for up in &ups {
        up.upload(&mut fx);
    }
    // From nothing stored (the first certification of a new response
    // format): seven responses per step, so steps end inside files.
    let mut tree = fx.empty_tree();
    let mut cursor = Some(None);
    let mut steps = 0;
    while cursor.is_some() || tree.first_partial().is_some() {
        cursor = crate::lifecycle::certify_step(&mut fx.store, &mut tree, cursor, budget(7));
        steps += 1;
        if steps == 1 {
            // Mid-rebuild: a file not yet in the tree is answered by
            // update, and a bad link to it with the wildcard 403, which verifies.
            assert!(tree.first_partial().is_some(), "the first step ends inside a file");
            let pending = ups.iter().find(|u| !tree.is_certified(&u.file)).expect("some file still pending");
            let url = pending.url(NOW_SECS + 60, Disposition::Inline);
            let s = get(&fx, &tree, "GET", &url, &[]);
            assert_eq!(s.resp.upgrade(), Some(true));
            let cx = Context { store: &fx.store, certs: &tree, this_bucket: bucket_id(), now_secs: NOW_SECS };
            let u = answer_update(&cx, "GET", &url, &[]);
            assert_eq!((u.status_code, u.body.as_slice()), (200, pending.data.as_slice()));
            let bad = get(&fx, &tree, "GET", &pending.url(NOW_SECS, Disposition::Inline), &[]);
            assert_eq!((bad.status(), bad.verified), (403, Ok(())));
        }
    }
    assert!(steps > ups.len(), "{steps} steps: files are split across steps");
    let full = fx.certs();
    assert_eq!(tree.root_hash(), full.root_hash());
    assert_eq!(tree.entries(), full.entries());
    // After an upgrade the sets are read back, one budget check per file:
    // no response is hashed again.
    let mut again = fx.empty_tree();
    let mut cursor = Some(None);
    let mut steps = 0;
    while cursor.is_some() {
        cursor = crate::lifecycle::certify_step(&mut fx.store, &mut again, cursor, budget(2));
        steps += 1;
        assert!(again.first_partial().is_none());
    }
    assert_eq!(steps, ups.len() / 2 + 1, "two files per step, and a last step finds none left");
    assert_eq!((again.root_hash(), again.entries()), (full.root_hash(), full.entries()));
    // Inserting a file twice (commit during a rebuild) changes nothing.
    fx.certify_file(&mut tree, &ups[0].file);
    assert_eq!((tree.root_hash(), tree.entries()), (full.root_hash(), full.entries()));
}

/// A new response format (an upgrade whose code certifies other
/// responses) makes every set again; the same format keeps them.
#[test]
fn sets_of_another_response_generation_are_made_again() {
    use crate::http::certs::{next_response_format, response_fingerprint};
    let (mut fx, _, up) = setup(100);
    let fp = response_fingerprint();
    let first = next_response_format(None, fp);
    assert_eq!(next_response_format(Some(first), fp), first);
    let second = next_response_format(Some(first), [9; 32]);
    assert_eq!(second.generation, first.generation + 1);
    let set = fx.store.response_set(&up.file).unwrap();
    let mut tree = crate::http::certs::CertTree::new(set.generation + 1);
    let mut checks = 0;
    assert!(tree.insert_file_until(&mut fx.store, &up.file, || {
        checks += 1;
        false
    }));
    assert_eq!(checks, set.len() - 1, "every response is hashed again");
    assert_eq!(fx.store.response_set(&up.file).unwrap().generation, set.generation + 1);
}

/// A large file enters the tree over several messages: the commit's
/// message certifies what its budget allows, timer steps the rest. Until
/// then the file is served by update; a delete takes it out.
#[test]
fn a_file_certified_across_messages_is_served_by_update_until_whole() {
    let mut fx = Fx::new(1 << 30);
    let small = Upload::new(1, 10);
    small.upload(&mut fx);
    let mut tree = fx.certs();
    let before = (tree.root_hash(), tree.entries());
    let big = Upload::new(2, 40 * CHUNK as usize + 3);
    let url = big.url(NOW_SECS + 60, Disposition::Inline);
    big.upload(&mut fx);
    // The commit's message: ten responses' worth of budget.
    tree.apply(&mut fx.store, &CertChange::Added(big.file), budget(10));
    assert_eq!((tree.first_partial(), tree.is_certified(&big.file)), (Some(big.file), false));
    assert_eq!((tree.root_hash(), tree.entries()), before, "nothing of it is in the tree yet");
    let s = get(&fx, &tree, "GET", &url, &[("range", "bytes=0-")]);
    assert_eq!(s.resp.upgrade(), Some(true), "a partly certified file is served by update");
    let bad = get(&fx, &tree, "GET", &big.url(NOW_SECS, Disposition::Inline), &[]);
    assert_eq!((bad.status(), bad.verified), (403, Ok(())), "the wildcard 403, the same bytes");
    let pre =
        get(&fx, &tree, "OPTIONS", &url, &[("origin", "https://a.example"), ("access-control-request-method", "GET")]);
    assert_eq!((pre.status(), pre.verified), (204, Ok(())));
    let cx = Context { store: &fx.store, certs: &tree, this_bucket: bucket_id(), now_secs: NOW_SECS };
    let u = answer_update(&cx, "GET", &url, &[("range".into(), format!("bytes={}-{}", CHUNK * 7 + 1, CHUNK * 7 + 9))]);
    assert_eq!((u.status_code, u.body.as_slice()), (206, &big.data[CHUNK as usize * 7 + 1..=CHUNK as usize * 7 + 9]));
    // A delete while partial: another tree in the same state drops it.
    let mut deleted = fx.empty_tree();
    assert_eq!(
        crate::lifecycle::certify_step(&mut fx.store, &mut deleted, Some(None), budget(10)),
        Some(Some(big.file))
    );
    assert_eq!(deleted.first_partial(), Some(big.file));
    deleted.remove_file(&mut fx.store, &big.file);
    assert_eq!((deleted.root_hash(), deleted.entries(), deleted.first_partial()), (before.0, before.1, None));
    // Timer steps of ten finish it; it is then served verified from the query.
    let mut steps = 0;
    while tree.first_partial().is_some() {
        assert_eq!(crate::lifecycle::certify_step(&mut fx.store, &mut tree, None, budget(10)), None);
        steps += 1;
    }
    assert!(steps >= 4, "{steps}");
    assert!(tree.is_certified(&big.file));
    let full = fx.certs();
    assert_eq!((tree.root_hash(), tree.entries()), (full.root_hash(), full.entries()));
    let s = get(&fx, &tree, "GET", &url, &[]);
    assert_eq!((s.status(), s.verified, s.resp.body()), (206, Ok(()), &big.data[..CHUNK as usize]));
}

/// `http_request_update` is admitted only for what the query upgrades:
/// exact ranges of a validly signed URL, nothing a stranger can make up.
#[test]
fn only_upgraded_requests_may_become_updates() {
    let (fx, certs, up) = setup(250);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
    let h = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    let upgrades = |method: &str, url: &str, headers: &[(&str, &str)]| {
        crate::http::answer::query_upgrades(&cx, method, url, &h(headers))
    };
    assert!(upgrades("GET", &url, &[("Range", "bytes=10-20")]));
    assert!(!upgrades("GET", &url, &[]), "a plain GET is answered by the query");
    assert!(!upgrades("GET", &url, &[("Range", "bytes=0-")]), "an aligned range is answered by the query");
    let expired = up.url(NOW_SECS - 1, Disposition::Inline);
    assert!(!upgrades("GET", &expired, &[("Range", "bytes=10-20")]), "no signature, no update");
    assert!(!upgrades("POST", &url, &[("Range", "bytes=10-20")]));
    let unknown = format!("/f/{}?exp=1&kid=1&sig=AA", "ab".repeat(16));
    assert!(!upgrades("GET", &unknown, &[("Range", "bytes=10-20")]));
    assert!(!upgrades("GET", "/", &[]));
}

mod hostile_urls {
    use super::*;
    use proptest::prelude::*;

    /// Whatever a stranger puts in the URL and headers, the bucket answers
    /// and never traps, and a non-canonical spelling of a file's path is
    /// not that file.
    #[test]
    fn odd_urls_are_answered_not_trapped() {
        let (fx, certs, up) = setup(3000);
        let good = up.url(NOW_SECS + 60, Disposition::Inline);
        let upper = good.replacen(&up.file.to_hex(), &up.file.to_hex().to_uppercase(), 1);
        for url in ["", "?", "#", "f", "//", "/f/", "/f/+", "http://x/f/", "/%zz", &upper, &format!("{good}#frag")] {
            let s = get(&fx, &certs, "GET", url, &[]);
            assert!(s.status() >= 200, "{url:?}");
        }
        let s = get(&fx, &certs, "GET", &upper, &[]);
        assert_ne!(s.status(), 200, "an upper-case key is not the file");
    }

    /// Paths with no file get a certified 404 or 403, and it verifies: the
    /// witness proves every more specific path absent, whether the path
    /// falls before, between or after the files, inside a file's own
    /// path, or only after percent-decoding.
    #[test]
    fn fallbacks_verify_wherever_the_path_falls() {
        let mut fx = Fx::new(1 << 30);
        let ups: Vec<Upload> = (1..=9).map(|n| Upload::new(n, 100 * n as usize)).collect();
        for up in &ups {
            up.upload(&mut fx);
        }
        let certs = fx.certs();
        let hex = ups[3].file.to_hex();
        let absent = Upload::new(200, 1).file.to_hex();
        let paths = [
            "/".to_string(),
            "/f".into(),
            "/f/".into(),
            "/f/%3C%2A%3E".into(),
            "/f/%3C%24%3E".into(),
            format!("/f/{absent}"),
            format!("/f/{hex}/extra"),
            format!("/f/{hex}/"),
            format!("/f/{hex}/%3C*%3E"),
            format!("/f/{hex}x"),
            format!("/f/{}", &hex[..31]),
            "/f/00".into(),
            format!("/f/{}", "f".repeat(33)),
            "/f/zzzz".into(),
            "/x/y/z".into(),
            "/a//b/".into(),
            "/%00".into(),
        ];
        for path in &paths {
            let s = get(&fx, &certs, "GET", path, &[]);
            // 403 where the path is a file's (an unsigned link), 404 elsewhere.
            assert!(matches!(s.status(), 403 | 404), "{path}: {}", s.status());
            assert_eq!(s.verified, Ok(()), "{path}");
            let s = get(&fx, &certs, "OPTIONS", path, &[]);
            assert_eq!(s.verified, Ok(()), "OPTIONS {path}");
        }
        // Thousands of segments: still one answer that verifies.
        for name in [&hex, &absent] {
            let deep = format!("/f/{name}{}", "/x".repeat(2_000));
            let s = get(&fx, &certs, "GET", &deep, &[]);
            assert_eq!((s.status(), s.verified), (404, Ok(())), "{name}");
        }
        // With a signature query for an absent file: the certified 403.
        let s = get(&fx, &certs, "GET", &format!("/f/{absent}?exp=1&kid=1&sig=AA"), &[]);
        assert_eq!((s.status(), s.verified), (403, Ok(())));
    }

    /// 256 random requests against one bucket (set up once: the store and
    /// the tree are the expensive part).
    #[test]
    fn any_request_gets_an_answer() {
        let (fx, certs, up) = setup(3000);
        let cx = Context { store: &fx.store, certs: &certs, this_bucket: bucket_id(), now_secs: NOW_SECS };
        let signed_base = up.url(NOW_SECS + 60, Disposition::Inline);
        let strategy = ("\\PC{0,80}", "(GET|HEAD|OPTIONS|POST|\\PC{0,8})", "\\PC{0,40}", "\\PC{0,40}");
        let mut runner =
            proptest::test_runner::TestRunner::new(ProptestConfig { cases: 256, ..ProptestConfig::default() });
        runner
            .run(&strategy, |(url, method, range, inm)| {
                let headers = vec![("range".to_string(), range), ("if-none-match".to_string(), inm)];
                let signed = format!("{signed_base}{url}");
                for u in [url.as_str(), signed.as_str()] {
                    let r = crate::http::answer::answer_query(&cx, &method, u, &headers, Some(&[0u8; 8]));
                    prop_assert!(r.status_code().as_u16() >= 200);
                    let _ = crate::http::answer::answer_update(&cx, &method, u, &headers);
                }
                Ok(())
            })
            .unwrap();
    }
}

/// Without a valid signature, a file that exists and one that does not get
/// the same status, headers and body (both verified); only the
/// certificate's path differs, which v2 certification cannot avoid.
#[test]
fn existing_and_missing_files_answer_alike_without_a_signature() {
    let (fx, certs, up) = setup(3000);
    let missing = Upload::new(9, 10);
    type UrlOf = fn(&Upload) -> String;
    let cases: [(&str, UrlOf); 4] = [
        ("OPTIONS", |u: &Upload| u.url(NOW_SECS + 60, Disposition::Inline)),
        ("GET", |u: &Upload| u.url(NOW_SECS - 1, Disposition::Inline)),
        ("GET", |u: &Upload| format!("/f/{}", u.file.to_hex())),
        ("HEAD", |u: &Upload| format!("/f/{}?exp=1&kid=1&sig=AA", u.file.to_hex())),
    ];
    for (method, url) in cases {
        let a = get(&fx, &certs, method, &url(&up), &[]);
        let b = get(&fx, &certs, method, &url(&missing), &[]);
        assert_eq!((a.verified.clone(), b.verified.clone()), (Ok(()), Ok(())), "{method}");
        assert_eq!(a.status(), b.status(), "{method}");
        assert_eq!(a.resp.body(), b.resp.body(), "{method}");
        let headers = |s: &Served| {
            let mut h: Vec<_> =
                s.resp.headers().iter().filter(|(k, _)| !k.eq_ignore_ascii_case("ic-certificate")).cloned().collect();
            h.sort();
            h
        };
        assert_eq!(headers(&a), headers(&b), "{method}");
    }
}

#[test]
fn an_empty_file_is_a_certified_empty_200_with_head_etag_and_416() {
    let (mut fx, certs, up) = setup(0);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let s = get(&fx, &certs, "GET", &url, &[]);
    assert_eq!((s.status(), s.verified.clone()), (200, Ok(())));
    assert!(s.resp.body().is_empty());
    assert_eq!(s.header("content-length"), Some("0"));
    let etag = s.header("etag").unwrap().to_string();
    let s = get(&fx, &certs, "HEAD", &url, &[]);
    assert_eq!((s.status(), s.verified.clone(), s.header("content-length")), (200, Ok(()), Some("0")));
    let s = get(&fx, &certs, "GET", &url, &[("If-None-Match", &etag)]);
    assert_eq!((s.status(), s.verified.clone()), (304, Ok(())));
    // No byte range of an empty representation is satisfiable (RFC 9110 §14.1.1).
    let s = get(&fx, &certs, "GET", &url, &[("Range", "bytes=0-")]);
    assert_eq!((s.status(), s.verified.clone(), s.header("content-range")), (416, Ok(()), Some("bytes */0")));

    // The commit created the record no put_chunk made, once; a repeat is
    // idempotent and the counters count one file of 0 bytes.
    let again = fx.commit_file(directory(), up.commit_args(), NOW).unwrap();
    assert_eq!((again.0.size_bytes, again.1), (0, false));
    assert_eq!(again.0.sha256.map(|h| h.into_vec()), Some(<sha2::Sha256 as sha2::Digest>::digest(b"").to_vec()));
    let stat = crate::logic::read::stat_impl(&fx.store, 0, 0);
    assert_eq!((stat.files_count, stat.used_bytes), (1, 0));
}

#[test]
fn an_empty_file_needs_the_directorys_record_and_takes_no_chunk() {
    let mut fx = Fx::new(1 << 30);
    let up = Upload::new(2, 0);
    // Without `empty_file` the bucket knows no such file.
    let bare = CommitFileArgs { empty_file: None, ..up.commit_args() };
    assert_eq!(fx.commit_file(directory(), bare, NOW), Err(depot_api::BucketError::NotFound));
    // Only the directory commits.
    assert!(fx.commit_file(alice(), up.commit_args(), NOW).is_err());
    // A chunk size of 0 (ranges divide by it) is refused.
    let odd = CommitFileArgs { empty_file: Some(EmptyFile { chunk_size: 0, sha256: None }), ..up.commit_args() };
    assert!(matches!(fx.commit_file(directory(), odd, NOW), Err(depot_api::BucketError::InvalidRequest { .. })));
    // A declared hash that is not the empty string's is refused, and leaves nothing.
    let wrong = CommitFileArgs {
        empty_file: Some(EmptyFile { chunk_size: CHUNK, sha256: Some(serde_bytes::ByteBuf::from(vec![7; 32])) }),
        ..up.commit_args()
    };
    assert!(matches!(fx.commit_file(directory(), wrong, NOW), Err(depot_api::BucketError::HashMismatch { .. })));
    assert_eq!(crate::logic::read::stat_impl(&fx.store, 0, 0).files_count, 0);
    // A chunk for a 0-chunk file is refused with a typed error.
    let put = PutChunkArgs { token: up.token(), chunk_index: 0, bytes: vec![1] };
    assert!(fx.put_chunk(bucket_id(), up.owner, put, NOW).is_err());
    assert_eq!(crate::logic::read::stat_impl(&fx.store, 0, 0).files_count, 0);
    up.upload(&mut fx);
    assert_eq!(crate::logic::read::stat_impl(&fx.store, 0, 0).files_count, 1);
}

#[test]
fn a_suspended_file_answers_a_certified_402_and_comes_back_when_resumed() {
    use crate::http::responses::BODY_PAYMENT_REQUIRED;
    use crate::logic::admin::set_suspended_impl;
    use depot_api::bucket::{GetChunkArgs, SetSuspendedArgs};
    let (mut fx, mut incremental, up) = setup(CHUNK as usize * 2 + 5);
    let other = Upload::new(2, 10);
    other.upload(&mut fx);
    fx.certify_file(&mut incremental, &other.file);
    let url = up.url(NOW_SECS + 60, Disposition::Inline);
    let suspend = |on: bool| SetSuspendedArgs { files: vec![up.file_id(), Upload::new(7, 1).file_id()], suspended: on };

    // Only the directory may; an unknown file is skipped.
    assert!(matches!(
        set_suspended_impl(&mut fx.store, alice(), &suspend(true)),
        Err(BucketError::Unauthorised { .. })
    ));
    let too_many = SetSuspendedArgs { files: vec![up.file_id(); MAX_FILES_PER_SUSPEND_CALL + 1], suspended: true };
    assert!(matches!(
        set_suspended_impl(&mut fx.store, directory(), &too_many),
        Err(BucketError::InvalidRequest { .. })
    ));
    let (n, changes) = set_suspended_impl(&mut fx.store, directory(), &suspend(true)).unwrap();
    assert_eq!(n, 1);
    assert_eq!(set_suspended_impl(&mut fx.store, directory(), &suspend(true)).unwrap().0, 0, "already suspended");
    for c in &changes {
        incremental.apply(&mut fx.store, c, || false);
    }
    // The incremental tree equals a rebuild (an upgrade keeps it out).
    assert_eq!(incremental.root_hash(), fx.certs().root_hash());

    let s = get(&fx, &incremental, "GET", &url, &[]);
    assert_eq!((s.status(), s.verified.clone()), (402, Ok(())));
    assert_eq!(s.resp.body(), BODY_PAYMENT_REQUIRED);
    assert_eq!(s.header("cache-control"), Some("no-store"));
    let s = get(&fx, &incremental, "GET", &url, &[("Range", "bytes=0-10")]);
    assert_eq!((s.status(), s.verified.clone()), (402, Ok(())), "ranges too");
    // without a valid signature it is as absent as any file
    let s = get(&fx, &incremental, "GET", &url.replace("sig=", "sig=A"), &[]);
    assert_eq!((s.status(), s.verified.clone()), (403, Ok(())));
    assert_eq!(get(&fx, &incremental, "OPTIONS", &url, &[]).status(), 204);
    // the owner cannot read the chunks either; the other file is untouched
    let chunk = GetChunkArgs { file_id: up.file_id(), chunk_index: 0 };
    assert!(matches!(fx.get_chunk(alice(), &chunk), Err(BucketError::Unauthorised { .. })));
    let s = get(&fx, &incremental, "GET", &other.url(NOW_SECS + 60, Disposition::Inline), &[]);
    assert_eq!((s.status(), s.verified), (200, Ok(())));

    // Resumed: served and certified again, as before.
    let (n, changes) = set_suspended_impl(&mut fx.store, directory(), &suspend(false)).unwrap();
    assert_eq!(n, 1);
    for c in &changes {
        incremental.apply(&mut fx.store, c, || false);
    }
    assert_eq!(incremental.root_hash(), fx.certs().root_hash());
    let s = get(&fx, &incremental, "GET", &url, &[]);
    assert_eq!((s.status(), s.verified), (206, Ok(())));
    assert_eq!(fx.get_chunk(alice(), &chunk).unwrap(), up.chunk(0));
}

/// Every response of files of several shapes, and the fallbacks: the
/// prehashed certification is the one the library computes.
#[test]
fn certification_matches_the_librarys() {
    use crate::http::certs::shape_hash;
    use crate::http::responses::{
        CEL, CEL_STRING, FallbackResponse, ResponseShape, fallback_shape, file_responses, file_shape,
    };
    use ic_http_certification::HttpCertification;
    use sha2::Digest;
    let mut fx = Fx::new(1 << 30);
    let mut shapes: Vec<ResponseShape> = [
        FallbackResponse::NotFound,
        FallbackResponse::Forbidden,
        FallbackResponse::Preflight,
        FallbackResponse::PaymentRequired,
    ]
    .into_iter()
    .map(fallback_shape)
    .collect();
    for (seed, size) in [(1, 0), (2, 1), (3, 1000), (4, CHUNK as usize * 2 + 7)] {
        let up = Upload::new(seed, size);
        up.upload(&mut fx);
        let f = fx.store.file_view(&up.file).expect("committed");
        let hashes = fx.store.chunk_hashes(&up.file);
        shapes.extend(file_responses(&f).iter().map(|r| file_shape(&f, *r, |i| hashes[i as usize])));
    }
    for shape in &shapes {
        let response = shape.to_response(vec![], false);
        let library = HttpCertification::response_only(&CEL, &response, Some(shape.body_hash)).unwrap();
        let cel_hash: [u8; 32] = sha2::Sha256::digest(CEL_STRING.as_bytes()).into();
        let ours = HttpCertification::response_only_prehashed(cel_hash, shape_hash(shape));
        assert_eq!(ours, library, "{:?}", shape.status);
    }
}
