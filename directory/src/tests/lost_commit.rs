//! A commit whose second half never runs (the directory was upgraded while
//! `commit_file` was out, or the callback trapped) leaves its session in
//! Committing. Once the commit is stale (`COMMIT_STALE_SECS`) the session
//! counts as Pending again: it can be committed again, aborted or deleted,
//! and the reaper ends it at expiry (`upload_flow`). Before that, all of
//! these are refused.

use super::*;
use crate::logic::commit::{COMMIT_STALE_SECS, commit_in_flight};
use crate::logic::files::delete_file_impl;
use crate::logic::upload::{abort_upload_impl, get_upload_token_impl};
use depot_api::bucket::CommitFileOk;

/// Starts an upload of `size` for alice and begins its commit, whose answer
/// never comes back.
fn lost_commit(fx: &mut Fx, size: u64) -> StartUploadRes {
    let res = fx.start_ok(alice(), size);
    begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    res
}

fn busy(what: &str) -> DirectoryError {
    DirectoryError::InvalidRequest { reason: format!("a commit of this {what} in progress") }
}

#[test]
fn a_lost_commit_blocks_its_upload_only_until_it_is_stale() {
    let mut fx = Fx::new();
    let res = lost_commit(&mut fx, 3 * MIB);
    let session = fx.s.upload(&res.upload_id).unwrap();
    let tok = GetUploadTokenReq { upload_id: res.upload_id.clone(), first_chunk: 0, last_chunk: 0 };
    fx.advance_secs(COMMIT_STALE_SECS - 1);
    assert!(commit_in_flight(&session, fx.now));
    assert_err_unchanged(&mut fx, busy("upload is already"), |fx| {
        begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now)
    });
    assert_err_unchanged(&mut fx, busy("upload is"), |fx| {
        abort_upload_impl(&mut fx.s, alice(), &res.upload_id, fx.now)
    });
    assert_err_unchanged(&mut fx, busy("file is"), |fx| delete_file_impl(&mut fx.s, alice(), &res.file_id, fx.now));
    assert_eq!(get_upload_token_impl(&mut fx.s, alice(), &tok, fx.now), Err(busy("upload is")));

    // Stale: the commit is retried; the bucket, which committed the first
    // time, answers as committed, and the books settle once.
    fx.advance_secs(1);
    assert!(!commit_in_flight(&session, fx.now));
    assert!(get_upload_token_impl(&mut fx.s, alice(), &tok, fx.now).is_ok());
    let plan = begin_commit(&mut fx.s, alice(), &commit_req(&res.upload_id), fx.now).unwrap();
    assert!(commit_in_flight(&fx.s.upload(&res.upload_id).unwrap(), fx.now), "the retry is in flight");
    let ok = CommitFileOk { size_bytes: 3 * MIB, sha256: None, etag: "\"e\"".into() };
    let meta = finish_commit(&mut fx.s, &plan.upload_id, Ok(Ok(ok)), fx.now).result.unwrap();
    assert_eq!(meta.status, FileStatus::Ready);
    fx.books();
    let u = fx.usage(alice());
    assert_eq!((u.used_bytes, u.files_count, u.reserved_bytes, u.uploads_in_progress), (3 * MIB, 1, 0, 0));
    // Should the lost answer arrive after all, it finds no session.
    let late = finish_commit(&mut fx.s, &plan.upload_id, Ok(Err(depot_api::BucketError::AlreadyCommitted)), fx.now);
    assert!(late.result.is_err());
    fx.books();
    assert_eq!(fx.usage(alice()).used_bytes, 3 * MIB, "settled once");
}

#[test]
fn a_stale_commit_can_be_aborted_or_deleted() {
    let mut fx = Fx::new();
    let a = lost_commit(&mut fx, MIB);
    let b = lost_commit(&mut fx, 2 * MIB);
    fx.advance_secs(COMMIT_STALE_SECS);
    abort_upload_impl(&mut fx.s, alice(), &a.upload_id, fx.now).unwrap();
    let (res, _) = delete_file_impl(&mut fx.s, alice(), &b.file_id, fx.now).unwrap();
    assert_eq!(res.freed_bytes, 0, "a Pending file frees no used bytes");
    fx.books();
    let u = fx.usage(alice());
    assert_eq!((u.reserved_bytes, u.uploads_in_progress), (0, 0));
    assert!(fx.s.uploads.is_empty());
    assert_eq!(fx.s.pending_deletes.len(), 2, "both buckets sweeps queued");
}
