//! list_files: stable order across pages, limit cap, pending filter,
//! deleted files hidden.

use super::*;
use crate::logic::files::{delete_file_impl, list_files_impl};
use crate::logic::upload::start_upload_impl;
use depot_api::limits::{DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, MAX_LIST_SCAN, MAX_NAME_BYTES};

fn page(fx: &Fx, user: Principal, cursor: Option<ByteBuf>, limit: Option<u32>, pending: bool) -> ListFilesRes {
    list_files_impl(&fx.s, user, &ListFilesReq { cursor, limit, include_pending: Some(pending), name_contains: None })
        .unwrap()
}

fn all_pages(fx: &Fx, user: Principal, limit: u32, pending: bool) -> Vec<FileId> {
    let mut out = vec![];
    let mut cursor = None;
    loop {
        let p = page(fx, user, cursor, Some(limit), pending);
        assert!(p.files.len() <= limit as usize);
        out.extend(p.files.into_iter().map(|f| f.file_id));
        match p.next {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

#[test]
fn pages_are_stable_in_creation_order() {
    let mut fx =
        Fx::with(DirectoryInit { start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE), ..Default::default() });
    let mut created = vec![];
    for i in 0..7 {
        created.push(fx.ready_file(alice(), 10 + i));
        fx.ready_file(bob(), 1); // interleaved other owner
    }
    for limit in [1, 2, 3, 7, 100] {
        assert_eq!(all_pages(&fx, alice(), limit, false), created, "limit {limit}");
    }
    // A page that ends exactly at the last file has no `next`.
    let p = page(&fx, alice(), None, Some(7), false);
    assert_eq!((p.files.len(), p.next), (7, None));
    // Adding a file between pages does not reorder earlier ones.
    let p1 = page(&fx, alice(), None, Some(3), false);
    let newer = fx.ready_file(alice(), 1);
    let rest = all_pages_from(&fx, alice(), p1.next.clone());
    let mut expected = created[3..].to_vec();
    expected.push(newer);
    assert_eq!(rest, expected);
}

fn all_pages_from(fx: &Fx, user: Principal, cursor: Option<ByteBuf>) -> Vec<FileId> {
    let p = page(fx, user, cursor, Some(MAX_LIST_LIMIT), false);
    assert!(p.next.is_none());
    p.files.into_iter().map(|f| f.file_id).collect()
}

#[test]
fn limit_defaults_and_cap() {
    let mut fx = Fx::with(DirectoryInit {
        start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE),
        max_uploads_in_progress: Some(MAX_UPLOADS_IN_PROGRESS),
        ..Default::default()
    });
    let n = MAX_LIST_LIMIT + 5;
    for _ in 0..n {
        let r = fx.start_ok(alice(), 1);
        fx.commit_ok(alice(), &r.upload_id);
        fx.advance_secs(1); // under the highest rate limit
    }
    let p = page(&fx, alice(), None, None, false);
    assert_eq!(p.files.len(), DEFAULT_LIST_LIMIT as usize);
    let p = page(&fx, alice(), None, Some(u32::MAX), false);
    assert_eq!(p.files.len(), MAX_LIST_LIMIT as usize);
    assert_eq!(page(&fx, alice(), p.next, Some(u32::MAX), false).files.len(), 5);
    // limit 0 is treated as 1, not as an empty page that never advances.
    assert_eq!(page(&fx, alice(), None, Some(0), false).files.len(), 1);
}

#[test]
fn pending_only_on_request_and_deleted_hidden() {
    let mut fx = Fx::new();
    let ready = fx.ready_file(alice(), 1);
    let pending = fx.start_ok(alice(), 1).file_id;
    fx.advance_secs(13);
    let gone = fx.ready_file(alice(), 1);
    delete_file_impl(&mut fx.s, alice(), &gone, fx.now).unwrap();
    assert_eq!(all_pages(&fx, alice(), 1, false), vec![ready.clone()]);
    assert_eq!(all_pages(&fx, alice(), 1, true), vec![ready, pending]);
    assert!(all_pages(&fx, bob(), 10, true).is_empty());
}

#[test]
fn malformed_cursor_is_refused() {
    let fx = Fx::new();
    let r = ListFilesReq {
        cursor: Some(ByteBuf::from(vec![1, 2, 3])),
        limit: None,
        include_pending: None,
        name_contains: None,
    };
    assert_eq!(
        list_files_impl(&fx.s, alice(), &r),
        Err(DirectoryError::InvalidRequest { reason: "malformed cursor".into() })
    );
}

fn named_file(fx: &mut Fx, user: Principal, name: &str) -> FileId {
    let r = start_upload_impl(&mut fx.s, user, StartUploadReq { name: name.into(), ..req(1) }, fx.now).unwrap();
    fx.commit_ok(user, &r.upload_id);
    fx.advance_secs(13);
    r.file_id
}

fn search(fx: &Fx, user: Principal, text: &str, cursor: Option<ByteBuf>, limit: u32) -> ListFilesResult {
    let r = ListFilesReq { cursor, limit: Some(limit), include_pending: None, name_contains: Some(text.into()) };
    list_files_impl(&fx.s, user, &r)
}

#[test]
fn search_by_name_is_a_case_insensitive_substring_across_pages() {
    let mut fx = Fx::new();
    let a = named_file(&mut fx, alice(), "Holiday/Beach.JPG");
    named_file(&mut fx, alice(), "notes.txt");
    let b = named_file(&mut fx, alice(), "2024/beach-ÉTÉ.mp4");
    named_file(&mut fx, bob(), "beach.png"); // another owner's
    let mut found = vec![];
    let mut cursor = None;
    loop {
        let p = search(&fx, alice(), "BEACH", cursor, 1).unwrap();
        found.extend(p.files.into_iter().map(|f| f.file_id));
        match p.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(found, vec![a, b.clone()]);
    // Unicode lowercase, not ASCII only; empty text means no filter.
    assert_eq!(search(&fx, alice(), "été", None, 10).unwrap().files.len(), 1);
    assert_eq!(search(&fx, alice(), "", None, 10).unwrap().files.len(), 3);
    assert!(search(&fx, alice(), "absent", None, 10).unwrap().files.is_empty());
}

#[test]
fn search_text_at_the_name_limit_is_accepted_and_past_it_refused() {
    let fx = Fx::new();
    assert!(search(&fx, alice(), &"a".repeat(MAX_NAME_BYTES), None, 10).unwrap().files.is_empty());
    assert!(matches!(
        search(&fx, alice(), &"a".repeat(MAX_NAME_BYTES + 1), None, 10),
        Err(DirectoryError::InvalidRequest { .. })
    ));
}

#[test]
fn one_call_examines_at_most_max_list_scan_files() {
    let mut fx = Fx::with(DirectoryInit {
        start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE),
        max_uploads_in_progress: Some(MAX_UPLOADS_IN_PROGRESS),
        ..Default::default()
    });
    for _ in 0..MAX_LIST_SCAN {
        let r = fx.start_ok(alice(), 1);
        fx.commit_ok(alice(), &r.upload_id);
        fx.advance_secs(1);
    }
    let hit = named_file(&mut fx, alice(), "needle.bin");
    // The first call examines MAX_LIST_SCAN files, finds none and says where to go on.
    let p = search(&fx, alice(), "needle", None, 10).unwrap();
    assert!(p.files.is_empty());
    let p = search(&fx, alice(), "needle", Some(p.next.expect("a cursor past the examined files")), 10).unwrap();
    assert_eq!((p.files.into_iter().map(|f| f.file_id).collect::<Vec<_>>(), p.next), (vec![hit], None));
}
