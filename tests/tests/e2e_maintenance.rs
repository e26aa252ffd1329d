//! Jobs and bucket states, driven through devnet's library API (time moves
//! here, which HTTP clients would refuse as stale certificates).

use candid::{Decode, Encode, Principal};
use depot_api::DirectoryError;
use depot_api::bucket::{BucketStat, PutChunkArgs};
use depot_api::directory::*;
use depot_api::methods::{bucket as bm, directory as dm};
use depot_api::token::UploadToken;
use depot_devnet::Devnet;
use depot_tests::deploy::{DeployOpts, Deployment, call, deploy, query};
use serde_bytes::ByteBuf;
use std::time::Duration;

fn user() -> Principal {
    Principal::self_authenticating(b"maintenance user")
}

fn setup(session_ttl_secs: u64) -> (Devnet, Deployment) {
    let mut dev = Devnet::new(depot_devnet::DevnetConfig { debug_print: false, ..Default::default() });
    let init = DirectoryInit { upload_session_ttl_secs: Some(session_ttl_secs), ..Default::default() };
    let d = deploy(
        &mut dev,
        DeployOpts { buckets: 2, domain_template: "{bucket}.localhost:1".into(), directory_init: init },
    )
    .unwrap();
    (dev, d)
}

fn start(dev: &mut Devnet, d: &Deployment, size: u64) -> Result<StartUploadRes, DirectoryError> {
    let req = StartUploadReq { name: "a.bin".into(), mime: None, size_bytes: size, sha256: None, retention_days: None };
    call(dev, user(), d.directory, dm::START_UPLOAD, (req.clone(),)).unwrap()
}

fn stat(dev: &mut Devnet, bucket: Principal) -> BucketStat {
    query(dev, user(), bucket, bm::STAT, ()).unwrap()
}

#[test]
fn abandoned_uploads_are_reaped_and_their_chunks_deleted() {
    let (mut dev, d) = setup(3600);
    let s = start(&mut dev, &d, 10).unwrap();
    let req = GetUploadTokenReq { upload_id: s.upload_id.clone(), first_chunk: 0, last_chunk: 0 };
    let token: Result<UploadToken, DirectoryError> =
        call(&mut dev, user(), d.directory, dm::GET_UPLOAD_TOKEN, (req.clone(),)).unwrap();
    let args = PutChunkArgs { token: token.unwrap(), chunk_index: 0, bytes: vec![7; 10] };
    let out = dev.update(user(), s.bucket, bm::PUT_CHUNK.name, &Encode!(&args).unwrap()).unwrap();
    assert!(out.result.is_ok());
    assert_eq!(stat(&mut dev, s.bucket).used_bytes, 10);
    let usage: Result<Usage, DirectoryError> =
        query(&mut dev, user(), d.directory, dm::GET_USAGE, (None::<Principal>,)).unwrap();
    assert_eq!(usage.unwrap().reserved_bytes, 10);

    // Past the session's expiry (and every token's), the reaper's timer runs.
    dev.advance_time(Duration::from_secs(3600 + 16 * 60));
    for _ in 0..5 {
        dev.advance_time(Duration::from_secs(61));
        dev.tick();
    }
    let usage: Result<Usage, DirectoryError> =
        query(&mut dev, user(), d.directory, dm::GET_USAGE, (None::<Principal>,)).unwrap();
    let usage = usage.unwrap();
    assert_eq!((usage.reserved_bytes, usage.uploads_in_progress), (0, 0));
    assert_eq!(stat(&mut dev, s.bucket).used_bytes, 0, "the partial chunk is deleted in the bucket");
    let progress: Result<UploadProgress, DirectoryError> =
        query(&mut dev, user(), d.directory, dm::GET_UPLOAD, (ByteBuf::from(s.upload_id.to_vec()),)).unwrap();
    assert!(progress.is_err());
}

#[test]
fn a_read_only_bucket_takes_no_new_uploads() {
    let (mut dev, d) = setup(3600);
    for b in &d.buckets {
        let out = dev
            .update(d.admin, d.directory, "admin_set_bucket_state", &Encode!(b, &BucketState::ReadOnly).unwrap())
            .unwrap();
        let r = Decode!(&out.result.unwrap(), Result<(), DirectoryError>).unwrap();
        assert_eq!(r, Ok(()));
    }
    assert!(matches!(start(&mut dev, &d, 10), Err(DirectoryError::ServiceTemporarilyUnavailable { .. })));
    assert!(stat(&mut dev, d.buckets[0]).read_only, "the directory told the bucket too");
    let out = dev
        .update(
            d.admin,
            d.directory,
            "admin_set_bucket_state",
            &Encode!(&d.buckets[1], &BucketState::Writable).unwrap(),
        )
        .unwrap();
    assert_eq!(Decode!(&out.result.unwrap(), Result<(), DirectoryError>).unwrap(), Ok(()));
    assert_eq!(start(&mut dev, &d, 10).unwrap().bucket, d.buckets[1]);
}
