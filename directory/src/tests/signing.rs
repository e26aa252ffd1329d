//! Upload tokens, download URLs and key rotation, verified with depot_api
//! exactly as a bucket verifies them.

use super::*;
use crate::logic::files::{get_download_plan_impl, get_download_url_impl};
use crate::logic::keys::{check_rotation, drop_expired_keys, rotate_key_impl};
use crate::logic::upload::get_upload_token_impl;
use depot_api::limits::*;
use depot_api::token::TokenError;
use depot_api::url::{Disposition, SignedUrl, UrlError};

fn token_req(id: &ByteBuf, first: u32, last: u32) -> GetUploadTokenReq {
    GetUploadTokenReq { upload_id: id.clone(), first_chunk: first, last_chunk: last }
}

#[test]
fn token_contents_and_signature() {
    let mut fx = Fx::new();
    let mut r = req(3 * CHUNK - 1);
    r.sha256 = Some(ByteBuf::from(vec![0xab; 32]));
    let res = start_upload_impl(&mut fx.s, alice(), r, fx.now).unwrap();
    let t = get_upload_token_impl(&mut fx.s, alice(), &token_req(&res.upload_id, 1, 2), fx.now).unwrap();
    assert_eq!(t.bucket, bucket(1));
    assert_eq!((t.first_chunk, t.last_chunk, t.chunk_count), (1, 2, 3));
    assert_eq!((t.size_bytes, t.chunk_size), (3 * CHUNK - 1, CHUNK as u32));
    assert_eq!(t.upload_id, res.upload_id.to_vec());
    assert_eq!(t.file_id, res.file_id);
    assert_eq!(t.sha256.clone().map(|h| h.into_vec()), Some(vec![0xab; 32]));
    assert_eq!(t.expires_at_ns, fx.now + DEFAULT_UPLOAD_TOKEN_TTL_SECS * NANOS_PER_SEC);
    let keys = fx.held_keys(bucket(1));
    assert_eq!(t.verify(&keys, bucket(1), fx.now), Ok(()));
    assert_eq!(t.verify(&keys, bucket(1), t.expires_at_ns), Err(TokenError::Expired));
    assert_eq!(t.verify(&keys, bucket(2), fx.now), Err(TokenError::WrongBucket(bucket(1))));
}

/// A bucket that accepted the current key ring gets tokens and URLs with
/// its own MAC; one behind (a ring still being pushed) gets them signed,
/// and each verifies on what that bucket holds.
#[test]
fn tokens_and_urls_carry_a_mac_only_for_buckets_with_the_current_ring() {
    use depot_api::keys::{HeldKeys, MAC_BYTES, SIGNATURE_BYTES};
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 10);
    let res = fx.start_ok(alice(), 10);
    let issue = |fx: &mut Fx| {
        let t = get_upload_token_impl(&mut fx.s, alice(), &token_req(&res.upload_id, 0, 0), fx.now).unwrap();
        let u = get_download_url_impl(&fx.s, alice(), &url_req(&file, None, None), fx.now).unwrap();
        let u = SignedUrl::parse(&u.url[u.url.find("/f/").unwrap()..]).unwrap();
        (t, u)
    };
    let (t, u) = issue(&mut fx);
    assert_eq!((t.sig.len(), u.sig.len()), (MAC_BYTES, MAC_BYTES));
    let now_secs = fx.now / NANOS_PER_SEC;
    let held = fx.held_keys(bucket(1));
    assert_eq!(t.verify(&held, bucket(1), fx.now), Ok(()));
    assert_eq!(u.verify(&held, bucket(1), now_secs), Ok(()));
    // Another bucket's ring does not check them.
    let other = fx.held_keys(bucket(2));
    assert!(matches!(u.verify(&other, bucket(1), now_secs), Err(UrlError::Signature(_))));
    // The key set changes: until the bucket accepts it, signatures, which
    // its old public keys check.
    let old_public = held.public.clone();
    rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    let (t, u) = issue(&mut fx);
    assert_eq!((t.sig.len(), u.sig.len()), (SIGNATURE_BYTES, SIGNATURE_BYTES));
    let public_only = HeldKeys { public: old_public, mac: vec![] };
    assert_eq!(t.verify(&public_only, bucket(1), fx.now), Ok(()));
    assert_eq!(u.verify(&public_only, bucket(1), now_secs), Ok(()));
    fx.accept_keys_everywhere();
    let (t, u) = issue(&mut fx);
    assert_eq!((t.sig.len(), u.sig.len()), (MAC_BYTES, MAC_BYTES));
    assert_eq!(t.verify(&fx.held_keys(bucket(1)), bucket(1), fx.now), Ok(()));
}

#[test]
fn token_never_outlives_its_session() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 10);
    fx.now = res.expires_at_ns - NANOS_PER_SEC;
    let t = get_upload_token_impl(&mut fx.s, alice(), &token_req(&res.upload_id, 0, 0), fx.now).unwrap();
    assert_eq!(t.expires_at_ns, res.expires_at_ns);
}

#[test]
fn token_range_checks() {
    let mut fx = Fx::new();
    let res = fx.start_ok(alice(), 3 * CHUNK);
    for (first, last) in [(2, 1), (0, 3), (3, 3)] {
        let e = DirectoryError::InvalidRequest { reason: format!("chunk range {first}..={last} outside 0..3") };
        assert_eq!(get_upload_token_impl(&mut fx.s, alice(), &token_req(&res.upload_id, first, last), fx.now), Err(e));
    }
    assert!(get_upload_token_impl(&mut fx.s, alice(), &token_req(&res.upload_id, 2, 2), fx.now).is_ok());
}

#[test]
fn token_ttl_setting_is_used() {
    let mut fx =
        Fx::with(DirectoryInit { upload_token_ttl_secs: Some(MIN_UPLOAD_TOKEN_TTL_SECS), ..Default::default() });
    let res = fx.start_ok(alice(), 10);
    let t = get_upload_token_impl(&mut fx.s, alice(), &token_req(&res.upload_id, 0, 0), fx.now).unwrap();
    assert_eq!(t.expires_at_ns, fx.now + MIN_UPLOAD_TOKEN_TTL_SECS * NANOS_PER_SEC);
}

fn url_req(file: &FileId, ttl: Option<u64>, d: Option<Disposition>) -> GetDownloadUrlReq {
    GetDownloadUrlReq { file_id: file.clone(), ttl_secs: ttl, disposition: d }
}

#[test]
fn download_url_parses_and_verifies() {
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 10);
    let now_secs = fx.now / NANOS_PER_SEC;
    let u =
        get_download_url_impl(&fx.s, alice(), &url_req(&file, None, Some(Disposition::Attachment)), fx.now).unwrap();
    let host = format!("https://{}.icp0.io", bucket(1).to_text());
    assert!(u.url.starts_with(&format!("{host}/f/{}?", hex::encode(&file.id))), "{}", u.url);
    assert_eq!(u.bucket, bucket(1));
    assert_eq!(u.expires_at_secs, now_secs + DEFAULT_DOWNLOAD_URL_TTL_SECS);
    let signed = SignedUrl::parse(&u.url[host.len()..]).unwrap();
    assert_eq!(signed.disposition, Disposition::Attachment);
    assert_eq!(signed.expires_at_secs, u.expires_at_secs);
    let keys = fx.held_keys(bucket(1));
    assert_eq!(signed.verify(&keys, bucket(1), now_secs), Ok(()));
    assert_eq!(signed.verify(&keys, bucket(1), u.expires_at_secs), Err(UrlError::Expired));
    assert!(matches!(signed.verify(&keys, bucket(2), now_secs), Err(UrlError::Signature(_))));

    let plan = get_download_plan_impl(&fx.s, alice(), &file).unwrap();
    assert_eq!(plan.locations, vec![ChunkRange { first_chunk: 0, last_chunk: 0, bucket: bucket(1) }]);
    assert_eq!(plan.sha256.map(|h| h.into_vec()), Some(vec![0xcc; 32]));
}

#[test]
fn download_url_ttl_edges_and_devnet_template() {
    let mut fx = Fx::with(DirectoryInit {
        domain_template: Some("{bucket}.localhost:4943".into()),
        url_scheme: Some("http".into()),
        max_download_url_ttl_secs: Some(600),
        ..Default::default()
    });
    let file = fx.ready_file(alice(), 10);
    let now_secs = fx.now / NANOS_PER_SEC;
    // Default TTL is capped by the maximum setting.
    let u = get_download_url_impl(&fx.s, alice(), &url_req(&file, None, None), fx.now).unwrap();
    assert_eq!(u.expires_at_secs, now_secs + 600);
    assert!(u.url.starts_with(&format!("http://{}.localhost:4943/f/", bucket(1).to_text())));
    assert!(!u.url.contains("dl=1"));
    let u = get_download_url_impl(&fx.s, alice(), &url_req(&file, Some(600), None), fx.now).unwrap();
    assert_eq!(u.expires_at_secs, now_secs + 600);
    let e = DirectoryError::InvalidRequest { reason: "ttl_secs must be in 1..=600".into() };
    assert_eq!(get_download_url_impl(&fx.s, alice(), &url_req(&file, Some(601), None), fx.now), Err(e.clone()));
    assert_eq!(get_download_url_impl(&fx.s, alice(), &url_req(&file, Some(0), None), fx.now), Err(e));
    let u = get_download_url_impl(&fx.s, alice(), &url_req(&file, Some(1), None), fx.now).unwrap();
    assert_eq!(u.expires_at_secs, now_secs + 1);
}

#[test]
fn rotation_keeps_old_kid_verifying_until_retired_then_drops_it() {
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 10);
    let res = fx.start_ok(alice(), 10);
    let old_token = get_upload_token_impl(&mut fx.s, alice(), &token_req(&res.upload_id, 0, 0), fx.now).unwrap();
    let old_kid = old_token.kid;
    let version = fx.s.runtime().keys_version;

    let new_kid = rotate_key_impl(&mut fx.s, [0x77; 32], fx.now).unwrap();
    fx.advance_secs(30);
    // While the new key is pending the old one signs, up to the last moment.
    let url_max =
        get_download_url_impl(&fx.s, alice(), &url_req(&file, Some(MAX_DOWNLOAD_URL_TTL_SECS), None), fx.now).unwrap();
    assert!(url_max.url.contains(&format!("kid={old_kid}&")));
    assert_eq!(fx.accept_keys_everywhere(), Some(new_kid), "the only bucket accepted: the key signs");
    // Retention counts from activation, when the old key stopped signing.
    let rotated_at = fx.now;
    assert_ne!(new_kid, old_kid);
    assert_eq!(fx.s.runtime().keys_version, version + 1, "buckets must get the new set");
    let keys = fx.held_keys(bucket(1));
    assert_eq!(keys.public.iter().map(|k| k.kid).collect::<Vec<_>>(), vec![old_kid, new_kid]);
    // Old signatures still verify; new ones use the new kid.
    assert_eq!(old_token.verify(&keys, bucket(1), fx.now), Ok(()));
    let new_token = get_upload_token_impl(&mut fx.s, alice(), &token_req(&res.upload_id, 0, 0), fx.now).unwrap();
    assert_eq!(new_token.kid, new_kid);
    assert_eq!(new_token.verify(&keys, bucket(1), fx.now), Ok(()));

    // The old key lives exactly as long as the longest URL it could sign.
    let retention = MAX_DOWNLOAD_URL_TTL_SECS.max(DEFAULT_UPLOAD_TOKEN_TTL_SECS) * NANOS_PER_SEC;
    fx.now = rotated_at + retention - 1;
    assert_eq!(drop_expired_keys(&mut fx.s, fx.now), 0);
    let host_len = url_max.url.find("/f/").unwrap();
    let signed = SignedUrl::parse(&url_max.url[host_len..]).unwrap();
    assert_eq!(signed.verify(&fx.held_keys(bucket(1)), bucket(1), fx.now / NANOS_PER_SEC - 1), Ok(()));
    fx.now += 1;
    assert_eq!(drop_expired_keys(&mut fx.s, fx.now), 1);
    assert_eq!(fx.s.public_keys().iter().map(|k| k.kid).collect::<Vec<_>>(), vec![new_kid]);
    assert_eq!(fx.s.runtime().keys_version, version + 2);
    assert!(matches!(
        old_token.verify(&fx.held_keys(bucket(1)), bucket(1), 0),
        Err(TokenError::Signature(depot_api::keys::SignatureError::UnknownKey(_)))
    ));
}

#[test]
fn rotation_is_capped_at_max_signing_keys() {
    let mut fx = Fx::new();
    for i in 1..MAX_SIGNING_KEYS {
        fx.rotate_and_activate([i as u8; 32]);
    }
    assert_eq!(fx.s.public_keys().len(), MAX_SIGNING_KEYS);
    let before = fx.digest();
    assert!(matches!(rotate_key_impl(&mut fx.s, [0xee; 32], fx.now), Err(DirectoryError::InvalidRequest { .. })));
    assert_eq!(fx.digest(), before);
    // Once the oldest retired key expires, rotation works again.
    fx.advance_secs(fx.s.settings().key_retention_secs());
    assert_eq!(check_rotation(&fx.s, fx.now), Ok(()));
    fx.rotate_and_activate([0xee; 32]);
    assert!(fx.s.public_keys().len() <= MAX_SIGNING_KEYS);
    assert_eq!(fx.s.active_key().unwrap().1, [0xee; 32]);
}

#[test]
fn uninitialised_directory_cannot_sign_or_rotate() {
    let fx = Fx::bare(DirectoryInit::default());
    assert!(fx.s.public_keys().is_empty());
    assert!(matches!(check_rotation(&fx.s, fx.now), Err(DirectoryError::ServiceTemporarilyUnavailable { .. })));
}

#[test]
fn seeds_are_never_in_public_output() {
    let fx = Fx::new();
    let keys = fx.s.public_keys();
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0].key, vec![0x4b; 32]);
    assert_eq!(keys[0].key, depot_api::keys::public_key(&[0x4b; 32]).to_vec());
    let record = fx.s.signing_keys.get(&keys[0].kid).unwrap();
    let printed = format!("{record:?}");
    assert!(!printed.contains("seed") && !printed.contains("75, 75"), "{printed}");
}
