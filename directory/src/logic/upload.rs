//! Upload sessions: start, routes, tokens, progress, abort.

use super::{accounting, invalid, require_user, unavailable, validate};
use crate::model::State;
use crate::model::buckets::BucketRecord;
use crate::model::deletions::DeleteReason;
use crate::model::files::FileRecord;
use crate::model::runtime::{ID_DOMAIN_FILE, ID_DOMAIN_UPLOAD};
use crate::model::storable::{RouteKey, TimedKey};
use crate::model::uploads::{SessionState, UploadSession};
use crate::model::users::NANOS_PER_SEC;
use candid::Principal;
use depot_api::directory::*;
use depot_api::limits::{MAX_CHUNK_INDICES_PER_CALL, MAX_CHUNKS_PER_TOKEN, MIN_FILE_SIZE, RATE_WINDOW_SECS};
use depot_api::token::{UPLOAD_TOKEN_VERSION, UploadToken};
use depot_api::{BucketId, DirectoryError, FileId, FileKey};
use serde_bytes::ByteBuf;

pub fn start_upload_impl(state: &mut State, caller: Principal, req: StartUploadReq, now_ns: u64) -> StartUploadResult {
    require_user(caller)?;
    if !state.is_initialised() {
        return Err(unavailable("initialising: waiting for randomness from the management canister"));
    }
    let settings = state.settings().clone();
    validate::name(&req.name)?;
    let mime = validate::mime(req.mime.as_deref(), &req.name)?;
    let size = req.size_bytes;
    if !(MIN_FILE_SIZE..=settings.max_file_size).contains(&size) {
        return Err(DirectoryError::InvalidSize { size, min: MIN_FILE_SIZE, max: settings.max_file_size });
    }
    let sha256 = validate::sha256(req.sha256.as_ref().map(|b| b.as_slice()))?;
    let delete_at_ns = super::files::retention_end(req.retention_days, now_ns)?;

    let user = state.user(caller);
    user.check_rate(now_ns, settings.start_upload_per_minute, RATE_WINDOW_SECS)
        .map_err(|retry_after_secs| DirectoryError::RateLimited { retry_after_secs })?;
    if user.uploads_in_progress >= settings.max_uploads_in_progress {
        return Err(DirectoryError::TooManyInProgressUploads { limit: settings.max_uploads_in_progress });
    }
    let available = user.available(settings.default_quota_bytes);
    if size > available {
        return Err(DirectoryError::QuotaExceeded { requested: size, available });
    }
    let Some((bucket_id, chosen)) = choose_bucket(state, size) else {
        // Larger than any bucket could ever take: waiting would not help.
        let largest = super::provisioning::largest_placeable(state);
        if size > largest {
            return Err(DirectoryError::InvalidSize { size, min: MIN_FILE_SIZE, max: largest });
        }
        return Err(unavailable(super::provisioning::no_room_reason(state)));
    };
    // The last check (billing, drift), and the first change: user and
    // bucket reservations.
    let reservation = accounting::reserve(state, caller, bucket_id, size, req.retention_days, now_ns)?;
    if chosen.in_pool {
        // Out of the pool: the provisioning job makes its replacement.
        let mut b = state.buckets.get(&bucket_id).expect("reserved in just now");
        b.in_pool = false;
        state.put_bucket(bucket_id, b);
    }

    // Every check passed: from here on nothing fails.
    let (file_key, upload_id) = state.update_runtime(|rt| {
        let f = rt.draw_id(ID_DOMAIN_FILE).expect("initialised: seed present");
        let u = rt.draw_id(ID_DOMAIN_UPLOAD).expect("initialised: seed present");
        (f, u)
    });
    let chunk_count = size.div_ceil(settings.chunk_size as u64) as u32;
    let expires_at_ns = now_ns.saturating_add(settings.upload_session_ttl_secs * NANOS_PER_SEC);
    let file_id = FileId::new(caller, FileKey(file_key));

    let mut user = state.user(caller);
    user.record_start(now_ns, settings.start_upload_per_minute, RATE_WINDOW_SECS);
    state.put_user(caller, user);

    state.insert_file(FileRecord {
        meta: FileMeta {
            file_id: file_id.clone(),
            name: req.name,
            mime,
            size_bytes: size,
            chunk_size: settings.chunk_size,
            chunk_count,
            created_at_ns: now_ns,
            updated_at_ns: now_ns,
            status: FileStatus::Pending,
            sha256: sha256.map(|h| ByteBuf::from(h.to_vec())),
            bucket: bucket_id,
            delete_at_ns,
        },
        upload_id: Some(upload_id),
        suspended: false,
    });
    state.insert_upload(UploadSession {
        upload_id,
        owner: caller,
        file_key,
        bucket: bucket_id,
        chunk_size: settings.chunk_size,
        size_bytes: size,
        chunk_count,
        sha256,
        created_at_ns: now_ns,
        expires_at_ns,
        state: SessionState::Pending,
        uploaded: UploadSession::empty_bitmap(chunk_count),
        reservation,
        tokens_issued: 0,
    });
    Ok(StartUploadRes {
        upload_id: ByteBuf::from(upload_id.to_vec()),
        file_id,
        chunk_size: settings.chunk_size,
        expected_chunk_count: chunk_count,
        expires_at_ns,
        bucket: bucket_id,
    })
}

/// The bucket for a new file of `size`: among Writable buckets in use whose
/// committed + reserved bytes stay within the soft limit with this file
/// (and that have a file to spare), the emptiest (ties: lowest principal).
/// Spreading new files evens out load and keeps every bucket below its soft
/// limit for as long as possible. Only when none fits is a bucket taken
/// from the pool (the lowest principal), so pooled buckets stay empty and
/// ready.
pub fn choose_bucket(state: &State, size: u64) -> Option<(BucketId, BucketRecord)> {
    // The routing index lists Writable buckets by class (0 in use, 1
    // pooled), then fill: the first that fits is the emptiest, and the
    // search reads a few entries whatever the number of buckets.
    let from = |class: u8| {
        state
            .routing
            .range(RouteKey::first_of(class)..RouteKey::first_of(class + 1))
            .map(|e| e.key().bucket())
            .filter_map(|id| state.buckets.get(&id).map(|b| (id, b)))
            .find(|(_, b)| b.fits(size))
    };
    from(0).or_else(|| from(1))
}

/// The caller's session: `UploadNotFound` for an unknown id, `Unauthorised`
/// for another user's.
pub fn owned_session(state: &State, caller: Principal, upload_id: &[u8]) -> Result<UploadSession, DirectoryError> {
    require_user(caller)?;
    let session = state.upload(upload_id).ok_or(DirectoryError::UploadNotFound)?;
    if session.owner != caller {
        return Err(DirectoryError::Unauthorised);
    }
    Ok(session)
}

/// A session chunks may still be sent for.
fn open_session(
    state: &State,
    caller: Principal,
    upload_id: &[u8],
    now_ns: u64,
) -> Result<UploadSession, DirectoryError> {
    let session = owned_session(state, caller, upload_id)?;
    if session.is_expired(now_ns) {
        return Err(DirectoryError::UploadExpired);
    }
    if super::commit::commit_in_flight(&session, now_ns) {
        return Err(invalid("a commit of this upload is in progress"));
    }
    Ok(session)
}

pub fn route_chunks_impl(
    state: &State,
    caller: Principal,
    upload_id: &[u8],
    indices: &[u32],
    now_ns: u64,
) -> RouteChunksResult {
    let session = open_session(state, caller, upload_id, now_ns)?;
    if indices.len() > MAX_CHUNK_INDICES_PER_CALL {
        return Err(invalid(format!("at most {MAX_CHUNK_INDICES_PER_CALL} chunk indices per call")));
    }
    if let Some(bad) = indices.iter().find(|i| **i >= session.chunk_count) {
        return Err(invalid(format!("chunk index {bad} ≥ chunk count {}", session.chunk_count)));
    }
    // One file, one bucket: every chunk goes to the bucket chosen at
    // start_upload (`FileMeta::bucket`).
    let routes = indices.iter().map(|i| ChunkRoute { chunk_index: *i, bucket: session.bucket }).collect();
    Ok(RouteChunksRes { routes })
}

/// Signs a token for a chunk range of the caller's open upload. Refused
/// (nothing recorded) past the session's `max_tokens_per_upload` or the
/// caller's `upload_tokens_per_minute`; an issued token is counted in both.
pub fn get_upload_token_impl(
    state: &mut State,
    caller: Principal,
    req: &GetUploadTokenReq,
    now_ns: u64,
) -> UploadTokenResult {
    let mut session = open_session(state, caller, &req.upload_id, now_ns)?;
    let (first, last) = (req.first_chunk, req.last_chunk);
    if first > last || last >= session.chunk_count {
        return Err(invalid(format!("chunk range {first}..={last} outside 0..{}", session.chunk_count)));
    }
    if last - first >= MAX_CHUNKS_PER_TOKEN {
        return Err(invalid(format!("a token covers at most {MAX_CHUNKS_PER_TOKEN} chunks")));
    }
    let (kid, signer) = state.signer_for(session.bucket).ok_or_else(|| unavailable("no signing key yet"))?;
    let settings = state.settings().clone();
    // The session cap first: it never resets, so waiting would not help.
    if session.tokens_issued >= settings.max_tokens_per_upload {
        return Err(invalid(format!(
            "this upload has been issued its {} tokens; abort it and start a new upload",
            settings.max_tokens_per_upload
        )));
    }
    let mut user = state.user(caller);
    user.check_token_rate(now_ns, settings.upload_tokens_per_minute, RATE_WINDOW_SECS)
        .map_err(|retry_after_secs| DirectoryError::RateLimited { retry_after_secs })?;

    // Every check passed: count the token for the session and the user.
    session.tokens_issued += 1;
    state.update_upload(session.clone());
    user.record_token(now_ns, settings.upload_tokens_per_minute, RATE_WINDOW_SECS);
    state.put_user(caller, user);

    // Never past the session: a reaped upload's token must not store chunks.
    let ttl_ns = settings.upload_token_ttl_secs * NANOS_PER_SEC;
    let expires_at_ns = now_ns.saturating_add(ttl_ns).min(session.expires_at_ns);
    let mut token = UploadToken {
        version: UPLOAD_TOKEN_VERSION,
        kid,
        upload_id: session.upload_id.to_vec(),
        file_id: session.file_id(),
        bucket: session.bucket,
        chunk_size: session.chunk_size,
        size_bytes: session.size_bytes,
        chunk_count: session.chunk_count,
        first_chunk: first,
        last_chunk: last,
        sha256: session.sha256.map(|h| ByteBuf::from(h.to_vec())),
        expires_at_ns,
        sig: vec![],
    };
    token.sign_with(&signer);
    Ok(token)
}

pub fn mark_chunk_uploaded_impl(
    state: &mut State,
    caller: Principal,
    req: &MarkChunkUploadedReq,
    now_ns: u64,
) -> UnitResult {
    let mut session = open_session(state, caller, &req.upload_id, now_ns)?;
    if req.chunk_index >= session.chunk_count {
        return Err(invalid(format!("chunk index {} ≥ chunk count {}", req.chunk_index, session.chunk_count)));
    }
    if req.etag.as_ref().is_some_and(|e| e.len() != validate::SHA256_BYTES) {
        return Err(invalid("etag must be the chunk's 32-byte SHA-256"));
    }
    session.mark(req.chunk_index);
    state.update_upload(session);
    Ok(())
}

pub fn get_upload_impl(state: &State, caller: Principal, upload_id: &[u8], now_ns: u64) -> UploadProgressResult {
    let session = owned_session(state, caller, upload_id)?;
    if session.is_expired(now_ns) {
        return Err(DirectoryError::UploadExpired);
    }
    Ok(UploadProgress {
        upload_id: ByteBuf::from(session.upload_id.to_vec()),
        file_id: session.file_id(),
        bucket: session.bucket,
        chunk_size: session.chunk_size,
        expected_size_bytes: session.size_bytes,
        expected_chunk_count: session.chunk_count,
        uploaded_chunks: session.uploaded_indices(),
        expires_at_ns: session.expires_at_ns,
    })
}

/// Returns the key of the queued bucket deletion, for an immediate attempt.
pub fn abort_upload_impl(
    state: &mut State,
    caller: Principal,
    upload_id: &[u8],
    now_ns: u64,
) -> Result<TimedKey, DirectoryError> {
    let session = owned_session(state, caller, upload_id)?;
    if super::commit::commit_in_flight(&session, now_ns) {
        return Err(invalid("a commit of this upload is in progress"));
    }
    Ok(release_upload(state, &session, now_ns)?)
}

/// Ends an upload that will not be committed (abort, expiry, hash
/// mismatch): gives back the user's quota reservation, the bucket's
/// capacity reservation and the billing reservation
/// ([`accounting::release`]), removes the session and its Pending file and
/// queues the deletion of partial chunks. On accounting drift nothing is
/// changed.
pub fn release_upload(
    state: &mut State,
    session: &UploadSession,
    now_ns: u64,
) -> Result<TimedKey, accounting::AccountingError> {
    accounting::release(state, session.owner, session.bucket, session.size_bytes, &session.reservation, now_ns)?;
    state.remove_upload(&session.upload_id);
    state.remove_file(&FileKey(session.file_key));
    // Tokens already issued keep working until they expire (never past the
    // session's expiry): sweep once more after that.
    let token_ttl_ns = state.settings().upload_token_ttl_secs * NANOS_PER_SEC;
    let sweep_again = now_ns.saturating_add(token_ttl_ns).min(session.expires_at_ns);
    Ok(state.queue_bucket_delete(
        session.file_id(),
        session.bucket,
        DeleteReason::UploadAborted,
        Some(sweep_again),
        now_ns,
    ))
}
