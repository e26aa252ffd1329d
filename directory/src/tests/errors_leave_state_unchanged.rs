//! Every typed error of a state-changing method leaves stable memory
//! byte-for-byte unchanged (the digest covers all structures).

use super::*;
use crate::logic::admin::*;
use crate::logic::commit::begin_commit;
use crate::logic::files::delete_file_impl;
use crate::logic::keys::rotate_key_impl;
use crate::logic::upload::*;
use depot_api::limits::MAX_SIGNING_KEYS;

#[test]
fn every_start_upload_refusal_is_side_effect_free() {
    let mut fx = Fx::with(DirectoryInit { max_uploads_in_progress: Some(2), ..Default::default() });
    admin_set_quota_impl(&mut fx.s, alice(), 10 * MIB).unwrap();
    admin_set_quota_impl(&mut fx.s, bob(), 10 * MIB).unwrap();
    fx.ready_file(alice(), MIB);
    fx.start_ok(alice(), MIB);
    let committing = fx.start_ok(alice(), MIB);
    begin_commit(&mut fx.s, alice(), &commit_req(&committing.upload_id), fx.now).unwrap();
    let invalid = |s: &str| DirectoryError::InvalidRequest { reason: s.into() };

    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| fx.start(anon(), 1));
    assert_err_unchanged(&mut fx, invalid("name is empty"), |fx| {
        start_upload_impl(&mut fx.s, alice(), StartUploadReq { name: "".into(), ..req(1) }, fx.now)
    });
    let max = depot_api::limits::MAX_FILE_SIZE;
    let too_big = DirectoryError::InvalidSize { size: max + 1, min: depot_api::limits::MIN_FILE_SIZE, max };
    assert_err_unchanged(&mut fx, too_big, |fx| fx.start(alice(), max + 1));
    assert_err_unchanged(&mut fx, DirectoryError::TooManyInProgressUploads { limit: 2 }, |fx| fx.start(alice(), 1));
    let e = DirectoryError::QuotaExceeded { requested: 10 * MIB + 1, available: 10 * MIB };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(bob(), 10 * MIB + 1));
    // Full buckets: nothing reserved, nothing counted against the rate.
    apply_bucket_state(&mut fx.s, bucket(1), BucketState::ReadOnly).unwrap();
    let e =
        DirectoryError::ServiceTemporarilyUnavailable { reason: crate::logic::provisioning::NO_ROOM_CREATING.into() };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(bob(), 1));
}

#[test]
fn errors_of_sessions_files_admin_and_keys() {
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), MIB);
    let open = fx.start_ok(alice(), MIB);
    let unknown = ByteBuf::from(vec![0x42; 16]);
    let invalid = |s: &str| DirectoryError::InvalidRequest { reason: s.into() };

    assert_err_unchanged(&mut fx, DirectoryError::UploadNotFound, |fx| {
        begin_commit(&mut fx.s, alice(), &commit_req(&unknown), fx.now)
    });
    assert_err_unchanged(&mut fx, DirectoryError::UploadNotFound, |fx| {
        abort_upload_impl(&mut fx.s, alice(), &unknown, fx.now)
    });
    let mark = MarkChunkUploadedReq { upload_id: unknown.clone(), chunk_index: 0, etag: None };
    assert_err_unchanged(&mut fx, DirectoryError::UploadNotFound, |fx| {
        mark_chunk_uploaded_impl(&mut fx.s, alice(), &mark, fx.now)
    });
    let mark = MarkChunkUploadedReq { upload_id: open.upload_id.clone(), chunk_index: 0, etag: None };
    let later = open.expires_at_ns;
    assert_err_unchanged(&mut fx, DirectoryError::UploadExpired, |fx| {
        mark_chunk_uploaded_impl(&mut fx.s, alice(), &mark, later)
    });
    let foreign = FileId { owner: alice(), id: vec![0x42; 16] };
    assert_err_unchanged(&mut fx, DirectoryError::NotFound, |fx| {
        delete_file_impl(&mut fx.s, alice(), &foreign, fx.now)
    });
    assert_err_unchanged(&mut fx, DirectoryError::NotFound, |fx| {
        apply_bucket_state(&mut fx.s, bucket(7), BucketState::ReadOnly)
    });
    assert_err_unchanged(&mut fx, invalid("the anonymous principal has no account"), |fx| {
        admin_set_quota_impl(&mut fx.s, anon(), 5)
    });
    let dup = RegisterBucketReq { id: bucket(1), soft_limit_bytes: 1, hard_limit_bytes: 1 };
    assert_err_unchanged(&mut fx, invalid("bucket is already registered"), |fx| {
        finish_register_bucket(&mut fx.s, &dup, &stat(1, 0, false), 0, false, fx.now)
    });
    for i in 1..MAX_SIGNING_KEYS {
        fx.rotate_and_activate([i as u8; 32]);
    }
    let before = fx.digest();
    assert!(rotate_key_impl(&mut fx.s, [0xee; 32], fx.now).is_err());
    assert_eq!(fx.digest(), before);
    // Successful calls do change state (the digest is sensitive).
    delete_file_impl(&mut fx.s, alice(), &file, fx.now).unwrap();
    assert_ne!(fx.digest(), before);
}

#[test]
fn every_get_upload_token_refusal_is_side_effect_free() {
    let mut fx = Fx::with(DirectoryInit {
        max_tokens_per_upload: Some(1),
        upload_tokens_per_minute: Some(2),
        ..Default::default()
    });
    let open = fx.start_ok(alice(), 3 * CHUNK);
    let capped = fx.start_ok(alice(), MIB);
    let fresh = fx.start_ok(alice(), MIB);
    let committing = fx.start_ok(bob(), MIB);
    begin_commit(&mut fx.s, bob(), &commit_req(&committing.upload_id), fx.now).unwrap();
    let tok =
        |id: &ByteBuf, first, last| GetUploadTokenReq { upload_id: id.clone(), first_chunk: first, last_chunk: last };
    get_upload_token_impl(&mut fx.s, alice(), &tok(&capped.upload_id, 0, 0), fx.now).unwrap();
    let invalid = |s: &str| DirectoryError::InvalidRequest { reason: s.into() };
    let unknown = ByteBuf::from(vec![0x42; 16]);

    let cases: Vec<(Principal, GetUploadTokenReq, u64, DirectoryError)> = vec![
        (anon(), tok(&open.upload_id, 0, 0), fx.now, DirectoryError::Unauthorised),
        (bob(), tok(&open.upload_id, 0, 0), fx.now, DirectoryError::Unauthorised),
        (alice(), tok(&unknown, 0, 0), fx.now, DirectoryError::UploadNotFound),
        (alice(), tok(&ByteBuf::from(vec![1; 3]), 0, 0), fx.now, DirectoryError::UploadNotFound),
        (alice(), tok(&open.upload_id, 0, 0), open.expires_at_ns, DirectoryError::UploadExpired),
        (bob(), tok(&committing.upload_id, 0, 0), fx.now, invalid("a commit of this upload is in progress")),
        (alice(), tok(&open.upload_id, 2, 1), fx.now, invalid("chunk range 2..=1 outside 0..3")),
        (
            alice(),
            tok(&open.upload_id, 0, u32::MAX),
            fx.now,
            invalid(&format!("chunk range 0..={} outside 0..3", u32::MAX)),
        ),
        (
            alice(),
            tok(&capped.upload_id, 0, 0),
            fx.now,
            invalid("this upload has been issued its 1 tokens; abort it and start a new upload"),
        ),
    ];
    for (caller, req, now, e) in cases {
        assert_err_unchanged(&mut fx, e, |fx| get_upload_token_impl(&mut fx.s, caller, &req, now));
    }
    // The rate: the second token of the minute is the last; a session with
    // tokens left is refused too.
    get_upload_token_impl(&mut fx.s, alice(), &tok(&open.upload_id, 0, 2), fx.now).unwrap();
    assert_err_unchanged(&mut fx, DirectoryError::RateLimited { retry_after_secs: 60 }, |fx| {
        get_upload_token_impl(&mut fx.s, alice(), &tok(&fresh.upload_id, 0, 0), fx.now)
    });
}
