//! `bucket.did` equals the interface the code exports, stays compatible with
//! `released.did`, and names every method descriptor of `depot_api::methods`.
//! After an intended change: `UPDATE_DID=1 cargo test -p depot-bucket candid`.

use depot_api::did_check::check_interface;
use depot_api::methods;
use std::path::Path;

#[test]
fn candid_interface_matches_bucket_did() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    check_interface(
        &crate::__export_service(),
        &dir.join("bucket.did"),
        &dir.join("released.did"),
        &methods::bucket::ALL,
    );
}

/// `put_chunk`'s hand-written decoding keeps `#[update]`'s skipping quota:
/// an argument that carries an extra field of 20,000 `null`s, which plain
/// decoding skips (the fuzz corpus holds 2^32 − 1 of them: a minute of
/// work), is refused. A real argument decodes, its bytes borrowed in place.
#[test]
fn put_chunk_arguments_decode_in_place_under_the_skipping_quota() {
    use depot_api::bucket::{PutChunkArgs, PutChunkArgsRef};
    use depot_api::token::UploadToken;
    #[derive(candid::CandidType)]
    struct Padded {
        token: UploadToken,
        chunk_index: u32,
        bytes: serde_bytes::ByteBuf,
        padding: Vec<()>,
    }
    let up = super::fixture::Upload::new(1, 100);
    let padded = Padded {
        token: up.token(),
        chunk_index: 0,
        bytes: serde_bytes::ByteBuf::from(up.chunk(0)),
        padding: vec![(); 20_000],
    };
    let bomb = candid::encode_one(&padded).unwrap();
    assert!(candid::decode_one::<PutChunkArgsRef>(&bomb).is_ok(), "without a quota it is skipped");
    assert!(crate::decode_arg::<PutChunkArgsRef>(&bomb).is_err(), "refused under the quota");

    let args = PutChunkArgs { token: up.token(), chunk_index: 0, bytes: up.chunk(0) };
    let raw = candid::encode_one(&args).unwrap();
    let decoded: PutChunkArgsRef = crate::decode_arg(&raw).unwrap();
    assert_eq!(decoded, args.as_ref());
    assert!(raw.as_ptr_range().contains(&decoded.bytes.as_ptr()), "the bytes are borrowed from the argument");
}
