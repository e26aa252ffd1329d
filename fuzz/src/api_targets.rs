//! Targets in `depot-api`: signed URLs and file keys, upload tokens, and the
//! Candid arguments of every method of both canisters.

use crate::candid_gen::{self, ArgTypes};
use crate::engine::{ByteTarget, Rng, Target};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use candid::de::{DecoderConfig, IDLDeserialize};
use candid::utils::{ArgumentDecoder, ArgumentEncoder};
use candid::{CandidType, Principal};
use depot_api::FileKey;
use depot_api::ids::FileId;
use depot_api::keys::{self, PublicKeyInfo};
use depot_api::methods::{self, Method};
use depot_api::mime_type::{canonical_mime, essence};
use depot_api::reject::{bucket_error_in, bucket_reject, directory_error_in, directory_reject};
use depot_api::token::UploadToken;
use depot_api::url::{Disposition, SignedUrl, UrlGrant, file_key_of_path};
use depot_api::{BucketError, DirectoryError};
use serde::de::DeserializeOwned;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The directory key every fuzz fixture is signed with.
pub const SEED: [u8; 32] = [3; 32];
pub const KID: u32 = 7;

pub fn bucket_id() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
}

/// The key set a bucket holds: our key, plus a malformed one and an
/// unrelated valid one under other kids (both must fail cleanly).
pub fn keyset() -> Vec<PublicKeyInfo> {
    vec![
        PublicKeyInfo { kid: KID, key: keys::public_key(&SEED).to_vec() },
        PublicKeyInfo { kid: 8, key: vec![1, 2, 3] },
        PublicKeyInfo { kid: 9, key: vec![0xff; 32] },
        PublicKeyInfo { kid: 10, key: keys::public_key(&[4; 32]).to_vec() },
    ]
}

/// The grants signed for the fixtures: a URL that verifies must be one of
/// these (anything else is a forgery).
pub fn grants() -> &'static [UrlGrant] {
    static G: OnceLock<Vec<UrlGrant>> = OnceLock::new();
    G.get_or_init(|| {
        let mut v = vec![];
        for (file, exp) in [(FileKey([0x5a; 16]), 2_000u64), (FileKey([0x01; 16]), u64::MAX), (FileKey([0; 16]), 1)] {
            for disposition in [Disposition::Inline, Disposition::Attachment] {
                v.push(UrlGrant { bucket: bucket_id(), file, expires_at_secs: exp, disposition });
            }
        }
        v
    })
}

pub fn signed_paths() -> &'static [String] {
    static P: OnceLock<Vec<String>> = OnceLock::new();
    P.get_or_init(|| grants().iter().map(|g| g.sign_path(KID, &SEED)).collect())
}

const URL_DICT: [&str; 34] = [
    "/f/",
    "?",
    "&",
    "=",
    "#",
    "exp=",
    "kid=",
    "sig=",
    "dl=",
    "dl=1",
    "dl=0",
    "exp=2000",
    "kid=7",
    "kid=4294967296",
    "exp=18446744073709551616",
    "exp=-1",
    "exp=+1",
    "%2F",
    "%00",
    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
    "5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A",
    "+5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
    "é",
    "\u{0}",
    "==",
    "AA",
    "A",
    "-_",
    "+/",
    "//",
    "/../",
    "v=3",
    "&&",
    "?&",
];

fn dict(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn hex_key(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => "5a".repeat(16),
        1 => "5A".repeat(16),
        2 => FileKey(rng.bytes(16).try_into().unwrap()).to_hex(),
        3 => FileKey(rng.bytes(16).try_into().unwrap()).to_hex().to_uppercase(),
        4 => format!("+{}", "a".repeat(31)),
        5 => "0".repeat(rng.below(40)),
        6 => crate::engine::hex(&rng.bytes_below(20)),
        _ => {
            let n = rng.below(40);
            (0..n).map(|_| *rng.pick(&['0', 'a', 'f', 'g', 'F', '-', '+', ' ', 'é', '/'])).collect()
        }
    }
}

/// A download URL: signed, tweaked or made up, parameters in any order.
pub fn gen_url(rng: &mut Rng) -> Vec<u8> {
    if rng.one_in(3) {
        return rng.pick(signed_paths()).clone().into_bytes();
    }
    let prefix = *rng.pick(&["/f/", "/f/", "/f/", "", "/F/", "//f/", "/f", "f/", "/x/", "/f//"]);
    let mut s = format!("{prefix}{}", hex_key(rng));
    if rng.one_in(8) {
        s.push_str(&format!("/{}", hex_key(rng)));
    }
    if !rng.one_in(6) {
        s.push('?');
    }
    let n = rng.below(6);
    let mut params = vec![];
    for _ in 0..n {
        let p = match rng.below(6) {
            0 => format!("exp={}", rng.interesting_u64()),
            1 => format!("kid={}", rng.interesting_u64() % (1 << 33)),
            2 => {
                let len = *rng.pick(&[64usize, 64, 63, 65, 0, 1, 32]);
                format!("sig={}", URL_SAFE_NO_PAD.encode(rng.bytes(len)))
            }
            3 => format!("dl={}", rng.pick(&["0", "1", "2", "", "true"])),
            4 => rng.pick(&["v=3", "x", "=", "&", "exp", "sig=*", "sig=AA==", "kid=-1"]).to_string(),
            _ => {
                let path = rng.pick(signed_paths());
                let q = path.split_once('?').map(|(_, q)| q).unwrap_or("");
                let parts: Vec<&str> = q.split('&').collect();
                rng.pick(&parts).to_string()
            }
        };
        params.push(p);
    }
    s.push_str(&params.join("&"));
    if rng.one_in(8) {
        s.push_str(rng.pick::<&str>(&["#frag", "#", "#?exp=1", "?a=b"]));
    }
    s.into_bytes()
}

fn url_run(input: &[u8]) {
    let s = String::from_utf8_lossy(input);
    let key = file_key_of_path(&s);
    if let Some(k) = key {
        let path = s.split(['?', '#']).next().unwrap_or("");
        assert_eq!(path, format!("/f/{}", k.to_hex()), "a file key has exactly one path spelling");
    }
    if let Ok(u) = SignedUrl::parse(&s) {
        assert_eq!(key, Some(u.file), "parse and file_key_of_path agree on the file");
        let keys = keyset();
        for (bucket, now) in
            [(bucket_id(), 0), (bucket_id(), 1_999), (bucket_id(), u64::MAX), (Principal::anonymous(), 0)]
        {
            if u.verify(&keys, bucket, now).is_ok() {
                assert!(now < u.expires_at_secs, "an expired URL verified");
                let g =
                    UrlGrant { bucket, file: u.file, expires_at_secs: u.expires_at_secs, disposition: u.disposition };
                assert!(grants().contains(&g), "a URL verified that was never signed: {u:?} for {bucket}");
                assert_eq!(u.kid, KID);
            }
        }
    }
}

pub fn url_target() -> ByteTarget {
    ByteTarget {
        name: "url_signed".into(),
        about: "SignedUrl::parse + verify, file_key_of_path: no panic, one path spelling per key, no forged or expired URL verifies",
        run: Box::new(url_run),
        generate: Box::new(gen_url),
        dictionary: dict(&URL_DICT),
        max_len: 1024,
        seeds: signed_paths().iter().map(|p| p.clone().into_bytes()).collect(),
    }
}

fn hex_run(input: &[u8]) {
    let s = String::from_utf8_lossy(input);
    let got = FileKey::from_hex(&s);
    // Reference: exactly 32 lower-case hex digits.
    let want = (s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then(|| {
        let mut k = [0u8; 16];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        FileKey(k)
    });
    assert_eq!(got, want, "from_hex differs from the reference");
    if let Some(k) = got {
        assert_eq!(k.to_hex(), s, "hex round trip");
    }
}

pub fn file_key_hex_target() -> ByteTarget {
    ByteTarget {
        name: "file_key_hex".into(),
        about: "FileKey::from_hex equals a reference (32 lower-case hex digits only) and round-trips",
        run: Box::new(hex_run),
        generate: Box::new(|rng| hex_key(rng).into_bytes()),
        dictionary: dict(&["a", "f", "0", "9", "A", "F", "g", "+", "-", " ", "é", "00", "ff"]),
        max_len: 80,
        seeds: vec![],
    }
}

// ---- MIME types (start_upload's `mime`, served as Content-Type) ----

fn mime_run(input: &[u8]) {
    let s = String::from_utf8_lossy(input);
    if let Ok(c) = canonical_mime(&s) {
        assert!(
            c.bytes().all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b',' | b'"' | b'\\')),
            "{c:?} cannot be a safe Content-Type"
        );
        assert_eq!(canonical_mime(&c).as_deref(), Ok(c.as_str()), "canonical form is not a fixed point");
        let e = essence(&c);
        assert_eq!(e.matches('/').count(), 1, "essence {e:?}");
        assert!(c.len() <= s.len().max(depot_api::limits::MAX_MIME_BYTES) + 64);
    }
}

fn gen_mime(rng: &mut Rng) -> Vec<u8> {
    const PARTS: [&str; 24] = [
        "image",
        "png",
        "text",
        "html",
        "/",
        ";",
        ",",
        "=",
        "\"",
        " ",
        "charset",
        "utf-8",
        "+xml",
        "*",
        "\\",
        "\r\n",
        "application",
        "vnd.api+json",
        "x",
        "é",
        "\u{0}",
        ";,",
        "; q=1",
        "\t",
    ];
    let n = 1 + rng.below(8);
    let mut s = String::new();
    if rng.one_in(2) {
        s.push_str(rng.pick::<&str>(&["image/png", "text/plain; charset=utf-8", "image/svg+xml", "text/html"]));
    }
    for _ in 0..n {
        s.push_str(rng.pick::<&str>(&PARTS));
    }
    s.into_bytes()
}

pub fn mime_target() -> ByteTarget {
    ByteTarget {
        name: "mime_type".into(),
        about: "canonical_mime: no panic; an accepted type is printable ASCII without comma/quote/backslash, a fixed point, one type/subtype",
        run: Box::new(mime_run),
        generate: Box::new(gen_mime),
        dictionary: dict(&["image/png", ";,text/html", ",", ";", "=", "\"", "/", "+", "*/*", " ", "\r\n"]),
        max_len: 512,
        seeds: vec![],
    }
}

// ---- upload tokens ----

pub fn signed_tokens() -> &'static [UploadToken] {
    static T: OnceLock<Vec<UploadToken>> = OnceLock::new();
    T.get_or_init(|| {
        let base = UploadToken {
            version: 1,
            kid: KID,
            upload_id: vec![9; 16],
            file_id: FileId::new(Principal::from_slice(&[7; 29]), FileKey([5; 16])),
            bucket: bucket_id(),
            chunk_size: 1024,
            size_bytes: 2500,
            chunk_count: 3,
            first_chunk: 0,
            last_chunk: 2,
            sha256: Some(serde_bytes::ByteBuf::from(vec![0xaa; 32])),
            expires_at_ns: 1_000,
            sig: vec![],
        };
        let mut a = base.clone();
        a.sign(&SEED);
        let mut b = UploadToken { sha256: None, first_chunk: 1, last_chunk: 1, expires_at_ns: u64::MAX, ..base };
        b.sign(&SEED);
        vec![a, b]
    })
}

/// The ic-cdk 0.17 default for endpoint arguments: skipping quota 10 000,
/// no decoding quota (here a huge one, only to count the cost).
pub fn cdk_default_config() -> DecoderConfig {
    let mut c = DecoderConfig::new();
    c.set_skipping_quota(SKIPPING_QUOTA).set_decoding_quota(usize::MAX / 128);
    c
}

/// A strict endpoint config: decoding and skipping quotas.
pub fn strict_config() -> DecoderConfig {
    let mut c = DecoderConfig::new();
    c.set_decoding_quota(STRICT_DECODING_QUOTA).set_skipping_quota(SKIPPING_QUOTA);
    c
}

pub const STRICT_DECODING_QUOTA: usize = 1_000_000;

/// Candid's skipping quota for endpoint arguments (the ic-cdk 0.17 default,
/// and the bucket's `INGRESS_SKIPPING_QUOTA`).
pub const SKIPPING_QUOTA: usize = 10_000;

/// Work a decode may cost under the ic-cdk default config: linear in the
/// message size, plus skipped values (trailing or unknown ones), which the
/// cost model counts 50 times and the skipping quota caps. Without a
/// skipping quota there is no such bound: 14 bytes declaring 2^32 - 1
/// `reserved` or `null` values take about a minute to decode natively.
pub fn cost_bound(len: usize) -> usize {
    64 * len + 50 * SKIPPING_QUOTA + 10_000
}

/// Largest decoding cost seen (ic-cdk config), and largest cost per input
/// byte, for the runner's summary.
pub static MAX_COST: AtomicUsize = AtomicUsize::new(0);
pub static MAX_COST_PER_BYTE: AtomicUsize = AtomicUsize::new(0);

/// Decodes `bytes` as arguments `A` under `config`; `Ok((args, cost))`.
pub fn decode_args<A: for<'a> ArgumentDecoder<'a>>(
    bytes: &[u8],
    config: &DecoderConfig,
) -> Result<(A, usize), candid::Error> {
    let mut de = IDLDeserialize::new_with_config(bytes, config)?;
    let a = A::decode(&mut de)?;
    de.done()?;
    let cost = de.get_config().compute_cost(config).decoding_quota.unwrap_or(0);
    Ok((a, cost))
}

fn token_run(input: &[u8]) {
    let Ok((t, _)) = decode_args::<(UploadToken,)>(input, &strict_config()).map(|((t,), c)| (t, c)) else { return };
    let _ = t.check_shape();
    let keys = keyset();
    for (bucket, now) in [(bucket_id(), 0), (bucket_id(), 999), (bucket_id(), u64::MAX), (Principal::anonymous(), 0)] {
        if t.verify(&keys, bucket, now).is_ok() {
            assert!(signed_tokens().contains(&t), "a token verified that was never signed: {t:?}");
            assert!(now < t.expires_at_ns && t.bucket == bucket);
        }
    }
    // the same through the bucket's PutChunkArgs path is covered by candid_bucket_put_chunk
}

fn gen_token(rng: &mut Rng) -> Vec<u8> {
    match rng.below(3) {
        0 => candid::encode_one(rng.pick(signed_tokens())).unwrap(),
        1 => {
            let mut t = rng.pick(signed_tokens()).clone();
            // one field changed, the signature kept
            match rng.below(8) {
                0 => t.kid = rng.interesting_u64() as u32,
                1 => t.chunk_size = rng.interesting_u64() as u32,
                2 => t.size_bytes = rng.interesting_u64(),
                3 => t.chunk_count = rng.interesting_u64() as u32,
                4 => t.last_chunk = rng.interesting_u64() as u32,
                5 => {
                    let n = *rng.pick(&[0usize, 63, 64, 65]);
                    t.sig = rng.bytes(n)
                }
                6 => t.file_id.id = rng.bytes_below(20),
                _ => t.version = rng.byte(),
            }
            candid::encode_one(&t).unwrap()
        }
        _ => candid_gen::encode_random(rng, &[UploadToken::ty()]),
    }
}

pub fn token_target() -> ByteTarget {
    ByteTarget {
        name: "upload_token".into(),
        about: "Candid bytes -> UploadToken, check_shape + verify: no panic, only the signed tokens verify, never expired or for another bucket",
        run: Box::new(token_run),
        generate: Box::new(gen_token),
        dictionary: candid_gen::dictionary(),
        max_len: 4096,
        seeds: signed_tokens().iter().map(|t| candid::encode_one(t).unwrap()).collect(),
    }
}

// ---- typed errors in reject texts (depot_api::reject) ----

const BUCKET_TAG: &str = "[depot-bucket-error:";
const DIRECTORY_TAG: &str = "[depot-directory-error:";

fn reject_run(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let start = std::time::Instant::now();
    let b = bucket_error_in(&text);
    let d = directory_error_in(&text);
    assert!(start.elapsed() < std::time::Duration::from_secs(2), "decoding a reject text took {:?}", start.elapsed());
    if let Some(e) = b {
        assert_eq!(bucket_error_in(&bucket_reject(&e)), Some(e));
    }
    if let Some(e) = d {
        assert_eq!(directory_error_in(&directory_reject(&e)), Some(e));
    }
}

fn gen_reject(rng: &mut Rng) -> Vec<u8> {
    let (tag, ty) = if rng.one_in(2) { (BUCKET_TAG, BucketError::ty()) } else { (DIRECTORY_TAG, DirectoryError::ty()) };
    let payload = match rng.below(4) {
        0 => crate::engine::hex(&candid_gen::encode_random(rng, &[ty])),
        1 => {
            // a skipping bomb: vec reserved / vec null with a huge count
            let kind = *rng.pick(&["70", "7f"]);
            format!("4449444c016d{kind}0100{}", rng.pick(&["ffffffff0f", "ff0f", "ffffff7f"]))
        }
        2 => crate::engine::hex(&rng.bytes_below(40)),
        _ => "zz".repeat(rng.below(4)),
    };
    let close = if rng.one_in(8) { "" } else { "]" };
    format!("IC0406: Canister rejected the message: put_chunk: refused {tag}{payload}{close} tail").into_bytes()
}

pub fn reject_target() -> ByteTarget {
    ByteTarget {
        name: "reject_text".into(),
        about: "bucket_error_in/directory_error_in on any reject text: no panic, under 2 s (skipping bombs refused), decoded errors re-embed to themselves",
        run: Box::new(reject_run),
        generate: Box::new(gen_reject),
        dictionary: dict(&[BUCKET_TAG, DIRECTORY_TAG, "]", "4449444c", "016d700100ffffffff0f", "00", "ff"]),
        max_len: 16_384,
        seeds: vec![],
    }
}

// ---- Candid arguments of every method ----

fn candid_run<A>(bytes: &[u8])
where
    A: for<'a> ArgumentDecoder<'a> + ArgumentEncoder,
{
    let strict = decode_args::<A>(bytes, &strict_config());
    match decode_args::<A>(bytes, &cdk_default_config()) {
        Ok((args, cost)) => {
            assert!(cost <= cost_bound(bytes.len()), "decoding {} bytes cost {cost}", bytes.len());
            MAX_COST.fetch_max(cost, Ordering::Relaxed);
            MAX_COST_PER_BYTE.fetch_max(cost / bytes.len().max(1), Ordering::Relaxed);
            // Re-encoding is canonical: decode(encode(x)) encodes the same.
            let once = candid::encode_args(args).expect("a decoded value encodes");
            let (again, _) = decode_args::<A>(&once, &cdk_default_config()).expect("a re-encoded value decodes");
            assert_eq!(candid::encode_args(again).unwrap(), once, "re-encoding is not stable");
            if let Ok((_, strict_cost)) = strict {
                assert!(strict_cost <= STRICT_DECODING_QUOTA);
            }
        }
        Err(_) => assert!(strict.is_err(), "the strict config accepted what the default refused"),
    }
}

/// A target decoding the arguments of `m` from arbitrary bytes.
pub fn candid_target<A, R>(canister: &str, m: Method<A, R>) -> Target
where
    A: ArgTypes + for<'a> ArgumentDecoder<'a> + ArgumentEncoder + 'static,
    R: CandidType + DeserializeOwned,
{
    let types = A::types();
    Target::Bytes(ByteTarget {
        name: format!("candid_{canister}_{}", m.name),
        about: "method arguments from arbitrary and mutated valid Candid: no panic, cost linear in size, quotas hold, stable re-encoding",
        run: Box::new(candid_run::<A>),
        generate: Box::new(
            move |rng| {
                if rng.one_in(8) { rng.bytes_below(64) } else { candid_gen::encode_random(rng, &types) }
            },
        ),
        dictionary: candid_gen::dictionary(),
        max_len: 8192,
        seeds: vec![],
    })
}

/// One Candid target per method descriptor of both canisters.
pub fn candid_targets() -> Vec<Target> {
    use methods::bucket as b;
    use methods::directory as d;
    vec![
        candid_target("bucket", b::PUT_CHUNK),
        candid_target("bucket", b::GET_CHUNK),
        candid_target("bucket", b::LIST_CHUNKS),
        candid_target("bucket", b::COMMIT_FILE),
        candid_target("bucket", b::DELETE_FILE),
        candid_target("bucket", b::SET_KEYS),
        candid_target("bucket", b::SET_KEY_RING),
        candid_target("bucket", b::SET_READ_ONLY),
        candid_target("bucket", b::STAT),
        candid_target("bucket", b::SET_SUSPENDED),
        candid_target("directory", d::START_UPLOAD),
        candid_target("directory", d::ROUTE_CHUNKS),
        candid_target("directory", d::GET_UPLOAD_TOKEN),
        candid_target("directory", d::MARK_CHUNK_UPLOADED),
        candid_target("directory", d::GET_UPLOAD),
        candid_target("directory", d::COMMIT_UPLOAD),
        candid_target("directory", d::ABORT_UPLOAD),
        candid_target("directory", d::DELETE_FILE),
        candid_target("directory", d::LIST_FILES),
        candid_target("directory", d::GET_FILE_META),
        candid_target("directory", d::GET_DOWNLOAD_PLAN),
        candid_target("directory", d::GET_DOWNLOAD_URL),
        candid_target("directory", d::GET_USAGE),
        candid_target("directory", d::GET_PUBLIC_KEYS),
        candid_target("directory", d::ADMIN_GET_STATS),
        candid_target("directory", d::ADMIN_GET_MEMORY_STATS),
        candid_target("directory", d::ADMIN_SET_QUOTA),
        candid_target("directory", d::LIST_BUCKETS),
        candid_target("directory", d::ADMIN_REGISTER_BUCKET),
        candid_target("directory", d::ADMIN_SET_BUCKET_STATE),
        candid_target("directory", d::ADMIN_REAP_EXPIRED_UPLOADS),
        candid_target("directory", d::ADMIN_ROTATE_SIGNING_KEY),
        candid_target("directory", d::ADMIN_ACTIVATE_SIGNING_KEY),
        candid_target("directory", d::ADMIN_REVOKE_SIGNING_KEY),
        candid_target("directory", d::GET_PRICING),
        candid_target("directory", d::ESTIMATE_UPLOAD_COST),
        candid_target("directory", d::DEPOSIT),
        candid_target("directory", d::GET_BALANCE),
        candid_target("directory", d::ADMIN_SET_PRICING),
        candid_target("directory", d::ADMIN_CHARGE_STORAGE),
        candid_target("directory", d::ADMIN_UPGRADE_BUCKETS),
        candid_target("directory", d::SET_RETENTION),
        candid_target("directory", d::ADMIN_RESOLVE_DEPOSIT),
        candid_target("directory", d::ADMIN_REFUND),
        candid_target("directory", d::CREATE_SHARE),
        candid_target("directory", d::LIST_SHARES),
        candid_target("directory", d::REVOKE_SHARE),
        candid_target("directory", d::RESOLVE_SHARE),
    ]
}

/// Every target of `depot-api`.
pub fn targets() -> Vec<Target> {
    let mut v = vec![
        Target::Bytes(url_target()),
        Target::Bytes(file_key_hex_target()),
        Target::Bytes(mime_target()),
        Target::Bytes(token_target()),
        Target::Bytes(reject_target()),
    ];
    v.extend(candid_targets());
    v
}
