//! Publish-then-activate rotation, forced activation and emergency
//! revocation. Tokens and URLs are verified with `depot_api` exactly as a
//! bucket verifies them: against the key set it was pushed.

use super::*;
use crate::jobs::key_push::{KEY_PUSH_BATCH, finish_key_push, lease_key_pushes};
use crate::logic::CallFailure;
use crate::logic::admin::admin_get_stats_impl;
use crate::logic::files::get_download_url_impl;
use crate::logic::keys::*;
use crate::logic::upload::get_upload_token_impl;
use depot_api::keys::{PublicKeyInfo, SignatureError};
use depot_api::methods::directory as dm;
use depot_api::token::{TokenError, UploadToken};
use depot_api::url::{SignedUrl, UrlError};
use ic_cdk::api::call::RejectionCode;

fn token(fx: &mut Fx, id: &ByteBuf) -> UploadToken {
    let req = GetUploadTokenReq { upload_id: id.clone(), first_chunk: 0, last_chunk: 0 };
    get_upload_token_impl(&mut fx.s, alice(), &req, fx.now).unwrap()
}

fn url(fx: &Fx, file: &FileId) -> SignedUrl {
    let req = GetDownloadUrlReq { file_id: file.clone(), ttl_secs: None, disposition: None };
    let u = get_download_url_impl(&fx.s, alice(), &req, fx.now).unwrap();
    SignedUrl::parse(&u.url[u.url.find("/f/").unwrap()..]).unwrap()
}

fn kids(keys: &[PublicKeyInfo]) -> Vec<u32> {
    keys.iter().map(|k| k.kid).collect()
}

fn ring_kids(ring: &[depot_api::keys::BucketKey]) -> Vec<u32> {
    ring.iter().map(|k| k.kid).collect()
}

fn active(fx: &Fx) -> u32 {
    fx.s.active_key().unwrap().0
}

fn unreachable() -> CallFailure {
    CallFailure::Rejected { code: RejectionCode::SysTransient, message: "unreachable".into() }
}

/// Two buckets: bucket 1 answers, bucket 2 does not.
fn two_buckets() -> Fx {
    let mut fx = Fx::new();
    fx.add_bucket(bucket(2), GIB, GIB);
    fx
}

/// One key-push round: bucket 1 accepts, bucket 2 fails. Returns the
/// buckets pushed and what bucket 1's acceptance activated.
fn push_round_bucket2_down(fx: &mut Fx) -> (Vec<BucketId>, Option<u32>) {
    let pushes = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    let mut activated = None;
    for p in &pushes {
        let answer = if p.bucket == bucket(2) { Err(unreachable()) } else { Ok(Ok(())) };
        activated = finish_key_push(&mut fx.s, p, answer, fx.now).or(activated);
    }
    (pushes.iter().map(|p| p.bucket).collect(), activated)
}

#[test]
fn pending_key_is_published_and_pushed_but_does_not_sign() {
    let mut fx = two_buckets();
    let res = fx.start_ok(alice(), 10);
    let old = active(&fx);
    let version = fx.s.runtime().keys_version;
    let new = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    assert!(new > old);
    // Published: anyone can fetch it, and every bucket is due a push of it.
    assert_eq!(kids(&fx.s.public_keys()), vec![old, new]);
    assert_eq!(fx.s.runtime().keys_version, version + 1);
    let pushes = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    assert_eq!(pushes.iter().map(|p| p.bucket).collect::<Vec<_>>(), vec![bucket(1), bucket(2)]);
    assert!(pushes.iter().all(|p| ring_kids(&p.keys) == vec![old, new]));
    // Not signing: the old key does until every bucket has the new one.
    assert_eq!(active(&fx), old);
    assert_eq!(token(&mut fx, &res.upload_id).kid, old);
    let stats = admin_get_stats_impl(&fx.s, 0);
    assert_eq!((stats.active_signing_key_id, stats.pending_signing_key_id), (Some(old), Some(new)));
    assert_eq!(stats.keys_version, version + 1);
    assert!(fx.s.signing_keys.get(&old).unwrap().retired_at_ns.is_none(), "not retired before activation");
}

#[test]
fn lagging_bucket_keeps_the_old_key_signing_until_it_accepts() {
    let mut fx = two_buckets();
    let res = fx.start_ok(alice(), 10);
    let old = active(&fx);
    let new = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    let (pushed, activated) = push_round_bucket2_down(&mut fx);
    assert_eq!((pushed, activated), (vec![bucket(1), bucket(2)], None));
    assert_eq!(fx.bucket_info(bucket(1)).keys_version, fx.s.runtime().keys_version);
    assert!(fx.bucket_info(bucket(2)).keys_version < fx.s.runtime().keys_version);

    // Hours of retries: bucket 2 still lags, the old key still signs, and
    // what it signs verifies on the bucket it is for.
    for _ in 0..10 {
        fx.advance_secs(3600);
        // The maintenance tick's check changes nothing either.
        assert_eq!(activate_if_accepted(&mut fx.s, fx.now), None);
        push_round_bucket2_down(&mut fx);
        assert_eq!(active(&fx), old);
        let t = token(&mut fx, &res.upload_id);
        assert_eq!(t.kid, old);
        assert_eq!(t.verify(&fx.held_keys(t.bucket), t.bucket, fx.now), Ok(()));
    }

    // Bucket 2 comes back: its acceptance activates the new key.
    fx.advance_secs(3600);
    let activated_at = fx.now;
    assert_eq!(fx.accept_keys_everywhere(), Some(new));
    assert_eq!(active(&fx), new);
    assert_eq!(token(&mut fx, &res.upload_id).kid, new);
    // The old key retires now, and verifies for the usual retention from now.
    let rec = fx.s.signing_keys.get(&old).unwrap();
    let retention = fx.s.settings().key_retention_secs() * NANOS_PER_SEC;
    assert_eq!((rec.retired_at_ns, rec.drop_at_ns), (Some(activated_at), Some(activated_at + retention)));
    // Activation does not change the published set: nothing to push.
    assert!(lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH).is_empty());
    assert_eq!(kids(&fx.s.public_keys()), vec![old, new]);
}

#[test]
fn a_bucket_registered_during_rotation_must_accept_too() {
    let mut fx = Fx::new();
    let old_version = fx.s.runtime().keys_version;
    let new = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    // Registration began before the rotation: the bucket got the old set.
    let req = RegisterBucketReq { id: bucket(3), soft_limit_bytes: GIB, hard_limit_bytes: GIB };
    crate::logic::admin::finish_register_bucket(&mut fx.s, &req, &stat(GIB, 0, false), old_version, false, fx.now)
        .unwrap();
    let pushes = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    let first = pushes.iter().find(|p| p.bucket == bucket(1)).unwrap();
    assert_eq!(finish_key_push(&mut fx.s, first, Ok(Ok(())), fx.now), None, "bucket 3 lacks it");
    let third = pushes.iter().find(|p| p.bucket == bucket(3)).unwrap();
    assert_eq!(finish_key_push(&mut fx.s, third, Ok(Ok(())), fx.now), Some(new));
}

#[test]
fn without_buckets_a_rotated_key_signs_at_once() {
    let mut fx = Fx::bare(DirectoryInit::default());
    fx.initialise();
    let old = active(&fx);
    let new = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    assert_eq!(active(&fx), new);
    assert!(fx.s.signing_keys.get(&old).unwrap().retired_at_ns.is_some());
    assert!(fx.s.pending_key().is_none());
}

#[test]
fn forced_activation_with_a_bucket_that_never_answers() {
    let mut fx = two_buckets();
    let res = fx.start_ok(alice(), 10);
    let old = active(&fx);
    let new = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    push_round_bucket2_down(&mut fx);
    fx.advance_secs(12 * 3600);

    // Refusals first, each leaving state untouched.
    let not_pending =
        |kid: u32| DirectoryError::InvalidRequest { reason: format!("key {kid} is not pending activation") };
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| admin_activate_key(&mut fx.s, false, new, fx.now));
    assert_err_unchanged(&mut fx, not_pending(old), |fx| admin_activate_key(&mut fx.s, true, old, fx.now));
    for unknown in [0, new + 1, u32::MAX] {
        assert_err_unchanged(&mut fx, DirectoryError::NotFound, |fx| {
            admin_activate_key(&mut fx.s, true, unknown, fx.now)
        });
    }

    let forced_at = fx.now;
    admin_activate_key(&mut fx.s, true, new, fx.now).unwrap();
    assert_eq!(active(&fx), new);
    assert_eq!(token(&mut fx, &res.upload_id).kid, new);
    let rec = fx.s.signing_keys.get(&old).unwrap();
    assert_eq!(rec.retired_at_ns, Some(forced_at));
    // Twice is refused: it is active now.
    assert_err_unchanged(&mut fx, not_pending(new), |fx| admin_activate_key(&mut fx.s, true, new, fx.now));
    // Bucket 2 still gets the set when it comes back, and a new rotation is
    // possible at once.
    fx.advance_secs(crate::jobs::key_push::KEY_PUSH_RETRY_SECS);
    assert_eq!(fx.accept_keys_everywhere(), None);
    assert_eq!(fx.bucket_info(bucket(2)).keys_version, fx.s.runtime().keys_version);
    assert_eq!(check_rotation(&fx.s, fx.now), Ok(()));
}

#[test]
fn a_second_rotation_waits_for_the_pending_one() {
    let mut fx = Fx::new();
    let new = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    let e = DirectoryError::InvalidRequest {
        reason: format!("key {new} is pending activation; wait for every bucket, activate it or revoke it first"),
    };
    assert_err_unchanged(&mut fx, e.clone(), |fx| rotate_key_impl(&mut fx.s, [0x78; 32], fx.now));
    assert_eq!(check_rotation(&fx.s, fx.now), Err(e));
    fx.accept_keys_everywhere();
    fx.rotate_and_activate([0x78; 32]);
}

#[test]
fn revoking_a_retired_key_stops_its_tokens_and_urls_at_once() {
    let mut fx = two_buckets();
    let file = fx.ready_file(alice(), 10);
    let res = fx.start_ok(alice(), 10);
    let leaked = active(&fx);
    let old_token = token(&mut fx, &res.upload_id);
    let old_url = url(&fx, &file);
    // The buckets the token and the URL are for.
    let (tb, ub) = (old_token.bucket, fx.s.owned_file(alice(), &file).unwrap().1.meta.bucket);
    let new = fx.rotate_and_activate([0x77; 32]);
    // Retired, but still verifying: the leak is live.
    let now_secs = fx.now / NANOS_PER_SEC;
    assert_eq!(old_token.verify(&fx.held_keys(tb), tb, fx.now), Ok(()));
    assert_eq!(old_url.verify(&fx.held_keys(ub), ub, now_secs), Ok(()));

    let version = fx.s.runtime().keys_version;
    assert_eq!(admin_revoke_key(&mut fx.s, true, leaked, fx.now), Ok(new));
    // Gone from the published set, seed included; the version moved.
    assert_eq!(kids(&fx.s.public_keys()), vec![new]);
    assert!(fx.s.signing_keys.get(&leaked).is_none());
    assert_eq!(fx.s.runtime().keys_version, version + 1);
    // Every bucket is due the new set.
    let pushes = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    assert_eq!(pushes.iter().map(|p| p.bucket).collect::<Vec<_>>(), vec![bucket(1), bucket(2)]);
    assert!(pushes.iter().all(|p| ring_kids(&p.keys) == vec![new] && p.version == version + 1));
    // A bucket with the new set refuses what the revoked key signed...
    let held = |b| {
        let ring = pushes.iter().find(|p| p.bucket == b).expect("pushed").keys.clone();
        depot_api::keys::HeldKeys::from_ring(ring).unwrap()
    };
    assert_eq!(old_token.verify(&held(tb), tb, fx.now), Err(TokenError::Signature(SignatureError::UnknownKey(leaked))));
    assert_eq!(old_url.verify(&held(ub), ub, now_secs), Err(UrlError::Signature(SignatureError::UnknownKey(leaked))));
    // ...and accepts what the active key signs (by signature: no bucket
    // has accepted the new ring yet).
    let t = token(&mut fx, &res.upload_id);
    assert_eq!(t.sig.len(), depot_api::keys::SIGNATURE_BYTES);
    assert_eq!(t.verify(&held(tb), tb, fx.now), Ok(()));
    assert_eq!(url(&fx, &file).verify(&held(ub), ub, now_secs), Ok(()));
    // A failed push is retried by the job until the bucket has the set.
    finish_key_push(&mut fx.s, &pushes[0], Ok(Ok(())), fx.now);
    finish_key_push(&mut fx.s, &pushes[1], Err(unreachable()), fx.now);
    assert!(lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH).is_empty());
    fx.advance_secs(crate::jobs::key_push::KEY_PUSH_RETRY_SECS);
    let retry = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    assert_eq!(retry.iter().map(|p| (p.bucket, ring_kids(&p.keys))).collect::<Vec<_>>(), vec![(bucket(2), vec![new])]);
}

#[test]
fn revoking_the_active_key_needs_a_pending_key_which_then_signs() {
    let mut fx = two_buckets();
    let res = fx.start_ok(alice(), 10);
    let leaked = active(&fx);
    let leaked_token = token(&mut fx, &res.upload_id);
    // No pending key: refused, nothing changes, the key still signs.
    let e = DirectoryError::InvalidRequest {
        reason: format!(
            "key {leaked} is the signing key and no key is pending: rotate first, then revoke it (the pending key then signs at once)"
        ),
    };
    assert_err_unchanged(&mut fx, e, |fx| admin_revoke_key(&mut fx.s, true, leaked, fx.now));
    assert_eq!(active(&fx), leaked);

    // Rotate: pending while bucket 2 lags. Revoking does not wait for it.
    let new = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    push_round_bucket2_down(&mut fx);
    assert_eq!(active(&fx), leaked);
    assert_eq!(admin_revoke_key(&mut fx.s, true, leaked, fx.now), Ok(new));
    assert_eq!(active(&fx), new);
    assert!(fx.s.pending_key().is_none());
    assert_eq!(kids(&fx.s.public_keys()), vec![new]);
    let keys = fx.s.public_keys();
    let tb = leaked_token.bucket;
    assert_eq!(leaked_token.verify(&keys, tb, fx.now), Err(TokenError::Signature(SignatureError::UnknownKey(leaked))));
    let t = token(&mut fx, &res.upload_id);
    assert_eq!((t.kid, t.verify(&keys, tb, fx.now)), (new, Ok(())));
}

#[test]
fn revoking_the_pending_key_cancels_the_rotation() {
    let mut fx = Fx::new();
    let old = active(&fx);
    let pending = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    assert_eq!(admin_revoke_key(&mut fx.s, true, pending, fx.now), Ok(old));
    assert_eq!(kids(&fx.s.public_keys()), vec![old]);
    assert!(fx.s.pending_key().is_none());
    // Buckets that accepted it are sent the set without it; nothing activates.
    assert_eq!(fx.accept_keys_everywhere(), None);
    assert_eq!(active(&fx), old);
    assert!(fx.s.signing_keys.get(&old).unwrap().retired_at_ns.is_none());
    // A new rotation never reuses the revoked kid.
    let next = rotate_key_impl(&mut fx.s, [0x78; 32], fx.now).unwrap();
    assert!(next > pending, "{next} > {pending}");
}

#[test]
fn revocation_refusals_change_nothing() {
    let mut fx = Fx::new();
    let a = active(&fx);
    let b = fx.rotate_and_activate([0x77; 32]);
    admin_revoke_key(&mut fx.s, true, a, fx.now).unwrap();
    // Strangers, unknown kids, a revoked kid (never reused), kid 0.
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| admin_revoke_key(&mut fx.s, false, b, fx.now));
    for kid in [a, 0, b + 1, u32::MAX] {
        assert_err_unchanged(&mut fx, DirectoryError::NotFound, |fx| admin_revoke_key(&mut fx.s, true, kid, fx.now));
        assert_err_unchanged(&mut fx, DirectoryError::NotFound, |fx| admin_activate_key(&mut fx.s, true, kid, fx.now));
    }
    // A stranger is refused before the kid is even looked at.
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| admin_revoke_key(&mut fx.s, false, a, fx.now));
    assert_err_unchanged(&mut fx, DirectoryError::Unauthorised, |fx| admin_activate_key(&mut fx.s, false, 0, fx.now));
    // Dropped keys are unknown too, and their kids not reused.
    fx.advance_secs(fx.s.settings().key_retention_secs());
    let c = fx.rotate_and_activate([0x78; 32]);
    drop_expired_keys(&mut fx.s, fx.now + 1);
    assert!(c > b);
}

#[test]
fn new_methods_are_admin_only_by_name_too() {
    for m in [dm::ADMIN_ACTIVATE_SIGNING_KEY.name, dm::ADMIN_REVOKE_SIGNING_KEY.name] {
        assert!(m.starts_with(crate::ADMIN_PREFIX), "inspect_message restricts {m} to controllers");
        assert!(!depot_api::methods::is_one_of(m, &dm::ANONYMOUS_OK));
    }
}

#[test]
fn key_records_stored_before_rotation_states_decode_as_not_pending() {
    use crate::model::keys::SigningKeyRecord;
    use crate::model::storable::{cbor_decode, cbor_encode};
    #[derive(serde::Serialize)]
    struct Old {
        seed: [u8; 32],
        created_at_ns: u64,
        retired_at_ns: Option<u64>,
        drop_at_ns: Option<u64>,
    }
    let old = Old { seed: [1; 32], created_at_ns: 5, retired_at_ns: None, drop_at_ns: None };
    let rec: SigningKeyRecord = cbor_decode(&cbor_encode(&old));
    assert!(rec.is_active() && !rec.is_pending());
}

/// A directory upgraded from before key rings sends every bucket its ring
/// once, and signs for each by signature until that bucket accepts it.
#[test]
fn an_upgrade_from_public_keys_only_sends_every_bucket_its_ring_once() {
    use crate::lifecycle::send_key_rings_once;
    let mut fx = two_buckets();
    let res = fx.start_ok(alice(), 10);
    fx.s.update_runtime(|rt| rt.key_rings_sent = false);
    let version = fx.s.runtime().keys_version;
    send_key_rings_once(&mut fx.s);
    send_key_rings_once(&mut fx.s);
    assert_eq!(fx.s.runtime().keys_version, version + 1, "once");
    assert_eq!(token(&mut fx, &res.upload_id).sig.len(), depot_api::keys::SIGNATURE_BYTES);
    let pushes = lease_key_pushes(&mut fx.s, fx.now, KEY_PUSH_BATCH);
    assert_eq!(pushes.iter().map(|p| p.bucket).collect::<Vec<_>>(), vec![bucket(1), bucket(2)]);
    assert!(pushes.iter().all(|p| p.keys.iter().all(|k| k.mac_key.len() == depot_api::keys::MAC_KEY_BYTES)));
    // A bucket still on the earlier wasm has no `set_key_ring`: retried.
    let (pushed, _) = push_round_bucket2_down(&mut fx);
    assert!(pushed.is_empty(), "leased");
    for p in &pushes {
        let answer = if p.bucket == bucket(2) { Err(unreachable()) } else { Ok(Ok(())) };
        finish_key_push(&mut fx.s, p, answer, fx.now);
    }
    let t = token(&mut fx, &res.upload_id);
    let expected = if t.bucket == bucket(1) { depot_api::keys::MAC_BYTES } else { depot_api::keys::SIGNATURE_BYTES };
    assert_eq!(t.sig.len(), expected);
    assert_eq!(t.verify(&fx.held_keys(t.bucket), t.bucket, fx.now), Ok(()));
}
