//! Bucket choice and capacity reservations.

use super::*;
use crate::jobs::reaper::{REAP_BATCH, reap_expired_uploads};
use crate::logic::admin::*;
use crate::logic::upload::{abort_upload_impl, choose_bucket};

fn fx_with_buckets(buckets: &[(u8, u64, u64)]) -> Fx {
    let mut fx = Fx::bare(DirectoryInit {
        start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE),
        max_uploads_in_progress: Some(MAX_UPLOADS_IN_PROGRESS),
        ..Default::default()
    });
    fx.initialise();
    for (n, soft, hard) in buckets {
        fx.add_bucket(bucket(*n), *soft, *hard);
    }
    fx
}

fn unavailable() -> DirectoryError {
    DirectoryError::ServiceTemporarilyUnavailable { reason: crate::logic::provisioning::NO_ROOM_CREATING.into() }
}

#[test]
fn no_bucket_means_unavailable() {
    let mut fx = fx_with_buckets(&[]);
    assert_err_unchanged(&mut fx, unavailable(), |fx| fx.start(alice(), 1));
}

#[test]
fn emptiest_bucket_is_chosen_and_reserved() {
    let mut fx = fx_with_buckets(&[(1, 1000, 1200), (2, 1000, 1200)]);
    // Ties go to the lowest principal.
    assert_eq!(fx.start_ok(alice(), 300).bucket, bucket(1));
    assert_eq!(fx.start_ok(alice(), 200).bucket, bucket(2));
    assert_eq!(fx.start_ok(alice(), 50).bucket, bucket(2), "250 < 300");
    assert_eq!(fx.bucket_info(bucket(1)).reserved_bytes, 300);
    assert_eq!(fx.bucket_info(bucket(2)).reserved_bytes, 250);
}

#[test]
fn soft_limit_edge_and_draining() {
    let mut fx = fx_with_buckets(&[(1, 1000, 1200)]);
    let first = fx.start_ok(alice(), 600);
    assert_err_unchanged(&mut fx, unavailable(), |fx| fx.start(alice(), 401));
    assert_eq!(fx.bucket_info(bucket(1)).state, BucketState::Writable);
    let second = fx.start_ok(alice(), 400);
    // used + reserved reached the soft limit: Draining, nothing else fits.
    assert_eq!(fx.bucket_info(bucket(1)).state, BucketState::Draining);
    assert_err_unchanged(&mut fx, unavailable(), |fx| fx.start(alice(), 1));
    // Uploads in progress on a Draining bucket still commit.
    fx.commit_ok(alice(), &second.upload_id);
    let b = fx.bucket_info(bucket(1));
    assert_eq!((b.used_bytes, b.reserved_bytes, b.state), (400, 600, BucketState::Draining));
    // Releasing a reservation brings it back below the soft limit.
    abort_upload_impl(&mut fx.s, alice(), &first.upload_id, fx.now).unwrap();
    let b = fx.bucket_info(bucket(1));
    assert_eq!((b.used_bytes, b.reserved_bytes, b.state), (400, 0, BucketState::Writable));
}

#[test]
fn draining_and_read_only_buckets_are_skipped() {
    let mut fx = fx_with_buckets(&[(1, 1000, 1200), (2, 1000, 1200), (3, 1000, 1200)]);
    apply_bucket_state(&mut fx.s, bucket(1), BucketState::ReadOnly).unwrap();
    apply_bucket_state(&mut fx.s, bucket(2), BucketState::Draining).unwrap();
    assert_eq!(fx.start_ok(alice(), 10).bucket, bucket(3));
    apply_bucket_state(&mut fx.s, bucket(3), BucketState::ReadOnly).unwrap();
    assert_err_unchanged(&mut fx, unavailable(), |fx| fx.start(alice(), 10));
    // An admin's Draining is not lifted automatically by a release.
    assert_eq!(fx.bucket_info(bucket(2)).state, BucketState::Draining);
    apply_bucket_state(&mut fx.s, bucket(2), BucketState::Writable).unwrap();
    assert_eq!(fx.start_ok(alice(), 10).bucket, bucket(2));
}

#[test]
fn a_file_too_big_for_every_bucket_goes_nowhere() {
    let mut fx = fx_with_buckets(&[(1, 100, 200), (2, 150, 200)]);
    assert_err_unchanged(&mut fx, unavailable(), |fx| fx.start(alice(), 151));
    assert_eq!(fx.start_ok(alice(), 150).bucket, bucket(2));
    assert!(choose_bucket(&fx.s, 101).is_none());
}

#[test]
fn reservations_are_released_on_expiry_and_converted_at_commit() {
    let mut fx = fx_with_buckets(&[(1, 1000, 1200)]);
    let a = fx.start_ok(alice(), 100);
    let b = fx.start_ok(alice(), 200);
    fx.commit_ok(alice(), &a.upload_id);
    let info = fx.bucket_info(bucket(1));
    assert_eq!((info.used_bytes, info.reserved_bytes, info.files_count), (100, 200, 1));
    fx.now = b.expires_at_ns;
    assert_eq!(reap_expired_uploads(&mut fx.s, fx.now, REAP_BATCH).len(), 1);
    let info = fx.bucket_info(bucket(1));
    assert_eq!((info.used_bytes, info.reserved_bytes, info.files_count), (100, 0, 1));
    let stats = admin_get_stats_impl(&fx.s, 0);
    assert_eq!((stats.total_bytes, stats.total_files, stats.reserved_bytes, stats.active_uploads), (100, 1, 0, 0));
}

#[test]
fn register_checks() {
    let mut fx = fx_with_buckets(&[(1, 1000, 1200)]);
    let r = |n, soft, hard| RegisterBucketReq { id: bucket(n), soft_limit_bytes: soft, hard_limit_bytes: hard };
    let invalid = |s: &str| DirectoryError::InvalidRequest { reason: s.into() };
    assert_eq!(
        begin_register_bucket(&fx.s, &r(2, 10, 9)).unwrap_err(),
        invalid("limits must satisfy 0 < soft_limit_bytes ≤ hard_limit_bytes")
    );
    assert_eq!(
        begin_register_bucket(&fx.s, &r(2, 0, 9)).unwrap_err(),
        invalid("limits must satisfy 0 < soft_limit_bytes ≤ hard_limit_bytes")
    );
    assert_eq!(begin_register_bucket(&fx.s, &r(1, 10, 10)).unwrap_err(), invalid("bucket is already registered"));
    let (keys, version) = begin_register_bucket(&fx.s, &r(2, 10, 10)).unwrap();
    assert_eq!(keys, fx.s.key_ring_for(bucket(2)));
    assert_err_unchanged(&mut fx, invalid("hard_limit_bytes 10 exceeds the bucket's capacity 9"), |fx| {
        finish_register_bucket(&mut fx.s, &r(2, 10, 10), &stat(9, 0, false), version, false, fx.now)
    });
    assert_err_unchanged(&mut fx, invalid("bucket is already registered"), |fx| {
        finish_register_bucket(&mut fx.s, &r(1, 10, 10), &stat(10, 0, false), version, false, fx.now)
    });
    // A read-only bucket registers as ReadOnly; bytes it holds count.
    finish_register_bucket(&mut fx.s, &r(2, 10, 10), &stat(10, 4, true), version, false, fx.now).unwrap();
    let info = fx.bucket_info(bucket(2));
    assert_eq!((info.state, info.used_bytes), (BucketState::ReadOnly, 4));
    assert_eq!(list_buckets_impl(&fx.s).len(), 2);
}

#[test]
fn bucket_state_changes_plan_the_read_only_call() {
    let mut fx = fx_with_buckets(&[(1, 1000, 1200)]);
    assert_eq!(plan_bucket_state(&fx.s, bucket(9), BucketState::ReadOnly), Err(DirectoryError::NotFound));
    assert_eq!(plan_bucket_state(&fx.s, bucket(1), BucketState::ReadOnly), Ok(Some(true)));
    assert_eq!(plan_bucket_state(&fx.s, bucket(1), BucketState::Draining), Ok(None));
    apply_bucket_state(&mut fx.s, bucket(1), BucketState::ReadOnly).unwrap();
    assert_eq!(plan_bucket_state(&fx.s, bucket(1), BucketState::ReadOnly), Ok(None));
    assert_eq!(plan_bucket_state(&fx.s, bucket(1), BucketState::Writable), Ok(Some(false)));
    assert_eq!(plan_bucket_state(&fx.s, bucket(1), BucketState::Draining), Ok(Some(false)));
}
