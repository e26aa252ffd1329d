//! File queries, download pointers (a plan of chunk ranges and buckets, or a
//! signed URL) and deletion.

use super::upload::release_upload;
use super::{accounting, invalid, require_user, unavailable};
use crate::model::State;
use crate::model::deletions::DeleteReason;
use crate::model::files::FileRecord;
use crate::model::settings::BUCKET_PLACEHOLDER;
use crate::model::storable::{ListKey, TimedKey};
use crate::model::users::NANOS_PER_SEC;
use candid::Principal;
use depot_api::directory::*;
use depot_api::limits::{DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, MAX_LIST_SCAN, MAX_NAME_BYTES, MAX_RETENTION_DAYS};
use depot_api::url::UrlGrant;
use depot_api::{DirectoryError, FileId, FileKey};
use serde_bytes::ByteBuf;
use std::ops::Bound;

pub fn list_files_impl(state: &State, caller: Principal, req: &ListFilesReq) -> ListFilesResult {
    require_user(caller)?;
    let limit = req.limit.unwrap_or(DEFAULT_LIST_LIMIT).clamp(1, MAX_LIST_LIMIT) as usize;
    let include_pending = req.include_pending.unwrap_or(false);
    let start = match &req.cursor {
        None => Bound::Included(ListKey::first_of(caller)),
        Some(c) => Bound::Excluded(ListKey::from_cursor(caller, c).ok_or_else(|| invalid("malformed cursor"))?),
    };
    let needle = match req.name_contains.as_deref() {
        Some(t) if t.len() > MAX_NAME_BYTES => {
            return Err(invalid(format!("name_contains is over {MAX_NAME_BYTES} bytes")));
        }
        Some(t) if !t.is_empty() => Some(t.to_lowercase()),
        _ => None,
    };
    let wanted = |r: &FileRecord| {
        let visible = match r.meta.status {
            FileStatus::Ready => true,
            FileStatus::Pending => include_pending,
            FileStatus::Deleted => false,
        };
        visible && needle.as_ref().is_none_or(|n| r.meta.name.to_lowercase().contains(n.as_str()))
    };
    let mut files = Vec::with_capacity(limit.min(64));
    // The last record examined: the next page starts after it.
    let mut last = None;
    let mut more = false;
    for (scanned, (key, record)) in state.files.range((start, Bound::Included(ListKey::last_of(caller)))).enumerate() {
        if scanned == MAX_LIST_SCAN {
            more = true;
            break;
        }
        if wanted(&record) {
            if files.len() == limit {
                more = true;
                break;
            }
            files.push(record.meta);
        }
        last = Some(key);
    }
    let next = if more { last.map(|k| ByteBuf::from(k.cursor())) } else { None };
    Ok(ListFilesRes { files, next })
}

/// A file the caller owns that is not deleted.
fn live_file(state: &State, caller: Principal, file_id: &FileId) -> Result<(ListKey, FileRecord), DirectoryError> {
    let (key, record) = state.owned_file(caller, file_id)?;
    if record.meta.status == FileStatus::Deleted {
        return Err(DirectoryError::NotFound);
    }
    Ok((key, record))
}

fn ready_file(state: &State, caller: Principal, file_id: &FileId) -> Result<FileMeta, DirectoryError> {
    let (_, record) = live_file(state, caller, file_id)?;
    if record.meta.status != FileStatus::Ready {
        return Err(invalid("file is not ready: its upload is not committed"));
    }
    Ok(record.meta)
}

pub fn get_file_meta_impl(state: &State, caller: Principal, file_id: &FileId) -> FileMetaResult {
    Ok(live_file(state, caller, file_id)?.1.meta)
}

pub fn get_download_plan_impl(state: &State, caller: Principal, file_id: &FileId) -> DownloadPlanResult {
    let meta = ready_file(state, caller, file_id)?;
    Ok(DownloadPlan {
        file_id: meta.file_id,
        size_bytes: meta.size_bytes,
        chunk_size: meta.chunk_size,
        chunk_count: meta.chunk_count,
        sha256: meta.sha256,
        // A 0-byte file has no chunks to locate.
        locations: match meta.chunk_count.checked_sub(1) {
            Some(last_chunk) => vec![ChunkRange { first_chunk: 0, last_chunk, bucket: meta.bucket }],
            None => vec![],
        },
    })
}

/// A TTL above `max_download_url_ttl_secs` is refused (not clamped): a
/// client asking for a week must learn it got less, not find out when the
/// link dies.
pub fn get_download_url_impl(
    state: &State,
    caller: Principal,
    req: &GetDownloadUrlReq,
    now_ns: u64,
) -> DownloadUrlResult {
    let meta = ready_file(state, caller, &req.file_id)?;
    let settings = state.settings();
    let ttl = req.ttl_secs.unwrap_or_else(|| settings.default_download_url_ttl_secs());
    if ttl == 0 || ttl > settings.max_download_url_ttl_secs {
        return Err(invalid(format!("ttl_secs must be in 1..={}", settings.max_download_url_ttl_secs)));
    }
    signed_url(state, &meta, now_ns / NANOS_PER_SEC + ttl, req.disposition.unwrap_or_default())
}

/// A URL of `meta`'s file on its bucket, signed with the active key, valid
/// until `expires_at_secs`.
pub fn signed_url(
    state: &State,
    meta: &FileMeta,
    expires_at_secs: u64,
    disposition: depot_api::url::Disposition,
) -> DownloadUrlResult {
    let settings = state.settings();
    let (kid, signer) = state.signer_for(meta.bucket).ok_or_else(|| unavailable("no signing key yet"))?;
    let file = meta.file_id.key().ok_or(DirectoryError::NotFound)?;
    let grant = UrlGrant { bucket: meta.bucket, file, expires_at_secs, disposition };
    let host = settings.domain_template.replace(BUCKET_PLACEHOLDER, &meta.bucket.to_text());
    let url = format!("{}://{host}{}", settings.url_scheme, grant.sign_path_with(kid, &signer));
    Ok(DownloadUrl { url, bucket: meta.bucket, expires_at_secs })
}

/// Deletes a file at once: it disappears from every query and its bytes
/// stop counting against the owner's quota and the bucket's limits before
/// the bucket has deleted anything (optimistic: the bucket deletion is
/// queued and retried until confirmed, see `jobs::reconcile`). A Pending
/// file is aborted. Returns the queued deletion for an immediate attempt.
pub fn delete_file_impl(
    state: &mut State,
    caller: Principal,
    file_id: &FileId,
    now_ns: u64,
) -> Result<(DeleteRes, TimedKey), DirectoryError> {
    let (list_key, record) = live_file(state, caller, file_id)?;
    if record.meta.status == FileStatus::Pending {
        let session = record.upload_id.and_then(|id| state.uploads.get(&id)).ok_or(DirectoryError::NotFound)?;
        if super::commit::commit_in_flight(&session, now_ns) {
            return Err(invalid("a commit of this file is in progress"));
        }
        return Ok((DeleteRes { freed_bytes: 0 }, release_upload(state, &session, now_ns)?));
    }
    let size = record.meta.size_bytes;
    let key = delete_ready(state, list_key, record, now_ns)?;
    Ok((DeleteRes { freed_bytes: size }, key))
}

/// Deletes a Ready file (its owner's `delete_file`, the end of its
/// retention, an account unpaid past its deletion period): usage and
/// storage billing freed at once, the bucket deletion queued. On drift
/// nothing changes.
pub fn delete_ready(
    state: &mut State,
    list_key: ListKey,
    mut record: FileRecord,
    now_ns: u64,
) -> Result<TimedKey, accounting::AccountingError> {
    let meta = &record.meta;
    let (owner, bucket, size) = (meta.file_id.owner, meta.bucket, meta.size_bytes);
    accounting::free(state, owner, bucket, size, meta.chunk_size, now_ns)?;
    record.meta.status = FileStatus::Deleted;
    record.meta.updated_at_ns = now_ns;
    let file_id = record.meta.file_id.clone();
    state.files.insert(list_key, record);
    // Upload tokens issued before the commit may still be valid: the bucket
    // refuses them (it keeps a tombstone of the file), and the directory
    // sweeps once more after the last of them has expired.
    let token_ttl_ns = state.settings().upload_token_ttl_secs * NANOS_PER_SEC;
    let sweep_again = Some(now_ns.saturating_add(token_ttl_ns));
    Ok(state.queue_bucket_delete(file_id, bucket, DeleteReason::FileDeleted, sweep_again, now_ns))
}

/// Days from now as the end of a retention period, checked.
pub fn retention_end(days: Option<u32>, now_ns: u64) -> Result<Option<u64>, DirectoryError> {
    match days {
        None => Ok(None),
        Some(d) if (1..=MAX_RETENTION_DAYS).contains(&d) => {
            Ok(Some(now_ns.saturating_add(u64::from(d) * 86_400 * NANOS_PER_SEC)))
        }
        Some(d) => Err(invalid(format!("retention of {d} days: must be 1..={MAX_RETENTION_DAYS}"))),
    }
}

/// `set_retention`: the owner moves (or removes) the deletion date of a
/// file, Ready or still uploading. Storage is charged until then.
pub fn set_retention_impl(state: &mut State, caller: Principal, req: &SetRetentionReq, now_ns: u64) -> FileMetaResult {
    let delete_at = retention_end(req.days, now_ns)?;
    let (list_key, mut record) = live_file(state, caller, &req.file_id)?;
    record.meta.delete_at_ns = delete_at;
    record.meta.updated_at_ns = now_ns;
    if let (Some(at), FileStatus::Ready) = (delete_at, record.meta.status) {
        let key = record.meta.file_id.key().ok_or(DirectoryError::NotFound)?;
        state.retention.insert(TimedKey::new(at, key.0), ());
    }
    let meta = record.meta.clone();
    state.files.insert(list_key, record);
    Ok(meta)
}

/// Files whose retention has ended, deleted (at most `batch` due
/// entries). An entry whose file is gone, or whose date moved, is dropped.
pub fn expire_retained(state: &mut State, now_ns: u64, batch: usize) -> Vec<TimedKey> {
    let due: Vec<TimedKey> = state.retention.keys().take_while(|k| k.at_ns <= now_ns).take(batch).collect();
    let mut queued = Vec::new();
    for k in due {
        state.retention.remove(&k);
        let Some((list_key, record)) = state.file_by_key(&k.id) else { continue };
        if record.meta.status != FileStatus::Ready || record.meta.delete_at_ns != Some(k.at_ns) {
            continue;
        }
        if let Ok(q) = delete_ready(state, list_key, record, now_ns) {
            queued.push(q);
        }
    }
    queued
}

/// After the bucket confirmed a deletion: the tombstone goes away.
pub fn purge_tombstone(state: &mut State, file_id: &FileId) {
    let Some(key) = file_id.key() else { return };
    if let Some((_, r)) = state.file_by_key(&key.0)
        && r.meta.status == FileStatus::Deleted
    {
        state.remove_file(&FileKey(key.0));
    }
}
