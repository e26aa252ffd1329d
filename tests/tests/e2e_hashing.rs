//! The bucket's hashing as the canister runs it (the wasm SIMD pair of
//! SHA-256 compressions, `bucket/src/model/sha256_pair.rs`), against the
//! `sha2` crate: each `put_chunk` reply carries its chunk's SHA-256, and
//! the commit's whole-file SHA-256 is the file's, for files of every shape
//! whose chunks arrive in order, reversed and interleaved.

use candid::Principal;
use depot_api::bucket::{PutChunkArgs, PutChunkOk};
use depot_api::directory::{DirectoryInit, GetUploadTokenReq};
use depot_api::methods::{bucket as bm, directory as dm};
use depot_api::{BucketError, limits};
use depot_devnet::{Devnet, DevnetConfig};
use depot_tests::deploy::{DeployOpts, call, deploy};
use depot_tests::drive::{commit, content, start_upload};
use sha2::{Digest, Sha256};

const CHUNK: usize = limits::MIN_CHUNK_SIZE as usize;

/// Sizes at every block and chunk edge, up to five chunks.
const SIZES: [usize; 14] = [
    1,
    55,
    63,
    64,
    65,
    CHUNK - 1,
    CHUNK,
    CHUNK + 1,
    CHUNK + 63,
    CHUNK + 64,
    2 * CHUNK - 64,
    2 * CHUNK,
    3 * CHUNK + 100,
    5 * CHUNK - 1,
];

/// The orders chunks are sent in, for a file of `n` chunks.
fn orders(n: u32) -> Vec<(&'static str, Vec<u32>)> {
    let evens_then_odds = (0..n).step_by(2).chain((1..n).step_by(2)).collect();
    vec![("in order", (0..n).collect()), ("reversed", (0..n).rev().collect()), ("evens, then odds", evens_then_odds)]
}

#[test]
fn put_chunk_and_commit_hashes_match_sha2_for_every_shape_and_order() {
    let mut dev = Devnet::new(DevnetConfig { debug_print: false, ..Default::default() });
    // 42 uploads in a row: the per-user rates raised to their ceilings.
    let init = DirectoryInit {
        chunk_size: Some(CHUNK as u32),
        start_upload_per_minute: Some(limits::MAX_START_UPLOAD_PER_MINUTE),
        upload_tokens_per_minute: Some(limits::MAX_UPLOAD_TOKENS_PER_MINUTE),
        ..Default::default()
    };
    let d = deploy(
        &mut dev,
        DeployOpts { buckets: 1, domain_template: "{bucket}.localhost:1".into(), directory_init: init },
    )
    .unwrap();
    let alice = Principal::self_authenticating(b"hashing alice");
    for (seed, size) in SIZES.into_iter().enumerate() {
        let data = content(seed as u8, size);
        let n = size.div_ceil(CHUNK) as u32;
        for (order_name, order) in orders(n) {
            let what = format!("{size} B sent {order_name}");
            let s = start_upload(&mut dev, &d, alice, &data, true).unwrap();
            for i in order {
                let chunk = &data[i as usize * CHUNK..((i as usize + 1) * CHUNK).min(size)];
                let req = GetUploadTokenReq { upload_id: s.upload_id.clone(), first_chunk: i, last_chunk: i };
                let token = call(&mut dev, alice, d.directory, dm::GET_UPLOAD_TOKEN, (req,)).unwrap().unwrap();
                let args = PutChunkArgs { token, chunk_index: i, bytes: chunk.to_vec() };
                let put: Result<PutChunkOk, BucketError> =
                    call(&mut dev, alice, s.bucket, bm::PUT_CHUNK, (args,)).unwrap();
                assert_eq!(put.unwrap().etag, Sha256::digest(chunk).to_vec(), "chunk {i} of {what}");
            }
            let meta = commit(&mut dev, &d, alice, &s.upload_id).unwrap().unwrap_or_else(|e| panic!("{what}: {e:?}"));
            let sha = meta.sha256.expect("declared, so recorded");
            assert_eq!(sha.as_slice(), Sha256::digest(&data).as_slice(), "{what}");
        }
    }
}
