//! The upload state machine: start → token → mark → commit; abort; expiry;
//! double commit; commit after abort; bucket answers at commit.

use super::*;
use crate::jobs::reaper::{COMMIT_STALE_SECS, REAP_BATCH, reap_expired_uploads};
use crate::logic::CallFailure;
use crate::logic::commit::{begin_commit, finish_commit};
use crate::logic::upload::*;
use crate::model::deletions::DeleteReason;
use depot_api::BucketError;
use depot_api::error::InternalFault;
use depot_api::limits::DEFAULT_UPLOAD_SESSION_TTL_SECS;
use ic_cdk::api::call::RejectionCode;

#[test]
fn full_upload_start_token_mark_commit() {
    let mut fx = Fx::new();
    let size = 2 * CHUNK + 5;
    let res = fx.start_ok(alice(), size);
    assert_eq!(res.expected_chunk_count, 3);
    assert_eq!(res.chunk_size, CHUNK as u32);
    assert_eq!(res.bucket, bucket(1));
    assert_eq!(res.upload_id.len(), 16);
    assert_eq!(res.file_id.owner, alice());
    assert_eq!(res.expires_at_ns, fx.now + DEFAULT_UPLOAD_SESSION_TTL_SECS * NANOS_PER_SEC);

    let meta = crate::logic::files::get_file_meta_impl(&fx.s, alice(), &res.file_id).unwrap();
    assert_eq!(meta.status, FileStatus::Pending);
    assert_eq!(meta.mime, "application/pdf");
    let u = fx.usage(alice());
    assert_eq!((u.used_bytes, u.reserved_bytes, u.uploads_in_progress, u.files_count), (0, size, 1, 0));
    assert_eq!(fx.bucket_info(bucket(1)).reserved_bytes, size);

    let routes = route_chunks_impl(&fx.s, alice(), &res.upload_id, &[0, 2], fx.now).unwrap();
    assert_eq!(
        routes.routes,
        vec![ChunkRoute { chunk_index: 0, bucket: bucket(1) }, ChunkRoute { chunk_index: 2, bucket: bucket(1) }]
    );
    let tok = GetUploadTokenReq { upload_id: res.upload_id.clone(), first_chunk: 0, last_chunk: 2 };
    let token = get_upload_token_impl(&mut fx.s, alice(), &tok, fx.now).unwrap();
    assert_eq!(token.file_id, res.file_id);

    for i in [2, 0] {
        let m = MarkChunkUploadedReq { upload_id: res.upload_id.clone(), chunk_index: i, etag: None };
        mark_chunk_uploaded_impl(&mut fx.s, alice(), &m, fx.now).unwrap();
    }
    let progress = get_upload_impl(&fx.s, alice(), &res.upload_id, fx.now).unwrap();
    assert_eq!(progress.uploaded_chunks, vec![0, 2]);
    assert_eq!(progress.expected_size_bytes, size);

    let meta = fx.commit_ok(alice(), &res.upload_id);
    assert_eq!(meta.status, FileStatus::Ready);
    assert_eq!(meta.sha256.map(|h| h.into_vec()), Some(vec![0xcc; 32]), "hash reported by the bucket");
    let u = fx.usage(alice());
    assert_eq!((u.used_bytes, u.reserved_bytes, u.uploads_in_progress, u.files_count), (size, 0, 0, 1));
    let b = fx.bucket_info(bucket(1));
    assert_eq!((b.used_bytes, b.reserved_bytes, b.files_count), (size, 0, 1));
    // The session is gone: resume and a second commit find nothing.
    assert_eq!(get_upload_impl(&fx.s, alice(), &res.upload_id, fx.now), Err(DirectoryError::UploadNotFound));
    assert!(fx.s.upload_expiry.is_empty());
}

#[test]
fn double_commit_is_refused_while_committing_and_after() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 10);
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    assert_eq!(plan.bucket, bucket(1));
    assert_eq!(plan.args.file_id, res.file_id);
    assert_eq!(plan.args.name, "report.pdf");
    let busy = DirectoryError::InvalidRequest { reason: "a commit of this upload is already in progress".into() };
    assert_err_unchanged(&mut fx, busy, |fx| begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now));
    // Abort and token during the commit are refused too.
    let abort_busy = DirectoryError::InvalidRequest { reason: "a commit of this upload is in progress".into() };
    assert_err_unchanged(&mut fx, abort_busy.clone(), |fx| {
        abort_upload_impl(&mut fx.s, alice(), &res.upload_id, fx.now)
    });
    let tok = GetUploadTokenReq { upload_id: res.upload_id.clone(), first_chunk: 0, last_chunk: 0 };
    assert_eq!(get_upload_token_impl(&mut fx.s, alice(), &tok, fx.now), Err(abort_busy));

    let ok = depot_api::bucket::CommitFileOk { size_bytes: 10, sha256: None, etag: "e".into() };
    finish_commit(&mut fx.s, &plan.upload_id, Ok(Ok(ok)), fx.now).result.unwrap();
    assert_err_unchanged(&mut fx, DirectoryError::UploadNotFound, |fx| {
        begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now)
    });
    assert_eq!(fx.usage(alice()).used_bytes, 10);
}

#[test]
fn abort_releases_everything_and_queues_chunk_deletion() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 3 * MIB);
    let key = abort_upload_impl(&mut fx.s, alice(), &res.upload_id, fx.now).unwrap();
    let u = fx.usage(alice());
    assert_eq!((u.reserved_bytes, u.uploads_in_progress, u.used_bytes), (0, 0, 0));
    assert_eq!(fx.bucket_info(bucket(1)).reserved_bytes, 0);
    assert_eq!(crate::logic::files::get_file_meta_impl(&fx.s, alice(), &res.file_id), Err(DirectoryError::NotFound));
    let queued = fx.s.pending_deletes.get(&key).unwrap();
    assert_eq!((queued.file_id, queued.bucket, queued.reason), (res.file_id, bucket(1), DeleteReason::UploadAborted));
    // Commit or abort after abort: the upload no longer exists.
    assert_err_unchanged(&mut fx, DirectoryError::UploadNotFound, |fx| {
        begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now)
    });
    assert_err_unchanged(&mut fx, DirectoryError::UploadNotFound, |fx| {
        abort_upload_impl(&mut fx.s, alice(), &res.upload_id, fx.now)
    });
}

#[test]
fn expired_sessions_are_refused_then_reaped() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), MIB);
    let keep = {
        fx.advance_secs(3600);
        fx.start_ok(alice(), MIB)
    };
    fx.now = res.expires_at_ns - 1;
    assert_eq!(reap_expired_uploads(&mut fx.s, fx.now, REAP_BATCH), vec![]);
    assert!(get_upload_impl(&fx.s, alice(), &res.upload_id, fx.now).is_ok());

    fx.now = res.expires_at_ns;
    assert_err_unchanged(&mut fx, DirectoryError::UploadExpired, |fx| {
        begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now)
    });
    let tok = GetUploadTokenReq { upload_id: res.upload_id.clone(), first_chunk: 0, last_chunk: 0 };
    assert_eq!(get_upload_token_impl(&mut fx.s, alice(), &tok, fx.now), Err(DirectoryError::UploadExpired));

    let queued = reap_expired_uploads(&mut fx.s, fx.now, REAP_BATCH);
    assert_eq!(queued.len(), 1);
    assert_eq!(fx.s.pending_deletes.get(&queued[0]).unwrap().file_id, res.file_id);
    let u = fx.usage(alice());
    assert_eq!((u.reserved_bytes, u.uploads_in_progress), (MIB, 1), "only the younger upload remains");
    assert_eq!(fx.bucket_info(bucket(1)).reserved_bytes, MIB);
    assert!(get_upload_impl(&fx.s, alice(), &keep.upload_id, fx.now).is_ok());
    assert_eq!(get_upload_impl(&fx.s, alice(), &res.upload_id, fx.now), Err(DirectoryError::UploadNotFound));
}

#[test]
fn reaper_respects_its_batch_and_skips_running_commits_until_stale() {
    let mut fx = Fx::new();
    let a = fx.start_ok(alice(), 1);
    let b = fx.start_ok(alice(), 1);
    let c = fx.start_ok(bob(), 1);
    let commit_at = c.expires_at_ns - 10 * NANOS_PER_SEC;
    begin_commit(&mut fx.s, alice(), &commit_req(&a.upload_id), commit_at).unwrap();
    fx.now = c.expires_at_ns;
    assert_eq!(reap_expired_uploads(&mut fx.s, fx.now, 1).len(), 1);
    assert_eq!(reap_expired_uploads(&mut fx.s, fx.now, 10).len(), 1, "the committing session is skipped");
    assert_eq!(reap_expired_uploads(&mut fx.s, fx.now, 10).len(), 0);
    assert!(fx.s.upload(&a.upload_id).is_some());
    assert!(fx.s.upload(&b.upload_id).is_none());
    // A commit still unanswered after COMMIT_STALE_SECS is considered lost.
    fx.now = commit_at + COMMIT_STALE_SECS * NANOS_PER_SEC - 1;
    assert_eq!(reap_expired_uploads(&mut fx.s, fx.now, 10).len(), 0);
    fx.now += 1;
    assert_eq!(reap_expired_uploads(&mut fx.s, fx.now, 10).len(), 1);
    assert!(fx.s.uploads.is_empty());
    assert_eq!(fx.usage(alice()).reserved_bytes, 0);
}

#[test]
fn bucket_says_incomplete_then_commit_succeeds_on_retry() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 3 * MIB);
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    let out =
        finish_commit(&mut fx.s, &plan.upload_id, Ok(Err(BucketError::UploadIncomplete { missing: vec![1] })), fx.now);
    assert_eq!(out.result, Err(DirectoryError::UploadIncomplete { missing: vec![1] }));
    assert!(out.queued_delete.is_none());
    assert_eq!(fx.usage(alice()).reserved_bytes, 3 * MIB, "still reserved");
    // Back to Pending: tokens work again, and a new commit can succeed.
    let tok = GetUploadTokenReq { upload_id: res.upload_id.clone(), first_chunk: 1, last_chunk: 1 };
    assert!(get_upload_token_impl(&mut fx.s, alice(), &tok, fx.now).is_ok());
    assert_eq!(fx.commit_ok(alice(), &res.upload_id).status, FileStatus::Ready);
}

#[test]
fn rejected_bucket_call_or_bucket_error_returns_to_pending() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 10);
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    let failure = CallFailure::Rejected { code: RejectionCode::SysTransient, message: "down".into() };
    let out = finish_commit(&mut fx.s, &plan.upload_id, Err(failure), fx.now);
    assert_eq!(out.result.unwrap_err().fault(), Some(InternalFault::BucketCallFailed));
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    let out = finish_commit(&mut fx.s, &plan.upload_id, Ok(Err(BucketError::ReadOnly)), fx.now);
    assert_eq!(out.result, Err(DirectoryError::Bucket { bucket: bucket(1), error: BucketError::ReadOnly }));
    assert!(begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).is_ok());
}

#[test]
fn hash_mismatch_aborts_the_upload() {
    let mut fx = Fx::new();
    let mut r = req(5 * MIB);
    r.sha256 = Some(ByteBuf::from(vec![1; 32]));
    let res = start_upload_impl(&mut fx.s, alice(), r, fx.now).unwrap();
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    let mismatch = BucketError::HashMismatch { expected: vec![1; 32], actual: vec![2; 32] };
    let out = finish_commit(&mut fx.s, &plan.upload_id, Ok(Err(mismatch)), fx.now);
    assert_eq!(out.result, Err(DirectoryError::HashMismatch));
    let key = out.queued_delete.expect("partial chunks queued for deletion");
    assert_eq!(fx.s.pending_deletes.get(&key).unwrap().reason, DeleteReason::UploadAborted);
    let u = fx.usage(alice());
    assert_eq!((u.reserved_bytes, u.uploads_in_progress), (0, 0));
    assert_eq!(fx.bucket_info(bucket(1)).reserved_bytes, 0);
    assert!(fx.s.upload(&res.upload_id).is_none());
}

#[test]
fn final_sha256_must_match_the_declared_one() {
    let mut fx = Fx::new();
    let mut r = req(10);
    r.sha256 = Some(ByteBuf::from(vec![7; 32]));
    let res = start_upload_impl(&mut fx.s, alice(), r, fx.now).unwrap();
    let mut c = commit_req(&res.upload_id);
    c.final_sha256 = Some(ByteBuf::from(vec![8; 32]));
    let e = DirectoryError::InvalidRequest {
        reason: "final_sha256 differs from the SHA-256 declared at start_upload".into(),
    };
    assert_err_unchanged(&mut fx, e, |fx| begin_commit(&mut fx.s, alice(), &c, fx.now));
    c.final_sha256 = Some(ByteBuf::from(vec![7; 31]));
    let e = DirectoryError::InvalidRequest { reason: "final_sha256 must be 32 bytes".into() };
    assert_err_unchanged(&mut fx, e, |fx| begin_commit(&mut fx.s, alice(), &c, fx.now));
    c.final_sha256 = None;
    c.uploaded_chunk_count = Some(2);
    let e = DirectoryError::InvalidRequest { reason: "uploaded_chunk_count 2 ≠ chunk count 1".into() };
    assert_err_unchanged(&mut fx, e, |fx| begin_commit(&mut fx.s, alice(), &c, fx.now));
    c.final_sha256 = Some(ByteBuf::from(vec![7; 32]));
    c.uploaded_chunk_count = Some(1);
    assert!(begin_commit(&mut fx.s, alice(), &c, fx.now).is_ok());
}

#[test]
fn final_sha256_without_a_declared_one_is_refused_not_ignored() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 10);
    let mut c = commit_req(&res.upload_id);
    c.final_sha256 = Some(ByteBuf::from(vec![7; 32]));
    let e = DirectoryError::InvalidRequest {
        reason: "final_sha256 needs a SHA-256 declared at start_upload to be checked against".into(),
    };
    assert_err_unchanged(&mut fx, e, |fx| begin_commit(&mut fx.s, alice(), &c, fx.now));
    c.final_sha256 = None;
    assert!(begin_commit(&mut fx.s, alice(), &c, fx.now).is_ok());
}

#[test]
fn already_committed_answer_counts_as_success() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 10);
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    let out = finish_commit(&mut fx.s, &plan.upload_id, Ok(Err(BucketError::AlreadyCommitted)), fx.now);
    assert_eq!(out.result.unwrap().status, FileStatus::Ready);
    assert_eq!(fx.usage(alice()).used_bytes, 10);
}

#[test]
fn delete_pending_file_aborts_its_upload() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 10);
    let (del, _) = crate::logic::files::delete_file_impl(&mut fx.s, alice(), &res.file_id, fx.now).unwrap();
    assert_eq!(del.freed_bytes, 0);
    assert!(fx.s.uploads.is_empty());
    assert_eq!(fx.usage(alice()).reserved_bytes, 0);
}

#[test]
fn mark_chunk_checks_index_and_etag() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 2 * MIB);
    let m = |i, etag: Option<Vec<u8>>| MarkChunkUploadedReq {
        upload_id: res.upload_id.clone(),
        chunk_index: i,
        etag: etag.map(ByteBuf::from),
    };
    let e = DirectoryError::InvalidRequest { reason: "chunk index 2 ≥ chunk count 2".into() };
    assert_err_unchanged(&mut fx, e, |fx| mark_chunk_uploaded_impl(&mut fx.s, alice(), &m(2, None), fx.now));
    let e = DirectoryError::InvalidRequest { reason: "etag must be the chunk's 32-byte SHA-256".into() };
    assert_err_unchanged(&mut fx, e, |fx| {
        mark_chunk_uploaded_impl(&mut fx.s, alice(), &m(1, Some(vec![1; 3])), fx.now)
    });
    mark_chunk_uploaded_impl(&mut fx.s, alice(), &m(1, Some(vec![1; 32])), fx.now).unwrap();
    // Marking twice is idempotent.
    mark_chunk_uploaded_impl(&mut fx.s, alice(), &m(1, None), fx.now).unwrap();
    assert_eq!(get_upload_impl(&fx.s, alice(), &res.upload_id, fx.now).unwrap().uploaded_chunks, vec![1]);
}

#[test]
fn route_chunks_checks_indices() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 2 * MIB);
    assert_eq!(
        route_chunks_impl(&fx.s, alice(), &res.upload_id, &[0, 2], fx.now),
        Err(DirectoryError::InvalidRequest { reason: "chunk index 2 ≥ chunk count 2".into() })
    );
    let many = vec![0u32; depot_api::limits::MAX_CHUNK_INDICES_PER_CALL + 1];
    assert!(matches!(
        route_chunks_impl(&fx.s, alice(), &res.upload_id, &many, fx.now),
        Err(DirectoryError::InvalidRequest { .. })
    ));
    let max = vec![1u32; depot_api::limits::MAX_CHUNK_INDICES_PER_CALL];
    assert_eq!(route_chunks_impl(&fx.s, alice(), &res.upload_id, &max, fx.now).unwrap().routes.len(), max.len());
    assert_eq!(route_chunks_impl(&fx.s, alice(), &[1; 16], &[0], fx.now), Err(DirectoryError::UploadNotFound));
    assert_eq!(route_chunks_impl(&fx.s, alice(), &[1; 3], &[0], fx.now), Err(DirectoryError::UploadNotFound));
}

#[test]
fn state_survives_reopening_stable_memory() {
    // What an upgrade does: the heap is gone, stable memory stays.
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 10);
    let open = fx.start_ok(alice(), 20);
    let settings = fx.s.settings().clone();
    let keys = fx.s.public_keys();
    let reopened = crate::model::State::load(fx.memory());
    assert_eq!(reopened.settings(), &settings);
    assert_eq!(reopened.public_keys(), keys);
    assert_eq!(reopened.runtime(), fx.s.runtime());
    let meta = crate::logic::files::get_file_meta_impl(&reopened, alice(), &file).unwrap();
    assert_eq!(meta.status, FileStatus::Ready);
    assert_eq!(get_upload_impl(&reopened, alice(), &open.upload_id, fx.now).unwrap().expected_size_bytes, 20);
    let u = crate::logic::admin::get_usage_impl(&reopened, alice(), None, false).unwrap();
    assert_eq!((u.used_bytes, u.reserved_bytes), (10, 20));
}

#[test]
fn a_commit_answer_after_its_session_was_reaped_is_an_internal_error() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 10);
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    fx.now = res.expires_at_ns.max(T0 + COMMIT_STALE_SECS * NANOS_PER_SEC);
    let queued = reap_expired_uploads(&mut fx.s, fx.now, REAP_BATCH);
    assert_eq!(queued.len(), 1, "a lost commit is reaped");
    let ok = depot_api::bucket::CommitFileOk { size_bytes: 10, sha256: None, etag: "e".into() };
    let out = finish_commit(&mut fx.s, &plan.upload_id, Ok(Ok(ok)), fx.now);
    assert_eq!(out.result.unwrap_err().fault(), Some(InternalFault::CommitSessionLost));
    // Nothing was counted; the bucket copy is deleted through the queue.
    let u = fx.usage(alice());
    assert_eq!((u.used_bytes, u.reserved_bytes, u.files_count), (0, 0, 0));
    assert_eq!(fx.s.pending_deletes.get(&queued[0]).unwrap().file_id, res.file_id);
}

#[test]
fn memory_stats_name_every_structure() {
    let mut fx = Fx::new();
    fx.ready_file(alice(), 10);
    let stats = crate::logic::admin::admin_get_memory_stats_impl(&fx.s);
    assert_eq!(stats.len(), crate::model::memory::ALL_MEMORIES.len());
    for name in ["settings", "users", "files", "file_index", "buckets", "signing_keys"] {
        assert!(stats.iter().any(|m| m.name == name && m.bytes > 0), "{name}: {stats:?}");
    }
}

#[test]
fn call_failures_map_to_typed_faults() {
    let rejected = CallFailure::Rejected { code: RejectionCode::CanisterError, message: "trapped".into() };
    let e = DirectoryError::from(rejected);
    assert_eq!(e.fault(), Some(InternalFault::BucketCallFailed));
    assert_eq!(
        e,
        DirectoryError::InternalError { code: 1, message: "bucket call rejected (code 5): trapped".into() },
        "code and message as before the typed faults"
    );
    let e = DirectoryError::from(CallFailure::StillHashing { rounds: crate::MAX_COMMIT_ROUNDS });
    assert_eq!(e.fault(), Some(InternalFault::BucketStillHashing));
    assert!(e.to_string().contains("still hashing after 1000 calls"), "{e}");
}

#[test]
fn an_empty_file_has_no_chunks_and_commits_with_its_record_for_the_bucket() {
    let mut fx = Fx::new();
    let empty_sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"").into();
    let start = StartUploadReq { sha256: Some(ByteBuf::from(empty_sha.to_vec())), ..req(0) };
    let res = start_upload_impl(&mut fx.s, alice(), start, fx.now).unwrap();
    assert_eq!((res.expected_chunk_count, res.chunk_size), (0, fx.s.settings().chunk_size));
    assert_eq!(fx.usage(alice()).uploads_in_progress, 1);
    // The plan tells the bucket to create the record no put_chunk made.
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    let empty = plan.args.empty_file.clone().expect("an empty file's commit carries its record");
    assert_eq!(empty.chunk_size, res.chunk_size);
    assert_eq!(empty.sha256.map(|h| h.into_vec()), Some(empty_sha.to_vec()));
    let ok = CommitFileOk { size_bytes: 0, sha256: Some(ByteBuf::from(empty_sha.to_vec())), etag: "\"e\"".into() };
    let meta = finish_commit(&mut fx.s, &plan.upload_id, Ok(Ok(ok)), fx.now).result.unwrap();
    assert_eq!((meta.size_bytes, meta.chunk_count), (0, 0));
    fx.books();
    // Its download plan locates no chunk; the file still has a URL.
    let plan = crate::logic::files::get_download_plan_impl(&fx.s, alice(), &meta.file_id).unwrap();
    assert!(plan.locations.is_empty());
    assert_eq!(fx.usage(alice()).uploads_in_progress, 0);
    // A file of one byte still commits without `empty_file`.
    let one = fx.start_ok(alice(), 1);
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&one.upload_id), fx.now).unwrap();
    assert_eq!(plan.args.empty_file, None);
}
