//! The deletion queue and the key push.

use super::*;
use crate::jobs::key_push::*;
use crate::jobs::reconcile::*;
use crate::logic::CallFailure;
use crate::logic::files::delete_file_impl;
use crate::logic::keys::rotate_key_impl;
use crate::logic::upload::abort_upload_impl;
use crate::model::deletions::DeleteReason;
use depot_api::BucketError;
use depot_api::bucket::DeleteFileOk;
use ic_cdk::api::call::RejectionCode;

fn rejected() -> CallFailure {
    CallFailure::Rejected { code: RejectionCode::SysTransient, message: "unreachable".into() }
}

#[test]
fn delete_file_is_optimistic_and_purged_after_bucket_confirms() {
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 5 * MIB);
    let (res, key) = delete_file_impl(&mut fx.s, alice(), &file, fx.now).unwrap();
    assert_eq!(res.freed_bytes, 5 * MIB);
    let u = fx.usage(alice());
    assert_eq!((u.used_bytes, u.files_count), (0, 0), "released at once");
    let b = fx.bucket_info(bucket(1));
    assert_eq!((b.used_bytes, b.files_count), (0, 0));
    // The tombstone stays until the bucket confirms.
    assert_eq!(fx.s.files.len(), 1);

    let (leased, item) = lease(&mut fx.s, key, fx.now).unwrap();
    assert_eq!((item.reason, item.attempts, item.bucket), (DeleteReason::FileDeleted, 1, bucket(1)));
    assert!(lease_due(&mut fx.s, fx.now, RECONCILE_BATCH).is_empty(), "leased items are not picked twice");

    // Failure: kept, backed off.
    assert!(!finish_delete(&mut fx.s, leased, Err(rejected()), fx.now));
    assert_eq!(fx.s.pending_deletes.len(), 1);
    let (retry_key, retry) = fx.s.pending_deletes.iter().next().map(|e| e.into_pair()).unwrap();
    assert_eq!(retry_key.at_ns, fx.now + backoff_secs(1) * NANOS_PER_SEC);
    assert!(retry.last_error.unwrap().contains("unreachable"));
    assert!(lease_due(&mut fx.s, fx.now, RECONCILE_BATCH).is_empty());

    fx.now = retry_key.at_ns;
    let due = lease_due(&mut fx.s, fx.now, RECONCILE_BATCH);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].1.attempts, 2);
    assert!(finish_delete(&mut fx.s, due[0].0, Ok(Ok(DeleteFileOk { freed_bytes: 5 * MIB })), fx.now));
    assert!(fx.s.files.is_empty() && fx.s.file_index.is_empty(), "tombstone purged");
    // Upload tokens issued before the commit may still be valid: one more
    // sweep once the last of them has expired, then nothing.
    let token_ttl = fx.s.settings().upload_token_ttl_secs * NANOS_PER_SEC;
    let (sweep_key, sweep) = fx.s.pending_deletes.iter().next().map(|e| e.into_pair()).unwrap();
    assert_eq!(fx.s.pending_deletes.len(), 1);
    assert!(sweep_key.at_ns >= fx.now && sweep_key.at_ns <= retry_key.at_ns + token_ttl);
    assert_eq!((sweep.reason, sweep.sweep_again_at_ns), (DeleteReason::FileDeleted, None));
    fx.now = sweep_key.at_ns;
    let due = lease_due(&mut fx.s, fx.now, RECONCILE_BATCH);
    assert!(finish_delete(&mut fx.s, due[0].0, Ok(Err(BucketError::NotFound)), fx.now));
    assert!(fx.s.pending_deletes.is_empty());
}

#[test]
fn not_found_is_success_and_other_bucket_errors_retry() {
    let mut fx = Fx::with(DirectoryInit { start_upload_per_minute: Some(100), ..Default::default() });
    let a = fx.start_ok(alice(), 1);
    let b = fx.start_ok(alice(), 1);
    let ka = abort_upload_impl(&mut fx.s, alice(), &a.upload_id, fx.now).unwrap();
    let kb = abort_upload_impl(&mut fx.s, alice(), &b.upload_id, fx.now).unwrap();
    let (la, _) = lease(&mut fx.s, ka, fx.now).unwrap();
    let (lb, _) = lease(&mut fx.s, kb, fx.now).unwrap();
    assert!(finish_delete(&mut fx.s, la, Ok(Err(BucketError::NotFound)), fx.now));
    assert!(!finish_delete(&mut fx.s, lb, Ok(Err(BucketError::ReadOnly)), fx.now));
    // a: its final sweep; b: its retry.
    let items: Vec<_> = fx.s.pending_deletes.iter().map(|e| e.into_pair()).collect();
    assert_eq!(items.len(), 2);
    assert!(items.iter().any(|(_, i)| i.file_id == a.file_id && i.sweep_again_at_ns.is_none()));
    assert!(
        items.iter().any(|(_, i)| i.file_id == b.file_id && i.last_error.as_deref() == Some("bucket is read-only"))
    );
}

#[test]
fn aborted_upload_is_swept_again_after_its_tokens_expired() {
    let mut fx = Fx::new();
    let r = fx.start_ok(alice(), 1);
    let key = abort_upload_impl(&mut fx.s, alice(), &r.upload_id, fx.now).unwrap();
    let token_ttl = fx.s.settings().upload_token_ttl_secs * NANOS_PER_SEC;
    assert_eq!(fx.s.pending_deletes.get(&key).unwrap().sweep_again_at_ns, Some(fx.now + token_ttl));
    let (leased, _) = lease(&mut fx.s, key, fx.now).unwrap();
    assert!(finish_delete(&mut fx.s, leased, Ok(Ok(DeleteFileOk { freed_bytes: 1 })), fx.now));
    let (sweep_key, sweep) = fx.s.pending_deletes.iter().next().map(|e| e.into_pair()).unwrap();
    assert_eq!((sweep_key.at_ns, sweep.sweep_again_at_ns, sweep.attempts), (fx.now + token_ttl, None, 0));
    assert!(lease_due(&mut fx.s, fx.now + token_ttl - 1, RECONCILE_BATCH).is_empty());
    let due = lease_due(&mut fx.s, fx.now + token_ttl, RECONCILE_BATCH);
    assert_eq!(due.len(), 1);
    assert!(finish_delete(&mut fx.s, due[0].0, Ok(Err(BucketError::NotFound)), fx.now + token_ttl));
    assert!(fx.s.pending_deletes.is_empty());
}

#[test]
fn reaped_uploads_need_no_second_sweep() {
    let mut fx = Fx::new();
    let r = fx.start_ok(alice(), 1);
    fx.now = r.expires_at_ns;
    let keys = crate::jobs::reaper::reap_expired_uploads(&mut fx.s, fx.now, 10);
    assert_eq!(fx.s.pending_deletes.get(&keys[0]).unwrap().sweep_again_at_ns, None);
}

#[test]
fn batch_limit_and_backoff_growth() {
    let mut fx = Fx::with(DirectoryInit {
        start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE),
        max_uploads_in_progress: Some(MAX_UPLOADS_IN_PROGRESS),
        ..Default::default()
    });
    for _ in 0..RECONCILE_BATCH + 3 {
        let r = fx.start_ok(alice(), 1);
        abort_upload_impl(&mut fx.s, alice(), &r.upload_id, fx.now).unwrap();
    }
    assert_eq!(lease_due(&mut fx.s, fx.now, RECONCILE_BATCH).len(), RECONCILE_BATCH);
    assert_eq!(lease_due(&mut fx.s, fx.now, RECONCILE_BATCH).len(), 3);
    assert_eq!(backoff_secs(1), 2 * RETRY_BASE_SECS);
    assert_eq!(backoff_secs(40), RETRY_MAX_SECS);
    assert!((0..40).all(|n| backoff_secs(n) <= backoff_secs(n + 1)));
}

#[test]
fn key_push_after_rotation_with_lease_and_retry() {
    let mut fx = Fx::new();
    fx.add_bucket(bucket(2), GIB, GIB);
    assert!(lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH).is_empty(), "buckets are up to date");
    let old_kid = fx.s.active_key().unwrap().0;
    let new_kid = rotate_key_impl(&mut fx.s, [9; 32], fx.now).unwrap();
    let pushes = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    assert_eq!(pushes.iter().map(|p| p.bucket).collect::<Vec<_>>(), vec![bucket(1), bucket(2)]);
    assert_eq!(pushes[0].keys, fx.s.key_ring_for(bucket(1)));
    assert_ne!(pushes[0].keys, pushes[1].keys, "each bucket its own MAC keys");
    assert!(lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH).is_empty(), "leased");
    assert_eq!(finish_key_push(&mut fx.s, &pushes[0], Ok(Ok(())), fx.now), None, "bucket 2 lacks the key");
    assert_eq!(finish_key_push(&mut fx.s, &pushes[1], Err(rejected()), fx.now), None);
    assert_eq!(fx.s.active_key().unwrap().0, old_kid, "the old key signs while a bucket lags");
    fx.advance_secs(KEY_PUSH_RETRY_SECS);
    let again = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    assert_eq!(again.iter().map(|p| p.bucket).collect::<Vec<_>>(), vec![bucket(2)]);
    // A bucket's own refusal is retried like a failed call.
    assert_eq!(finish_key_push(&mut fx.s, &again[0], Ok(Err(BucketError::ReadOnly)), fx.now), None);
    fx.advance_secs(KEY_PUSH_RETRY_SECS);
    let again = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    assert_eq!(finish_key_push(&mut fx.s, &again[0], Ok(Ok(())), fx.now), Some(new_kid), "the last bucket activates");
    assert_eq!(fx.s.active_key().unwrap().0, new_kid);
    fx.advance_secs(KEY_PUSH_RETRY_SECS);
    assert!(lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH).is_empty());
}
