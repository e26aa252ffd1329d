//! `commit_upload` in two pure steps around the bucket call:
//! [`begin_commit`] checks and moves the session to Committing;
//! [`finish_commit`] applies the bucket's answer.

use super::upload::{owned_session, release_upload};
use super::{CallFailure, accounting, invalid};
use crate::model::State;
use crate::model::storable::TimedKey;
use crate::model::uploads::{SessionState, UploadSession};
use crate::model::users::NANOS_PER_SEC;
use candid::Principal;
use depot_api::bucket::{CommitFileArgs, CommitFileResult, EmptyFile};
use depot_api::directory::{CommitUploadReq, CommitUploadResult, FileStatus};
use depot_api::error::InternalFault;
use depot_api::ids::ID_BYTES;
use depot_api::{BucketError, DirectoryError, FileKey};

/// A commit still waiting for its bucket this long is lost, not slow: far
/// above what hashing the largest file takes.
pub const COMMIT_STALE_SECS: u64 = 60 * 60;

/// True while a commit of `session` may still be waiting for its bucket:
/// Committing for less than [`COMMIT_STALE_SECS`]. A commit older than that
/// is lost: its second half never ran (the directory was upgraded while the
/// bucket call was out, or the callback trapped), and nothing else would
/// ever move the session out of Committing. The session then counts as
/// Pending again: it may be committed again (the bucket answers an already
/// committed file as committed), aborted or deleted, and the reaper ends it
/// at its expiry.
pub fn commit_in_flight(session: &UploadSession, now_ns: u64) -> bool {
    match session.state {
        SessionState::Pending => false,
        SessionState::Committing { since_ns } => {
            now_ns.saturating_sub(since_ns) < COMMIT_STALE_SECS.saturating_mul(NANOS_PER_SEC)
        }
    }
}

/// The bucket call a commit needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitPlan {
    pub upload_id: [u8; ID_BYTES],
    pub bucket: Principal,
    pub args: CommitFileArgs,
}

/// Commit outcome: the result for the caller and, when the upload was
/// aborted (hash mismatch), the queued bucket deletion to attempt now.
pub struct CommitOutcome {
    pub result: CommitUploadResult,
    pub queued_delete: Option<TimedKey>,
}

pub fn begin_commit(
    state: &mut State,
    caller: Principal,
    req: &CommitUploadReq,
    now_ns: u64,
) -> Result<CommitPlan, DirectoryError> {
    let mut session = owned_session(state, caller, &req.upload_id)?;
    if session.is_expired(now_ns) {
        return Err(DirectoryError::UploadExpired);
    }
    if commit_in_flight(&session, now_ns) {
        return Err(invalid("a commit of this upload is already in progress"));
    }
    if let Some(n) = req.uploaded_chunk_count
        && n != session.chunk_count
    {
        return Err(invalid(format!("uploaded_chunk_count {n} ≠ chunk count {}", session.chunk_count)));
    }
    if let Some(h) = &req.final_sha256 {
        let h: [u8; 32] = h.as_slice().try_into().map_err(|_| invalid("final_sha256 must be 32 bytes"))?;
        match session.sha256 {
            Some(declared) if declared != h => {
                return Err(invalid("final_sha256 differs from the SHA-256 declared at start_upload"));
            }
            Some(_) => {}
            // The bucket hashes only what the token declares: accepting an
            // undeclared final hash would look verified and not be.
            None => return Err(invalid("final_sha256 needs a SHA-256 declared at start_upload to be checked against")),
        }
    }
    let (_, file) = state
        .file_by_key(&session.file_key)
        .ok_or_else(|| DirectoryError::internal(InternalFault::CommitSessionLost, "file of session missing"))?;
    session.state = SessionState::Committing { since_ns: now_ns };
    let plan = CommitPlan {
        upload_id: session.upload_id,
        bucket: session.bucket,
        args: CommitFileArgs {
            file_id: session.file_id(),
            upload_id: session.upload_id.to_vec(),
            name: file.meta.name,
            mime: file.meta.mime,
            // No put_chunk told the bucket about a 0-byte file.
            empty_file: (session.size_bytes == 0).then(|| EmptyFile {
                chunk_size: session.chunk_size,
                sha256: session.sha256.map(|h| serde_bytes::ByteBuf::from(h.to_vec())),
            }),
        },
    };
    state.update_upload(session);
    Ok(plan)
}

/// Applies the bucket's final answer (never `HashInProgress`: the caller
/// repeats the call until hashing is done).
pub fn finish_commit(
    state: &mut State,
    upload_id: &[u8; ID_BYTES],
    answer: Result<CommitFileResult, CallFailure>,
    now_ns: u64,
) -> CommitOutcome {
    let lost = || {
        DirectoryError::internal(InternalFault::CommitSessionLost, "upload session ended while the bucket committed")
    };
    let Some(session) = state.uploads.get(upload_id) else {
        return CommitOutcome { result: Err(lost()), queued_delete: None };
    };
    let back_to_pending = |state: &mut State, mut session: crate::model::uploads::UploadSession, err| {
        session.state = SessionState::Pending;
        state.update_upload(session);
        CommitOutcome { result: Err(err), queued_delete: None }
    };
    let bucket = session.bucket;
    let ok = match answer {
        Err(failure) => return back_to_pending(state, session, failure.into()),
        // Already committed (a retried commit whose first reply was lost):
        // the bytes are stored and checked, so the commit stands.
        Ok(Err(BucketError::AlreadyCommitted)) => None,
        Ok(Ok(ok)) => Some(ok),
        Ok(Err(BucketError::UploadIncomplete { missing })) => {
            return back_to_pending(state, session, DirectoryError::UploadIncomplete { missing });
        }
        Ok(Err(BucketError::HashMismatch { .. })) => {
            return match release_upload(state, &session, now_ns) {
                Ok(key) => CommitOutcome { result: Err(DirectoryError::HashMismatch), queued_delete: Some(key) },
                // Nothing was released: the session stays, as after any
                // failed commit (see `accounting`, "Drift").
                Err(drift) => back_to_pending(state, session, drift.into()),
            };
        }
        Ok(Err(error)) => return back_to_pending(state, session, DirectoryError::Bucket { bucket, error }),
    };

    let Some((list_key, mut file)) = state.file_by_key(&session.file_key) else {
        return CommitOutcome { result: Err(lost()), queued_delete: None };
    };
    let size = session.size_bytes;
    if let Err(drift) = accounting::settle(state, session.owner, bucket, size, &session.reservation, now_ns) {
        // Nothing was settled: the session stays, as after any failed
        // commit (see `accounting`, "Drift").
        return back_to_pending(state, session, drift.into());
    }
    state.remove_upload(&session.upload_id);

    file.meta.status = FileStatus::Ready;
    file.meta.updated_at_ns = now_ns;
    if let Some(h) = ok.and_then(|ok| ok.sha256) {
        file.meta.sha256 = Some(h);
    }
    file.upload_id = None;
    let meta = file.meta.clone();
    state.files.insert(list_key, file);
    if let Some(at) = meta.delete_at_ns {
        state.retention.insert(TimedKey::new(at, session.file_key), ());
    }

    debug_assert_eq!(meta.file_id.key(), Some(FileKey(session.file_key)));
    CommitOutcome { result: Ok(meta), queued_delete: None }
}
