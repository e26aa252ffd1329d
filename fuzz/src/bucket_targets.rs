// Targets in `depot-bucket`: `Range` resolution, the serving plan
// (`If-None-Match`, `If-Range`, methods, hosts, URLs) and the stable
// records. Included with `#[path]` by the `depot-fuzz-bucket` binary and by
// `tests/bucket.rs` (a binary may not link the bucket and the directory).

use depot_api::FileKey;
use depot_api::keys::{MacKey, PublicKeyInfo};
use depot_api::url::{SignedUrl, file_key_of_path};
use depot_bucket::http::range::{RangeDecision, resolve};
use depot_bucket::http::responses::{FallbackResponse, FileResponse, FileView, fallback_shape, file_shape};
use depot_bucket::http::serve::{Plan, RequestView, plan};
use depot_bucket::model::records::{ChunkRef, Committed, Config, Counters, FileRecord, ResponseFormat};
use depot_bucket::model::response_set::ResponseSet;
use depot_bucket::model::sha256_stream::StreamingSha256;
use depot_fuzz::api_targets::{bucket_id, gen_url, keyset, signed_paths};
use depot_fuzz::candid_gen::principal;
use depot_fuzz::decode_or_trap;
use depot_fuzz::engine::{ByteTarget, PropTarget, Rng, Target, catch};
use ic_stable_structures::Storable;
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, FileFailurePersistence, TestRunner};
use std::borrow::Cow;

const SIZES: [u64; 8] = [0, 1, 50, 100, 101, 250, 1 << 40, u64::MAX];

fn range_dict() -> Vec<Vec<u8>> {
    [
        "bytes=",
        "bytes",
        "-",
        ",",
        ", ",
        "0",
        "1",
        "9",
        "-0",
        "0-0",
        "1-1",
        "=",
        " ",
        "items=",
        "BYTES=",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999",
        "\t",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn gen_range(rng: &mut Rng) -> Vec<u8> {
    let unit = *rng.pick(&["bytes=", "bytes=", "bytes=", "bytes = ", "Bytes=", "items=", "", "bytes"]);
    let n = 1 + rng.below(3);
    let mut parts = vec![];
    for _ in 0..n {
        let a = rng.interesting_u64();
        let b = rng.interesting_u64();
        parts.push(match rng.below(5) {
            0 => format!("{a}-{b}"),
            1 => format!("{a}-"),
            2 => format!("-{b}"),
            3 => format!("{}-{}", a % 300, b % 300),
            _ => rng.pick(&["-0", "0-0", "1-1", "-", "--1", "a-b", "5-1", "1-2-3", ""]).to_string(),
        });
    }
    let sep = *rng.pick(&[",", ", ", " ,", ",,"]);
    format!("{unit}{}", parts.join(sep)).into_bytes()
}

/// `bytes=A-B` exactly (digits only, both in u64): the decision RFC 9110
/// gives for a single closed range.
fn reference(header: &str, size: u64) -> Option<RangeDecision> {
    let spec = header.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    if a.is_empty() || b.is_empty() || !a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    // `http-range-header` refuses leading zeros (`bytes=007-9`), so such a
    // header is ignored (RFC 9110 allows ignoring Range): no reference.
    if [a, b].iter().any(|n| n.len() > 1 && n.starts_with('0')) {
        return None;
    }
    let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
    Some(if b < a {
        RangeDecision::Ignore
    } else if size == 0 || a >= size {
        RangeDecision::Unsatisfiable
    } else {
        RangeDecision::Bytes { start: a, end: b.min(size - 1) }
    })
}

fn range_run(input: &[u8]) {
    let header = String::from_utf8_lossy(input);
    for size in SIZES {
        let d = resolve(&header, size);
        if let RangeDecision::Bytes { start, end } = d {
            assert!(start <= end && end < size, "{d:?} for size {size}");
        }
        if let RangeDecision::Multi(ranges) = &d {
            assert!(ranges.len() >= 2, "{d:?}");
            assert!(ranges.iter().all(|(a, b)| a <= b && *b < size), "{d:?} for size {size}");
            assert!(ranges.windows(2).all(|w| w[0].1 + 1 < w[1].0), "{d:?}");
        }
        // (size 0 is left out: no committed file is empty, and `resolve`
        // answers 416 to any range on it, even a reversed one)
        if let Some(want) = reference(&header, size).filter(|_| size > 0) {
            assert_eq!(d, want, "size {size}");
        }
    }
}

pub fn range_target() -> ByteTarget {
    ByteTarget {
        name: "http_range".into(),
        about: "Range resolve against 8 sizes: no panic, start <= end < size, equals a reference for bytes=A-B",
        run: Box::new(range_run),
        generate: Box::new(gen_range),
        dictionary: range_dict(),
        max_len: 512,
        seeds: vec![],
    }
}

// ---- the serving plan ----

fn file_views() -> [FileView; 4] {
    let v = |key: u8, size: u64, chunk_size: u64| FileView {
        key: FileKey([key; 16]),
        name: "v.mp4".into(),
        mime: "video/mp4".into(),
        size,
        chunk_size,
        chunk_count: size.div_ceil(chunk_size) as u32,
        etag: [2; 32],
    };
    // The signed fixtures are for files 5a…, 01… and 00….
    [v(0x5a, 250, 100), v(0x5a, 50, 100), v(0x01, 300, 100), v(0x01, (1 << 40) + 1, 1 << 20)]
}

fn etag_text() -> String {
    format!("\"{}\"", "02".repeat(32))
}

/// Input: byte 0 chooses the file view, whether it exists, update or
/// query and the clock; then text lines: method, URL, `name: value` headers.
fn split_request(input: &[u8]) -> (u8, String, String, Vec<(String, String)>) {
    let flags = input.first().copied().unwrap_or(0);
    let text = String::from_utf8_lossy(input.get(1..).unwrap_or(&[])).into_owned();
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("").to_string();
    let url = lines.next().unwrap_or("").to_string();
    let headers = lines
        .map(|l| match l.split_once(':') {
            Some((k, v)) => (k.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect();
    (flags, method, url, headers)
}

fn plan_run(input: &[u8]) {
    let (flags, method, url, headers) = split_request(input);
    let views = file_views();
    let view = views[(flags & 3) as usize].clone();
    let exists = flags & 4 == 0;
    let is_update = flags & 8 != 0;
    let now = [0u64, 1_999, 2_000, u64::MAX][((flags >> 4) & 3) as usize];
    let keys: Vec<PublicKeyInfo> = keyset();
    let req = RequestView { method: &method, url: &url, headers: &headers };
    // A suspended file is held back: the store has no view of it.
    let suspended = flags & 64 != 0;
    let lookup = |k: &FileKey| (exists && !suspended && *k == view.key).then(|| view.clone());
    let held_back = |k: &FileKey| exists && suspended && *k == view.key;
    let (p, found) = plan(&req, is_update, lookup, held_back, |s| s.verify(&keys, bucket_id(), now));

    let signed_ok = SignedUrl::parse(&url).is_ok_and(|s| s.verify(&keys, bucket_id(), now).is_ok());
    let m = method.to_ascii_uppercase();
    let serves = matches!(
        p,
        Plan::File(
            FileResponse::Full { .. }
                | FileResponse::Chunk { .. }
                | FileResponse::Head { .. }
                | FileResponse::NotModified
                | FileResponse::RangeNotSatisfiable
        ) | Plan::Exact { .. }
            | Plan::Multipart { .. }
            | Plan::Resume { .. }
            | Plan::Upgrade
    );
    if serves {
        assert!(signed_ok, "{p:?} without a valid signature");
        assert_eq!(file_key_of_path(&url), Some(view.key));
        assert!(m == "GET" || m == "HEAD", "{p:?} for method {method:?}");
        assert!(found.is_some());
    }
    match &p {
        Plan::File(r) => {
            let f = found.as_ref().expect("a file plan has its file");
            if let FileResponse::Chunk { index, .. } = r {
                assert!(*index < f.chunk_count, "chunk {index} of {}", f.chunk_count);
            }
            let shape = file_shape(f, *r, |_| [0; 32]);
            assert!((200..600).contains(&shape.status));
        }
        Plan::Fallback(r) => {
            if *r == FallbackResponse::PaymentRequired {
                assert!(signed_ok && exists && suspended, "402 only for a valid URL of a suspended file");
            }
            if *r == FallbackResponse::NotFound && file_key_of_path(&url).is_some() {
                assert!(signed_ok, "404 (not 403) for a file URL without a valid signature");
            }
            let _ = fallback_shape(*r);
        }
        Plan::Resume { index, start, end, .. } => {
            assert!(!is_update, "the update answers a resume exactly");
            let f = found.as_ref().unwrap();
            assert!(*index > 0 && *index < f.chunk_count && start < end && *end == f.size - 1, "{p:?} of {}", f.size);
            assert_eq!(*start, *index as u64 * f.chunk_size, "{p:?}");
        }
        Plan::Exact { start, end, whole, .. } => {
            assert!(is_update, "an exact range in a query");
            let f = found.as_ref().unwrap();
            assert!(start <= end && *end < f.size, "{p:?} of {}", f.size);
            if *whole {
                assert_eq!((*start, *end), (0, f.size - 1), "a whole answer is the whole file: {p:?}");
            }
        }
        Plan::Multipart { ranges, .. } => {
            assert!(is_update, "multipart in a query");
            let f = found.as_ref().unwrap();
            assert!(ranges.len() >= 2 && ranges.len() <= depot_bucket::limits::MAX_RANGES_PER_REQUEST, "{p:?}");
            let bytes: u64 = ranges.iter().map(|(a, b)| b - a + 1).sum();
            assert!(bytes <= depot_bucket::limits::MAX_MULTIPART_BODY_BYTES, "{p:?}");
            for w in ranges.windows(2) {
                assert!(w[0].1 + 1 < w[1].0, "ranges sorted, disjoint, not adjacent: {p:?}");
            }
            assert!(ranges.iter().all(|(a, b)| a <= b && *b < f.size), "{p:?} of {}", f.size);
        }
        Plan::Upgrade => assert!(!is_update, "upgrade from an update"),
        Plan::RawRedirect { location } => {
            assert!(location.starts_with("//"));
            assert!(found.is_none());
        }
    }
}

fn gen_request(rng: &mut Rng) -> Vec<u8> {
    let mut out = vec![rng.byte() & !4 & !0x30 | (*rng.pick(&[0u8, 0x10, 0x10, 0x20, 0x30]))];
    if rng.one_in(5) {
        out[0] |= 4;
    }
    let method = *rng.pick(&["GET", "GET", "get", "HEAD", "OPTIONS", "POST", "", "GeT", "PUT"]);
    let url = if rng.one_in(2) {
        rng.pick(signed_paths()).clone()
    } else {
        String::from_utf8_lossy(&gen_url(rng)).into_owned()
    };
    let mut text = format!("{method}\n{url}");
    let n = rng.below(4);
    for _ in 0..n {
        let etag = etag_text();
        let h = match rng.below(7) {
            0 => format!("Range: {}", String::from_utf8_lossy(&gen_range(rng))),
            5 => format!("Sec-Fetch-Dest: {}", rng.pick(&["video", "AUDIO", "track", "document", "empty", " video "])),
            1 => format!("If-None-Match: {}", rng.pick(&[etag.as_str(), "*", "W/\"x\"", "\"x\", W/", ""])),
            2 => format!("If-Range: {}", rng.pick(&[etag.as_str(), "\"old\"", " ", "Wed, 21 Oct 2015 07:28:00 GMT"])),
            3 => format!("Host: {}", rng.pick(&["aaaaa-aa.raw.icp0.io", "x.icp0.io", ".raw.", "a.RAW.b", "raw."])),
            4 => format!(
                "{}: {}",
                rng.pick(&["range", "RANGE", "if-none-match", "IF-RANGE"]),
                rng.pick(&["bytes=0-0", etag.as_str()])
            ),
            _ => "X-Other: 1".to_string(),
        };
        text.push('\n');
        text.push_str(&h);
    }
    out.extend_from_slice(text.as_bytes());
    out
}

pub fn plan_target() -> ByteTarget {
    let mut dictionary = range_dict();
    for w in
        ["\nRange: ", "\nIf-None-Match: ", "\nIf-Range: ", "\nHost: ", ".raw.", "W/", "*", "GET", "HEAD", "OPTIONS"]
    {
        dictionary.push(w.as_bytes().to_vec());
    }
    dictionary.push(etag_text().into_bytes());
    ByteTarget {
        name: "http_plan".into(),
        about: "serve::plan on any method/URL/headers: no panic, content only for a valid signature and GET/HEAD, chunk and exact ranges in bounds, response shapes build",
        run: Box::new(plan_run),
        generate: Box::new(gen_request),
        dictionary,
        max_len: 2048,
        seeds: signed_paths().iter().map(|p| [&[0u8][..], b"GET\n", p.as_bytes()].concat()).collect(),
    }
}

// ---- stable records ----

fn from_bytes_run(input: &[u8]) {
    let b = || Cow::Borrowed(input);
    // Every decoder runs, whatever the others did.
    let results = [
        catch(|| {
            if let Some(r) = decode_or_trap("ChunkRef", || ChunkRef::from_bytes(b())) {
                assert_eq!(ChunkRef::from_bytes(r.to_bytes()), r);
            }
        }),
        catch(|| {
            if let Some(r) = decode_or_trap("Config", || Config::from_bytes(b())) {
                assert_eq!(Config::from_bytes(r.to_bytes()), r);
            }
        }),
        catch(|| {
            if let Some(r) = decode_or_trap("Counters", || Counters::from_bytes(b())) {
                assert_eq!(Counters::from_bytes(r.to_bytes()), r);
            }
        }),
        catch(|| {
            if let Some(r) = decode_or_trap("FileRecord", || FileRecord::from_bytes(b())) {
                assert_eq!(FileRecord::from_bytes(r.to_bytes()), r);
            }
        }),
        catch(|| {
            if let Some(r) = decode_or_trap("ResponseSet", || ResponseSet::from_bytes(b())) {
                assert_eq!(ResponseSet::from_bytes(r.to_bytes()), r);
            }
        }),
    ];
    let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(errors.is_empty(), "{}", errors.join("; "));
}

fn sample_file_record(rng: &mut Rng) -> FileRecord {
    let mut hasher = StreamingSha256::default();
    let blocks = rng.below(3) * 64;
    hasher.absorb_blocks(&rng.bytes(blocks));
    FileRecord {
        owner: principal(rng),
        upload_id: rng.bytes_below(20),
        size_bytes: rng.interesting_u64(),
        chunk_size: rng.interesting_u64() as u32,
        chunk_count: rng.interesting_u64() as u32,
        declared_sha256: rng.one_in(2).then(|| [rng.byte(); 32]),
        hasher,
        hashed_chunks: rng.interesting_u64() as u32,
        stored_chunks: rng.interesting_u64() as u32,
        stored_bytes: rng.interesting_u64(),
        created_at_ns: rng.interesting_u64(),
        committed: rng.one_in(2).then(|| Committed {
            name: "a.txt".into(),
            mime: "image/png;,text/html".into(),
            etag: [1; 32],
            sha256: None,
            committed_at_ns: rng.interesting_u64(),
        }),
        suspended: rng.one_in(2),
    }
}

fn gen_record_bytes(rng: &mut Rng) -> Vec<u8> {
    match rng.below(6) {
        0 => {
            let r = ChunkRef {
                offset: rng.interesting_u64(),
                len: rng.byte() as u32,
                class: rng.byte(),
                sha256: [rng.byte(); 32],
            };
            r.to_bytes().into_owned()
        }
        1 => Config {
            directory: principal(rng),
            keys: keyset(),
            capacity_bytes: rng.interesting_u64(),
            read_only: rng.one_in(2),
            stream_key: rng.one_in(2).then(|| [rng.byte(); 32]),
            response_format: rng
                .one_in(2)
                .then(|| ResponseFormat { fingerprint: [rng.byte(); 32], generation: rng.byte() as u32 }),
            mac_keys: (0..rng.byte() % 3).map(|k| MacKey { kid: k as u32, key: [rng.byte(); 32] }).collect(),
        }
        .to_bytes()
        .into_owned(),
        2 => Counters { used_bytes: rng.interesting_u64(), files: rng.interesting_u64(), ..Default::default() }
            .to_bytes()
            .into_owned(),
        3 => sample_file_record(rng).to_bytes().into_owned(),
        4 => {
            let hashes: Vec<[u8; 32]> = (0..1 + rng.below(20)).map(|_| [rng.byte(); 32]).collect();
            ResponseSet::new(rng.byte() as u32, &hashes).to_bytes().into_owned()
        }
        _ => rng.bytes_below(60),
    }
}

pub fn records_from_bytes_target() -> ByteTarget {
    ByteTarget {
        name: "bucket_records_from_bytes".into(),
        about: "ChunkRef/Config/Counters/FileRecord/ResponseSet from_bytes on any bytes: decodes (and re-encodes stably) or traps with the codec message, no other panic",
        run: Box::new(from_bytes_run),
        generate: Box::new(gen_record_bytes),
        dictionary: vec![vec![0xa0], vec![0xa4], vec![0x1b], vec![0xff], vec![0xf6], vec![0x58, 0x20], vec![0x60]],
        max_len: 1024,
        seeds: vec![],
    }
}

// ---- round trips of arbitrary records (proptest) ----

fn arb_principal() -> impl Strategy<Value = candid::Principal> {
    proptest::collection::vec(any::<u8>(), 0..=29).prop_map(|b| candid::Principal::from_slice(&b))
}

fn arb_file_record() -> impl Strategy<Value = FileRecord> {
    (
        (arb_principal(), proptest::collection::vec(any::<u8>(), 0..40), any::<u64>(), any::<u32>(), any::<u32>()),
        (any::<Option<[u8; 32]>>(), 0usize..4, proptest::collection::vec(any::<u8>(), 256)),
        (any::<u32>(), any::<u32>(), any::<u64>(), any::<u64>()),
        proptest::option::of((".*", ".*", any::<[u8; 32]>(), any::<Option<[u8; 32]>>(), any::<u64>())),
        any::<bool>(),
    )
        .prop_map(
            |(
                (owner, upload_id, size_bytes, chunk_size, chunk_count),
                (declared, blocks, data),
                (h, s, sb, c),
                committed,
                suspended,
            )| {
                let mut hasher = StreamingSha256::default();
                hasher.absorb_blocks(&data[..blocks * 64]);
                FileRecord {
                    owner,
                    upload_id,
                    size_bytes,
                    chunk_size,
                    chunk_count,
                    declared_sha256: declared,
                    hasher,
                    hashed_chunks: h,
                    stored_chunks: s,
                    stored_bytes: sb,
                    created_at_ns: c,
                    committed: committed.map(|(name, mime, etag, sha256, committed_at_ns)| Committed {
                        name,
                        mime,
                        etag,
                        sha256,
                        committed_at_ns,
                    }),
                    suspended,
                }
            },
        )
}

fn arb_config() -> impl Strategy<Value = Config> {
    (
        arb_principal(),
        proptest::collection::vec(
            (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..40))
                .prop_map(|(kid, key)| PublicKeyInfo { kid, key }),
            0..4,
        ),
        any::<u64>(),
        any::<bool>(),
        proptest::option::of(any::<[u8; 32]>()),
        proptest::option::of(any::<([u8; 32], u32)>()),
        proptest::collection::vec(any::<(u32, [u8; 32])>().prop_map(|(kid, key)| MacKey { kid, key }), 0..4),
    )
        .prop_map(|(directory, keys, capacity_bytes, read_only, stream_key, format, mac_keys)| Config {
            directory,
            keys,
            capacity_bytes,
            read_only,
            stream_key,
            response_format: format.map(|(fingerprint, generation)| ResponseFormat { fingerprint, generation }),
            mac_keys,
        })
}

pub const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/bucket_records.txt");

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(PropConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..PropConfig::default()
    })
}

fn round_trip_all(cases: u32) -> Result<(), String> {
    runner(cases)
        .run(&arb_file_record(), |r| {
            prop_assert_eq!(FileRecord::from_bytes(r.to_bytes()), r.clone());
            prop_assert_eq!(FileRecord::from_bytes(Cow::Owned(r.clone().into_bytes())), r);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    runner(cases)
        .run(&arb_config(), |r| {
            prop_assert_eq!(Config::from_bytes(r.to_bytes()), r);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    runner(cases)
        .run(&any::<(u64, u64, u64, u64, u64)>(), |(a, b, c, d, e)| {
            let r = Counters { used_bytes: a, committed_bytes: b, allocated_bytes: c, files: d, chunks: e };
            prop_assert_eq!(Counters::from_bytes(r.to_bytes()), r);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    runner(cases)
        .run(&any::<(u64, u32, u8, [u8; 32])>(), |(offset, len, class, sha256)| {
            let r = ChunkRef { offset, len, class, sha256 };
            let bytes = r.to_bytes();
            prop_assert_eq!(bytes.len(), 45);
            prop_assert_eq!(ChunkRef::from_bytes(bytes), r);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    runner(cases)
        .run(&(any::<u32>(), proptest::collection::vec(any::<[u8; 32]>(), 1..200)), |(generation, hashes)| {
            let r = ResponseSet::new(generation, &hashes);
            prop_assert_eq!(ResponseSet::from_bytes(r.to_bytes()), r);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

pub fn round_trip_target() -> PropTarget {
    PropTarget {
        name: "bucket_records_round_trip".into(),
        about: "arbitrary FileRecord/Config/Counters/ChunkRef/ResponseSet round-trip through to_bytes/from_bytes (proptest, cases per record type)",
        run: Box::new(round_trip_all),
    }
}

pub fn targets() -> Vec<Target> {
    vec![
        Target::Bytes(range_target()),
        Target::Bytes(plan_target()),
        Target::Bytes(records_from_bytes_target()),
        Target::Prop(round_trip_target()),
    ]
}
