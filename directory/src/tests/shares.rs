//! Share links: every rule of `logic::shares`, the edge of each limit, and
//! one answer (`NotFound`) for ids that name nothing resolvable.

use super::*;
use crate::logic::files::delete_file_impl;
use crate::logic::shares::*;
use crate::model::runtime::ID_DOMAIN_SHARE;
use crate::model::users::NANOS_PER_SEC;
use depot_api::FileKey;
use depot_api::limits::*;
use depot_api::share::*;
use depot_api::url::{Disposition, SignedUrl, file_key_of_path};

const TEMPLATE: &str = "https://gw.example/s/{share}";

fn fx() -> Fx {
    Fx::with(DirectoryInit { share_url_template: Some(TEMPLATE.into()), ..Default::default() })
}

fn share(file_id: &FileId) -> CreateShareReq {
    CreateShareReq { file_id: file_id.clone(), expires_in_secs: None, download_only: false, max_uses: None }
}

fn create(fx: &mut Fx, who: Principal, req: &CreateShareReq) -> ShareResult {
    create_share_impl(&mut fx.s, who, req, fx.now)
}

fn resolve(fx: &mut Fx, id: &str) -> ResolveShareResult {
    resolve_share_impl(&mut fx.s, id, fx.now)
}

/// Asserts `f` fails with `expected` and leaves stable memory untouched.
fn refused<T: std::fmt::Debug>(fx: &mut Fx, expected: ShareError, f: impl FnOnce(&mut Fx) -> Result<T, ShareError>) {
    let before = fx.digest();
    let got = f(fx);
    assert_eq!(got.map(|_| ()).unwrap_err(), expected);
    assert_eq!(fx.digest(), before, "state changed on {expected:?}");
}

fn path_of(url: &str) -> &str {
    &url[url.find("/f/").expect("a file URL")..]
}

#[test]
fn an_owner_shares_anyone_resolves_and_the_owner_revokes() {
    let mut fx = fx();
    let file = fx.ready_file(alice(), 1000);
    let s = create(&mut fx, alice(), &share(&file)).unwrap();
    assert_eq!(s.share_id.len(), 32);
    assert_eq!(s.url.as_deref(), Some(format!("https://gw.example/s/{}", s.share_id).as_str()));
    assert_eq!(s.raw_url.as_deref(), Some(format!("https://gw.example/s/{}/raw", s.share_id).as_str()));
    assert_eq!((s.file_id.clone(), s.name.as_str(), s.uses), (file.clone(), "report.pdf", 0));

    // Anyone gets a signed URL of exactly that file: the caller is not an
    // input of resolve_share (anonymous callers reach it, see admission).
    for _ in 0..3 {
        let r = resolve(&mut fx, &s.share_id).unwrap();
        assert_eq!((r.name.as_str(), r.size_bytes, r.download_only), ("report.pdf", 1000, false));
        let path = path_of(&r.url);
        assert_eq!(file_key_of_path(path), file.key());
        let signed = SignedUrl::parse(path).unwrap();
        assert_eq!(signed.disposition, Disposition::Inline);
        assert_eq!(signed.expires_at_secs, fx.now / NANOS_PER_SEC + SHARE_URL_TTL_SECS);
    }
    let listed = list_shares_impl(&fx.s, alice(), &ListSharesReq::default()).unwrap();
    assert_eq!(listed.shares.len(), 1);
    assert_eq!(listed.shares[0].uses, 3, "each resolution counts a use");
    assert!(list_shares_impl(&fx.s, bob(), &ListSharesReq::default()).unwrap().shares.is_empty());

    // Only the owner revokes; revoking again, or someone else's, is `false`.
    assert_eq!(revoke_share_impl(&mut fx.s, bob(), &s.share_id), Ok(false));
    resolve(&mut fx, &s.share_id).unwrap();
    assert_eq!(revoke_share_impl(&mut fx.s, alice(), &s.share_id), Ok(true));
    assert_eq!(revoke_share_impl(&mut fx.s, alice(), &s.share_id), Ok(false));
    assert_eq!(revoke_share_impl(&mut fx.s, alice(), "junk"), Ok(false));
    assert_eq!(revoke_share_impl(&mut fx.s, anon(), &s.share_id), Err(ShareError::Unauthorised));
    refused(&mut fx, ShareError::NotFound, |fx| resolve(fx, &s.share_id));
    assert!(list_shares_impl(&fx.s, alice(), &ListSharesReq::default()).unwrap().shares.is_empty());
    assert!(fx.s.shares.is_empty() && fx.s.shares_by_owner.is_empty(), "revoking frees the records");
}

#[test]
fn without_a_gateway_shares_carry_no_url() {
    let mut fx = Fx::new();
    let file = fx.ready_file(alice(), 10);
    let s = create(&mut fx, alice(), &share(&file)).unwrap();
    assert_eq!((s.url, s.raw_url), (None, None));
    assert!(resolve(&mut fx, &s.share_id).is_ok());
}

#[test]
fn hostile_and_malformed_creations_are_typed_and_change_nothing() {
    let mut fx = fx();
    let file = fx.ready_file(alice(), 10);
    let pending = fx.start_ok(alice(), 10).file_id;
    let gone = fx.ready_file(alice(), 10);
    delete_file_impl(&mut fx.s, alice(), &gone, fx.now).unwrap();
    let cases: Vec<(Principal, CreateShareReq, ShareError)> = vec![
        (bob(), share(&file), ShareError::Unauthorised),
        (anon(), share(&file), ShareError::Unauthorised),
        (alice(), share(&FileId::new(alice(), FileKey([9; 16]))), ShareError::NotFound),
        (alice(), share(&gone), ShareError::NotFound),
        (
            alice(),
            share(&pending),
            ShareError::InvalidRequest { reason: "the file is not ready: its upload is not committed".into() },
        ),
        (
            alice(),
            CreateShareReq { expires_in_secs: Some(0), ..share(&file) },
            ShareError::InvalidRequest { reason: format!("expires_in_secs must be in 1..={MAX_SHARE_TTL_SECS}") },
        ),
        (
            alice(),
            CreateShareReq { expires_in_secs: Some(MAX_SHARE_TTL_SECS + 1), ..share(&file) },
            ShareError::InvalidRequest { reason: format!("expires_in_secs must be in 1..={MAX_SHARE_TTL_SECS}") },
        ),
        (
            alice(),
            CreateShareReq { max_uses: Some(0), ..share(&file) },
            ShareError::InvalidRequest { reason: format!("max_uses must be in 1..={MAX_SHARE_USES}") },
        ),
        (
            alice(),
            CreateShareReq { max_uses: Some(MAX_SHARE_USES + 1), ..share(&file) },
            ShareError::InvalidRequest { reason: format!("max_uses must be in 1..={MAX_SHARE_USES}") },
        ),
    ];
    for (who, req, want) in cases {
        refused(&mut fx, want, |fx| create(fx, who, &req));
    }
    // The edges themselves are accepted.
    let longest =
        CreateShareReq { expires_in_secs: Some(MAX_SHARE_TTL_SECS), max_uses: Some(MAX_SHARE_USES), ..share(&file) };
    create(&mut fx, alice(), &longest).unwrap();
    refused(&mut fx, ShareError::InvalidRequest { reason: "malformed cursor".into() }, |fx| {
        list_shares_impl(&fx.s, alice(), &ListSharesReq { cursor: Some(vec![1, 2].into()), limit: None })
    });
}

#[test]
fn unknown_malformed_revoked_and_deleted_all_answer_not_found() {
    let mut fx = fx();
    let file = fx.ready_file(alice(), 10);
    let revoked = create(&mut fx, alice(), &share(&file)).unwrap().share_id;
    revoke_share_impl(&mut fx.s, alice(), &revoked).unwrap();
    let of_deleted = create(&mut fx, alice(), &share(&file)).unwrap().share_id;
    delete_file_impl(&mut fx.s, alice(), &file, fx.now).unwrap();
    let unknown = "00112233445566778899aabbccddeeff".to_string();
    for id in [revoked, of_deleted, unknown, "".into(), "../../x".into(), "ZZ".repeat(16), "0".repeat(33)] {
        refused(&mut fx, ShareError::NotFound, |fx| resolve(fx, &id));
    }
}

#[test]
fn expiry_and_use_limits_end_a_share_at_their_edge() {
    let mut fx = fx();
    let file = fx.ready_file(alice(), 10);
    let ttl = 3600;
    let timed = create(&mut fx, alice(), &CreateShareReq { expires_in_secs: Some(ttl), ..share(&file) }).unwrap();
    let counted = create(&mut fx, alice(), &CreateShareReq { max_uses: Some(2), ..share(&file) }).unwrap();
    let t0 = fx.now;

    // The URL never outlives the share.
    fx.now = t0 + (ttl - 60) * NANOS_PER_SEC;
    let r = resolve(&mut fx, &timed.share_id).unwrap();
    assert_eq!(r.expires_at_secs, t0 / NANOS_PER_SEC + ttl);
    assert_eq!(SignedUrl::parse(path_of(&r.url)).unwrap().expires_at_secs, r.expires_at_secs);
    fx.now = t0 + ttl * NANOS_PER_SEC - 1;
    resolve(&mut fx, &timed.share_id).unwrap();
    fx.now = t0 + ttl * NANOS_PER_SEC;
    refused(&mut fx, ShareError::Gone { reason: "the share expired".into() }, |fx| resolve(fx, &timed.share_id));

    resolve(&mut fx, &counted.share_id).unwrap();
    resolve(&mut fx, &counted.share_id).unwrap();
    let spent = ShareError::Gone { reason: "the share's uses are spent".into() };
    refused(&mut fx, spent, |fx| resolve(fx, &counted.share_id));
    let listed = list_shares_impl(&fx.s, alice(), &ListSharesReq::default()).unwrap();
    assert_eq!(listed.shares.iter().map(|s| s.uses).collect::<Vec<_>>(), [2, 2], "refusals count no use");
}

#[test]
fn download_only_shares_resolve_to_attachments() {
    let mut fx = fx();
    let file = fx.ready_file(alice(), 10);
    let s = create(&mut fx, alice(), &CreateShareReq { download_only: true, ..share(&file) }).unwrap();
    let r = resolve(&mut fx, &s.share_id).unwrap();
    assert!(r.download_only);
    assert_eq!(SignedUrl::parse(path_of(&r.url)).unwrap().disposition, Disposition::Attachment);
    let plain = create(&mut fx, alice(), &share(&file)).unwrap();
    let r = resolve(&mut fx, &plain.share_id).unwrap();
    assert_eq!(SignedUrl::parse(path_of(&r.url)).unwrap().disposition, Disposition::Inline);
    assert_eq!(SignedUrl::parse(path_of(&r.download_url)).unwrap().disposition, Disposition::Attachment);
}

#[test]
fn a_suspended_owner_s_share_answers_payment_required() {
    let mut fx = fx();
    let file = fx.ready_file(alice(), 10);
    let s = create(&mut fx, alice(), &share(&file)).unwrap();
    let (key, mut record) = fx.s.file_by_key(&file.key().unwrap().0).unwrap();
    record.suspended = true;
    fx.s.files.insert(key, record);
    refused(&mut fx, ShareError::PaymentRequired, |fx| resolve(fx, &s.share_id));
}

#[test]
fn resolutions_are_rate_limited_per_share() {
    let mut fx = fx();
    let file = fx.ready_file(alice(), 10);
    let a = create(&mut fx, alice(), &share(&file)).unwrap().share_id;
    let b = create(&mut fx, alice(), &share(&file)).unwrap().share_id;
    let t0 = fx.now;
    for _ in 0..SHARE_RESOLVES_PER_MINUTE {
        resolve(&mut fx, &a).unwrap();
    }
    fx.now = t0 + 45 * NANOS_PER_SEC;
    refused(&mut fx, ShareError::RateLimited { retry_after_secs: 15 }, |fx| resolve(fx, &a));
    resolve(&mut fx, &b).expect("another share is not affected");
    fx.now = t0 + RATE_WINDOW_SECS * NANOS_PER_SEC;
    resolve(&mut fx, &a).expect("a new window");
}

#[test]
fn the_share_cap_is_reached_and_dead_shares_make_room() {
    let mut fx = fx();
    let file = fx.ready_file(alice(), 10);
    let first =
        create(&mut fx, alice(), &CreateShareReq { expires_in_secs: Some(60), ..share(&file) }).unwrap().share_id;
    for _ in 1..MAX_SHARES_PER_USER {
        create(&mut fx, alice(), &share(&file)).unwrap();
    }
    refused(&mut fx, ShareError::TooManyShares { limit: MAX_SHARES_PER_USER }, |fx| create(fx, alice(), &share(&file)));
    // Bob's cap is his own.
    let bobs = fx.ready_file(bob(), 10);
    create(&mut fx, bob(), &share(&bobs)).unwrap();
    // Once the first has expired, creating drops it and goes on.
    fx.now += 60 * NANOS_PER_SEC;
    create(&mut fx, alice(), &share(&file)).unwrap();
    assert_eq!(revoke_share_impl(&mut fx.s, alice(), &first), Ok(false), "the expired share was dropped");
    assert_eq!(fx.s.shares_by_owner.len(), fx.s.shares.len());

    // Pages of the owner's shares, in creation order, cover them once.
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = None;
    loop {
        let page =
            list_shares_impl(&fx.s, alice(), &ListSharesReq { cursor: cursor.take(), limit: Some(300) }).unwrap();
        assert!(page.shares.len() <= 300);
        for s in page.shares {
            assert!(seen.insert(s.share_id));
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), MAX_SHARES_PER_USER as usize);
}

#[test]
fn share_ids_are_unguessable_draws() {
    let mut fx = fx();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..10_000 {
        let id = fx.s.update_runtime(|r| r.draw_id(ID_DOMAIN_SHARE)).unwrap();
        assert_eq!(id.len(), 16);
        assert!(ids.insert(id), "no repeats");
    }
}
