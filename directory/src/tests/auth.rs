//! Owner-only access and anonymous callers.

use super::*;
use crate::logic::admin::*;
use crate::logic::commit::begin_commit;
use crate::logic::files::*;
use crate::logic::upload::*;

#[test]
fn other_users_files_are_unauthorised_unknown_own_are_not_found() {
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 10);
    assert_eq!(get_file_meta_impl(&fx.s, bob(), &file), Err(DirectoryError::Unauthorised));
    assert_eq!(get_download_plan_impl(&fx.s, bob(), &file), Err(DirectoryError::Unauthorised));
    let url = GetDownloadUrlReq { file_id: file.clone(), ttl_secs: None, disposition: None };
    assert_eq!(get_download_url_impl(&fx.s, bob(), &url, fx.now), Err(DirectoryError::Unauthorised));
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| delete_file_impl(&mut fx.s, bob(), &file, fx.now));
    // Bob naming Alice's file key as his own: not found, not leaked.
    let forged = FileId { owner: bob(), id: file.id.clone() };
    assert_eq!(get_file_meta_impl(&fx.s, bob(), &forged), Err(DirectoryError::NotFound));
    assert_err_unchanged(&mut fx, DirectoryError::NotFound, |fx| delete_file_impl(&mut fx.s, bob(), &forged, fx.now));
    let unknown = FileId { owner: alice(), id: vec![9; 16] };
    assert_eq!(get_file_meta_impl(&fx.s, alice(), &unknown), Err(DirectoryError::NotFound));
    let short = FileId { owner: alice(), id: vec![9; 3] };
    assert_eq!(get_download_plan_impl(&fx.s, alice(), &short), Err(DirectoryError::NotFound));
}

#[test]
fn other_users_uploads_are_unauthorised() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 10);
    let id = res.upload_id.clone();
    assert_eq!(route_chunks_impl(&fx.s, bob(), &id, &[0], fx.now), Err(DirectoryError::Unauthorised));
    let tok = GetUploadTokenReq { upload_id: id.clone(), first_chunk: 0, last_chunk: 0 };
    assert_eq!(get_upload_token_impl(&mut fx.s, bob(), &tok, fx.now), Err(DirectoryError::Unauthorised));
    assert_eq!(get_upload_impl(&fx.s, bob(), &id, fx.now), Err(DirectoryError::Unauthorised));
    let mark = MarkChunkUploadedReq { upload_id: id.clone(), chunk_index: 0, etag: None };
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| {
        mark_chunk_uploaded_impl(&mut fx.s, bob(), &mark, fx.now)
    });
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| {
        begin_commit(&mut fx.s, bob(), &commit_req(&id), fx.now)
    });
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| abort_upload_impl(&mut fx.s, bob(), &id, fx.now));
}

#[test]
fn anonymous_is_refused_everywhere() {
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 10);
    let res = fx.start_ok(alice(), 10);
    let id = res.upload_id.clone();
    let anon_file = FileId { owner: anon(), id: file.id.clone() };
    let u = DirectoryError::Unauthorised;
    assert_err_unchanged(&mut fx, u.clone(), |fx| fx.start(anon(), 10));
    assert_eq!(route_chunks_impl(&fx.s, anon(), &id, &[0], fx.now), Err(u.clone()));
    let tok = GetUploadTokenReq { upload_id: id.clone(), first_chunk: 0, last_chunk: 0 };
    assert_eq!(get_upload_token_impl(&mut fx.s, anon(), &tok, fx.now), Err(u.clone()));
    assert_eq!(get_upload_impl(&fx.s, anon(), &id, fx.now), Err(u.clone()));
    assert_err_unchanged(&mut fx, u.clone(), |fx| begin_commit(&mut fx.s, anon(), &commit_req(&id), fx.now));
    assert_err_unchanged(&mut fx, u.clone(), |fx| abort_upload_impl(&mut fx.s, anon(), &id, fx.now));
    assert_err_unchanged(&mut fx, u.clone(), |fx| delete_file_impl(&mut fx.s, anon(), &anon_file, fx.now));
    assert_eq!(list_files_impl(&fx.s, anon(), &ListFilesReq::default()), Err(u.clone()));
    assert_eq!(get_file_meta_impl(&fx.s, anon(), &anon_file), Err(u.clone()));
    assert_eq!(get_download_plan_impl(&fx.s, anon(), &anon_file), Err(u.clone()));
    assert_eq!(get_usage_impl(&fx.s, anon(), None, false), Err(u.clone()));
}

#[test]
fn usage_of_others_only_for_controllers() {
    let mut fx = Fx::new();
    fx.ready_file(alice(), 10);
    assert_eq!(get_usage_impl(&fx.s, bob(), Some(alice()), false), Err(DirectoryError::Unauthorised));
    assert_eq!(get_usage_impl(&fx.s, bob(), Some(alice()), true).unwrap().used_bytes, 10);
    assert_eq!(get_usage_impl(&fx.s, alice(), Some(alice()), false).unwrap().used_bytes, 10);
    assert_eq!(require_admin(false), Err(DirectoryError::Unauthorised));
    assert_eq!(
        admin_set_quota_impl(&mut fx.s, anon(), 1),
        Err(DirectoryError::InvalidRequest { reason: "the anonymous principal has no account".into() })
    );
}

#[test]
fn pending_and_deleted_files_have_no_download() {
    let mut fx = Fx::new();
    let pending = fx.start_ok(alice(), 10).file_id;
    let not_ready = DirectoryError::InvalidRequest { reason: "file is not ready: its upload is not committed".into() };
    assert_eq!(get_download_plan_impl(&fx.s, alice(), &pending), Err(not_ready.clone()));
    let url = GetDownloadUrlReq { file_id: pending, ttl_secs: None, disposition: None };
    assert_eq!(get_download_url_impl(&fx.s, alice(), &url, fx.now), Err(not_ready));
    fx.advance_secs(13);
    let file = fx.ready_file(alice(), 10);
    let (res, _) = delete_file_impl(&mut fx.s, alice(), &file, fx.now).unwrap();
    assert_eq!(res.freed_bytes, 10);
    assert_eq!(get_file_meta_impl(&fx.s, alice(), &file), Err(DirectoryError::NotFound));
    assert_eq!(get_download_plan_impl(&fx.s, alice(), &file), Err(DirectoryError::NotFound));
    assert_err_unchanged(&mut fx, DirectoryError::NotFound, |fx| delete_file_impl(&mut fx.s, alice(), &file, fx.now));
}
