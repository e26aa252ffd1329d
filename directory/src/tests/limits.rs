//! Quota, rate limit, in-progress cap and size edges.

use super::*;
use crate::logic::admin::admin_set_quota_impl;
use crate::logic::upload::abort_upload_impl;
use depot_api::limits::*;

#[test]
fn quota_edges_minus_one_exact_plus_one() {
    for (size, ok) in [(999, true), (1000, true), (1001, false)] {
        let mut fx = Fx::new();
        admin_set_quota_impl(&mut fx.s, alice(), 1000).unwrap();
        if ok {
            fx.start_ok(alice(), size);
            let u = fx.usage(alice());
            assert_eq!(u.reserved_bytes, size);
        } else {
            let e = DirectoryError::QuotaExceeded { requested: 1001, available: 1000 };
            assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), size));
        }
    }
}

#[test]
fn quota_counts_used_and_reserved() {
    let mut fx = Fx::new();
    admin_set_quota_impl(&mut fx.s, alice(), 1000).unwrap();
    fx.ready_file(alice(), 600); // used 600
    fx.start_ok(alice(), 300); // reserved 300
    let e = DirectoryError::QuotaExceeded { requested: 101, available: 100 };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), 101));
    fx.start_ok(alice(), 100);
    assert_eq!(fx.usage(alice()).quota_bytes, 1000);
    // Default quota for a user the admin never touched.
    assert_eq!(fx.usage(bob()).quota_bytes, DEFAULT_USER_QUOTA_BYTES);
}

#[test]
fn default_quota_setting_applies_at_its_edge() {
    let mut fx = Fx::with(DirectoryInit { default_quota_bytes: Some(50), ..Default::default() });
    let e = DirectoryError::QuotaExceeded { requested: 51, available: 50 };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), 51));
    fx.start_ok(alice(), 50);
}

/// The default rate's edge: its last start is accepted, the next refused
/// until the window lets the first go. (The uploads-in-progress cap, 10 by
/// default, would answer first: it is raised out of the way.)
fn fx_for_rate() -> Fx {
    Fx::with(DirectoryInit { max_uploads_in_progress: Some(MAX_UPLOADS_IN_PROGRESS), ..Default::default() })
}

#[test]
fn rate_limit_last_ok_next_refused_ok_after_window() {
    let mut fx = fx_for_rate();
    let t0 = fx.now;
    for i in 0..DEFAULT_START_UPLOAD_PER_MINUTE as u64 {
        fx.now = t0 + i * NANOS_PER_SEC / 10;
        fx.start_ok(alice(), 1);
    }
    fx.now = t0 + 30 * NANOS_PER_SEC;
    assert_err_unchanged(&mut fx, DirectoryError::RateLimited { retry_after_secs: 30 }, |fx| fx.start(alice(), 1));
    fx.now = t0 + RATE_WINDOW_SECS * NANOS_PER_SEC - 1;
    assert_err_unchanged(&mut fx, DirectoryError::RateLimited { retry_after_secs: 1 }, |fx| fx.start(alice(), 1));
    // Other users are not affected.
    fx.start_ok(bob(), 1);
    // The first start leaves the window exactly RATE_WINDOW_SECS later.
    fx.now = t0 + RATE_WINDOW_SECS * NANOS_PER_SEC;
    fx.start_ok(alice(), 1);
    assert_err_unchanged(&mut fx, DirectoryError::RateLimited { retry_after_secs: 1 }, |fx| fx.start(alice(), 1));
}

#[test]
fn refused_starts_do_not_count_against_the_rate() {
    let mut fx = fx_for_rate();
    for _ in 0..10 {
        assert!(matches!(fx.start(alice(), u64::MAX), Err(DirectoryError::InvalidSize { .. })));
    }
    for _ in 0..DEFAULT_START_UPLOAD_PER_MINUTE {
        fx.start_ok(alice(), 1);
    }
}

#[test]
fn in_progress_cap_edge() {
    let mut fx = Fx::with(DirectoryInit {
        max_uploads_in_progress: Some(3),
        start_upload_per_minute: Some(100),
        ..Default::default()
    });
    let ids: Vec<_> = (0..3).map(|_| fx.start_ok(alice(), 1).upload_id).collect();
    assert_eq!(fx.usage(alice()).uploads_in_progress, 3);
    assert_err_unchanged(&mut fx, DirectoryError::TooManyInProgressUploads { limit: 3 }, |fx| fx.start(alice(), 1));
    // Finishing one (commit) or ending one (abort) frees a slot.
    fx.commit_ok(alice(), &ids[0]);
    fx.start_ok(alice(), 1);
    assert_err_unchanged(&mut fx, DirectoryError::TooManyInProgressUploads { limit: 3 }, |fx| fx.start(alice(), 1));
    abort_upload_impl(&mut fx.s, alice(), &ids[1], fx.now).unwrap();
    fx.start_ok(alice(), 1);
}

#[test]
fn size_edges_zero_one_max_max_plus_one() {
    let mut fx = Fx::with(DirectoryInit {
        start_upload_per_minute: Some(100),
        default_quota_bytes: Some(2 * MAX_FILE_SIZE),
        ..Default::default()
    });
    let max = MAX_FILE_SIZE;
    assert_eq!(max, 64 << 30, "64 GiB");
    let invalid = |size| DirectoryError::InvalidSize { size, min: MIN_FILE_SIZE, max };
    assert_eq!(MIN_FILE_SIZE, 0, "empty files are stored");
    assert_eq!(fx.start_ok(alice(), 0).expected_chunk_count, 0);
    assert_eq!(fx.start_ok(alice(), 1).expected_chunk_count, 1);
    let res = fx.start_ok(alice(), max);
    assert_eq!(res.expected_chunk_count, MAX_FILE_SIZE.div_ceil(CHUNK_SIZE as u64) as u32);
    assert!(res.expected_chunk_count <= MAX_CHUNKS_PER_FILE);
    assert_err_unchanged(&mut fx, invalid(max + 1), |fx| fx.start(alice(), max + 1));
    assert_err_unchanged(&mut fx, invalid(u64::MAX), |fx| fx.start(alice(), u64::MAX));
}

#[test]
fn configured_max_file_size_is_enforced() {
    let mut fx = Fx::with(DirectoryInit { max_file_size: Some(100), ..Default::default() });
    fx.start_ok(alice(), 100);
    let e = DirectoryError::InvalidSize { size: 101, min: MIN_FILE_SIZE, max: 100 };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), 101));
}

#[test]
fn chunk_count_follows_chunk_size() {
    let mut fx = Fx::with(DirectoryInit { chunk_size: Some(MIN_CHUNK_SIZE), ..Default::default() });
    let cs = MIN_CHUNK_SIZE as u64;
    assert_eq!(fx.start_ok(alice(), cs).expected_chunk_count, 1);
    assert_eq!(fx.start_ok(alice(), cs + 1).expected_chunk_count, 2);
    // At the smallest chunk size the cap is the chunk count, not the bytes.
    let max = cs * MAX_CHUNKS_PER_FILE as u64;
    assert!(max < MAX_FILE_SIZE);
    let e = DirectoryError::InvalidSize { size: max + 1, min: MIN_FILE_SIZE, max };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), max + 1));
}

#[test]
fn bad_names_mimes_and_hashes_are_invalid_requests() {
    let mut fx = Fx::new();
    let cases: Vec<(StartUploadReq, &str)> = vec![
        (StartUploadReq { name: "".into(), ..req(1) }, "name is empty"),
        (StartUploadReq { name: "a\u{0}b".into(), ..req(1) }, "name contains control characters"),
        (StartUploadReq { name: "x".repeat(MAX_NAME_BYTES + 1), ..req(1) }, "name is longer than 1024 bytes"),
        (
            StartUploadReq { name: "photos/../../etc/passwd".into(), ..req(1) },
            "name must be a relative path: no leading, trailing or double /, and no . or .. component",
        ),
        (StartUploadReq { name: "C:\\evil".into(), ..req(1) }, "name must not contain \\ (separate folders with /)"),
        (
            StartUploadReq { mime: Some("nonsense".into()), ..req(1) },
            "mime is not one well-formed type/subtype: mime parse error: a slash (/) was missing between the type and subtype",
        ),
        (
            StartUploadReq { mime: Some("image/png;,text/html".into()), ..req(1) },
            "mime is not one well-formed type/subtype: only printable ASCII, no commas",
        ),
        (
            StartUploadReq { name: "../evil".into(), ..req(1) },
            "name must be a relative path: no leading, trailing or double /, and no . or .. component",
        ),
        (StartUploadReq { sha256: Some(ByteBuf::from(vec![0; 16])), ..req(1) }, "sha256 must be 32 bytes"),
    ];
    for (r, reason) in cases {
        let e = DirectoryError::InvalidRequest { reason: reason.into() };
        assert_err_unchanged(&mut fx, e, |fx| start_upload_impl(&mut fx.s, alice(), r, fx.now));
    }
}

#[test]
fn not_initialised_means_unavailable() {
    let mut fx = Fx::bare(DirectoryInit::default());
    fx.add_bucket(bucket(1), GIB, GIB);
    let e = DirectoryError::ServiceTemporarilyUnavailable {
        reason: "initialising: waiting for randomness from the management canister".into(),
    };
    assert_err_unchanged(&mut fx, e, |fx| fx.start(alice(), 1));
    fx.initialise();
    fx.start_ok(alice(), 1);
}
