//! `get_upload_token` limits: the per-user rate and the per-session cap, at
//! their edges, per user, and without side effects when refused.

use super::*;
use crate::logic::upload::get_upload_token_impl;
use depot_api::limits::*;

fn token_req(id: &ByteBuf, first: u32, last: u32) -> GetUploadTokenReq {
    GetUploadTokenReq { upload_id: id.clone(), first_chunk: first, last_chunk: last }
}

impl Fx {
    fn token(&mut self, user: Principal, id: &ByteBuf) -> UploadTokenResult {
        let res = get_upload_token_impl(&mut self.s, user, &token_req(id, 0, 0), self.now);
        self.books();
        res
    }
}

/// A per-session cap out of the way of the rate tests.
fn rate_only(per_minute: u32) -> DirectoryInit {
    DirectoryInit {
        upload_tokens_per_minute: Some(per_minute),
        max_tokens_per_upload: Some(MAX_TOKENS_PER_UPLOAD),
        ..Default::default()
    }
}

#[test]
fn token_rate_limit_ok_refused_and_window_edge() {
    let limit = 4;
    let mut fx = Fx::with(rate_only(limit));
    let up = fx.start_ok(alice(), 10);
    let t0 = fx.now;
    for i in 0..limit as u64 {
        fx.now = t0 + i * NANOS_PER_SEC;
        fx.token(alice(), &up.upload_id).unwrap();
    }
    assert_eq!(fx.s.user(alice()).recent_tokens_ns.len(), limit as usize);
    // limit + 1 inside the window: refused, nothing recorded.
    fx.now = t0 + 30 * NANOS_PER_SEC;
    let e = DirectoryError::RateLimited { retry_after_secs: 30 };
    assert_err_unchanged(&mut fx, e, |fx| fx.token(alice(), &up.upload_id));
    // One nanosecond before the first token leaves the window.
    fx.now = t0 + RATE_WINDOW_SECS * NANOS_PER_SEC - 1;
    let e = DirectoryError::RateLimited { retry_after_secs: 1 };
    assert_err_unchanged(&mut fx, e.clone(), |fx| fx.token(alice(), &up.upload_id));
    // Exactly a window later the first token has left it: one more, then full again.
    fx.now = t0 + RATE_WINDOW_SECS * NANOS_PER_SEC;
    fx.token(alice(), &up.upload_id).unwrap();
    assert_err_unchanged(&mut fx, e, |fx| fx.token(alice(), &up.upload_id));
    assert_eq!(fx.s.user(alice()).recent_tokens_ns.len(), limit as usize, "never more than the limit is kept");
    assert_eq!(fx.s.upload(&up.upload_id).unwrap().tokens_issued, limit + 1);
}

#[test]
fn token_rate_is_per_user_and_spans_the_users_sessions() {
    let mut fx = Fx::with(rate_only(2));
    let a1 = fx.start_ok(alice(), 10);
    let a2 = fx.start_ok(alice(), 10);
    let b = fx.start_ok(bob(), 10);
    fx.token(alice(), &a1.upload_id).unwrap();
    fx.token(alice(), &a2.upload_id).unwrap();
    // Alice's limit covers all her sessions...
    let e = DirectoryError::RateLimited { retry_after_secs: RATE_WINDOW_SECS };
    assert_err_unchanged(&mut fx, e.clone(), |fx| fx.token(alice(), &a1.upload_id));
    assert_err_unchanged(&mut fx, e, |fx| fx.token(alice(), &a2.upload_id));
    // ...and does not touch Bob's.
    fx.token(bob(), &b.upload_id).unwrap();
    fx.token(bob(), &b.upload_id).unwrap();
    // Starting uploads and asking for tokens are counted apart.
    assert_eq!(fx.s.user(alice()).recent_starts_ns.len(), 2);
}

#[test]
fn refused_token_calls_do_not_count() {
    let mut fx = Fx::with(rate_only(2));
    let up = fx.start_ok(alice(), 3 * MIB);
    let unknown = ByteBuf::from(vec![0x42; 16]);
    for _ in 0..10 {
        let bad_range = get_upload_token_impl(&mut fx.s, alice(), &token_req(&up.upload_id, 0, 3), fx.now);
        assert!(matches!(bad_range, Err(DirectoryError::InvalidRequest { .. })));
        assert_eq!(fx.token(alice(), &unknown), Err(DirectoryError::UploadNotFound));
        assert_eq!(fx.token(bob(), &up.upload_id), Err(DirectoryError::Unauthorised));
    }
    fx.token(alice(), &up.upload_id).unwrap();
    fx.token(alice(), &up.upload_id).unwrap();
    // Rate-limited calls are not recorded either: the wait does not grow.
    for _ in 0..10 {
        fx.advance_secs(1);
        assert!(matches!(fx.token(alice(), &up.upload_id), Err(DirectoryError::RateLimited { .. })));
    }
    fx.advance_secs(RATE_WINDOW_SECS - 10);
    fx.token(alice(), &up.upload_id).unwrap();
    assert_eq!(fx.s.upload(&up.upload_id).unwrap().tokens_issued, 3);
}

#[test]
fn session_token_cap_edge_is_permanent_and_per_session() {
    let cap = 3;
    let mut fx = Fx::with(DirectoryInit {
        max_tokens_per_upload: Some(cap),
        upload_tokens_per_minute: Some(MAX_UPLOAD_TOKENS_PER_MINUTE),
        ..Default::default()
    });
    let up = fx.start_ok(alice(), 10);
    let other = fx.start_ok(alice(), 10);
    for n in 1..=cap {
        fx.token(alice(), &up.upload_id).unwrap();
        assert_eq!(fx.s.upload(&up.upload_id).unwrap().tokens_issued, n);
    }
    let e = DirectoryError::InvalidRequest {
        reason: format!("this upload has been issued its {cap} tokens; abort it and start a new upload"),
    };
    assert_err_unchanged(&mut fx, e.clone(), |fx| fx.token(alice(), &up.upload_id));
    // Waiting does not reset it (unlike the rate).
    fx.advance_secs(RATE_WINDOW_SECS * 10);
    assert_err_unchanged(&mut fx, e, |fx| fx.token(alice(), &up.upload_id));
    // Another session of the same user has its own count.
    fx.token(alice(), &other.upload_id).unwrap();
    // The session itself still commits.
    fx.commit_ok(alice(), &up.upload_id);
}

#[test]
fn session_cap_is_checked_before_the_rate() {
    // Both exhausted: the permanent refusal wins, so a client does not wait
    // for a rate window that would not help.
    let mut fx = Fx::with(DirectoryInit {
        max_tokens_per_upload: Some(1),
        upload_tokens_per_minute: Some(1),
        ..Default::default()
    });
    let up = fx.start_ok(alice(), 10);
    fx.token(alice(), &up.upload_id).unwrap();
    assert!(matches!(fx.token(alice(), &up.upload_id), Err(DirectoryError::InvalidRequest { .. })));
}

/// The CLI (`cli/src/upload.rs`) asks for one whole-file token and renews it
/// a minute before expiry, and after a `TokenExpired` each of its
/// `DEFAULT_PARALLEL` (4) chunk tasks may ask for a new one. With the
/// defaults, the largest file uploaded that way over a whole session is
/// never refused, even by a slow link with an extra burst at every renewal.
#[test]
fn defaults_never_refuse_the_cli_pattern() {
    let mut fx = Fx::new();
    crate::logic::admin::admin_set_quota_impl(&mut fx.s, alice(), MAX_FILE_SIZE).unwrap();
    let up = fx.start_ok(alice(), MAX_FILE_SIZE);
    let last = up.expected_chunk_count - 1;
    let renew_secs = DEFAULT_UPLOAD_TOKEN_TTL_SECS - 60;
    let mut issued = 0;
    while fx.now + renew_secs * NANOS_PER_SEC < up.expires_at_ns {
        // A renewal, then a TokenExpired burst of one request per task.
        for _ in 0..1 + 4 {
            let t = get_upload_token_impl(&mut fx.s, alice(), &token_req(&up.upload_id, 0, last), fx.now).unwrap();
            assert_eq!((t.first_chunk, t.last_chunk), (0, last), "one token covers the whole file");
            issued += 1;
        }
        fx.advance_secs(renew_secs);
    }
    assert!(issued <= DEFAULT_MAX_TOKENS_PER_UPLOAD, "{issued}");
    assert!(issued > 5 * 100, "the loop covered the session: {issued}");
}

/// Every upload in progress may burst (1 renewal + 4 tasks) in one minute.
const _: () = assert!(DEFAULT_MAX_UPLOADS_IN_PROGRESS * 5 <= DEFAULT_UPLOAD_TOKENS_PER_MINUTE);

#[test]
fn defaults_allow_every_upload_in_progress_to_burst_at_once() {
    let mut fx = Fx::with(DirectoryInit { start_upload_per_minute: Some(100), ..Default::default() });
    let ups: Vec<_> = (0..DEFAULT_MAX_UPLOADS_IN_PROGRESS).map(|_| fx.start_ok(alice(), 10).upload_id).collect();
    for id in &ups {
        for _ in 0..1 + 4 {
            fx.token(alice(), id).unwrap();
        }
    }
    // The rest of the minute's budget, then the refusal.
    for _ in DEFAULT_MAX_UPLOADS_IN_PROGRESS * 5..DEFAULT_UPLOAD_TOKENS_PER_MINUTE {
        fx.token(alice(), &ups[0]).unwrap();
    }
    assert!(matches!(fx.token(alice(), &ups[0]), Err(DirectoryError::RateLimited { .. })));
}

#[test]
fn sessions_stored_before_the_token_count_decode_with_zero() {
    use crate::model::billing::Reservation;
    use crate::model::storable::{cbor_decode, cbor_encode};
    use crate::model::uploads::{SessionState, UploadSession};
    /// `UploadSession` as an older directory stored it.
    #[derive(serde::Serialize)]
    struct Old<'a> {
        upload_id: [u8; 16],
        owner: Principal,
        file_key: [u8; 16],
        bucket: Principal,
        chunk_size: u32,
        size_bytes: u64,
        chunk_count: u32,
        sha256: Option<[u8; 32]>,
        created_at_ns: u64,
        expires_at_ns: u64,
        state: SessionState,
        #[serde(with = "serde_bytes")]
        uploaded: &'a [u8],
        reservation: &'a Reservation,
    }
    let mut fx = Fx::new();
    let up = fx.start_ok(alice(), 10);
    fx.token(alice(), &up.upload_id).unwrap();
    let s = fx.s.upload(&up.upload_id).unwrap();
    let old = Old {
        upload_id: s.upload_id,
        owner: s.owner,
        file_key: s.file_key,
        bucket: s.bucket,
        chunk_size: s.chunk_size,
        size_bytes: s.size_bytes,
        chunk_count: s.chunk_count,
        sha256: s.sha256,
        created_at_ns: s.created_at_ns,
        expires_at_ns: s.expires_at_ns,
        state: s.state,
        uploaded: &s.uploaded,
        reservation: &s.reservation,
    };
    let decoded: UploadSession = cbor_decode(&cbor_encode(&old));
    assert_eq!(decoded, UploadSession { tokens_issued: 0, ..s.clone() });
    assert_eq!(s.tokens_issued, 1);
}
