//! Share links (docs/webapp.md §1): an owner creates, lists and revokes
//! shares of their Ready files; anyone holding a share id resolves it to a
//! fresh signed URL, which counts a use.
//!
//! Rules:
//! - Only the owner of a Ready file shares it; only the owner lists and
//!   revokes. Revoking removes the record; revoking an id that names no
//!   share of the caller's (unknown, already revoked, another user's)
//!   changes nothing and answers `false`.
//! - `resolve_share` answers `NotFound` alike for an id not in the share
//!   form, an unknown id, a revoked share and a share whose file is gone,
//!   so that ids cannot be probed; `Gone` for an expired share or one whose
//!   uses are spent; `PaymentRequired` while the owner's files are held
//!   back for non-payment.
//! - A refused resolution changes nothing: no use is counted.
//! - Expired and spent shares, and shares of deleted files, stay listed
//!   (their state shows) until the owner creates a share while at the cap,
//!   which first drops them.

use super::files::signed_url;
use crate::model::State;
use crate::model::runtime::ID_DOMAIN_SHARE;
use crate::model::shares::ShareRecord;
use crate::model::storable::ListKey;
use crate::model::users::NANOS_PER_SEC;
use candid::Principal;
use depot_api::directory::{FileMeta, FileStatus};
use depot_api::limits::*;
use depot_api::share::*;
use depot_api::url::Disposition;
use depot_api::{DirectoryError, FileId, FileKey};
use serde_bytes::ByteBuf;
use std::ops::Bound;

fn invalid(reason: impl Into<String>) -> ShareError {
    ShareError::InvalidRequest { reason: reason.into() }
}

fn from_directory(e: DirectoryError) -> ShareError {
    match e {
        DirectoryError::NotFound => ShareError::NotFound,
        DirectoryError::Unauthorised => ShareError::Unauthorised,
        DirectoryError::InvalidRequest { reason } => ShareError::InvalidRequest { reason },
        DirectoryError::ServiceTemporarilyUnavailable { reason } => {
            ShareError::ServiceTemporarilyUnavailable { reason }
        }
        other => ShareError::ServiceTemporarilyUnavailable { reason: other.to_string() },
    }
}

fn require_user(caller: Principal) -> Result<(), ShareError> {
    super::require_user(caller).map_err(from_directory)
}

/// The shared file, when it is still there and Ready.
fn shared_file(state: &State, rec: &ShareRecord) -> Option<(FileMeta, bool)> {
    let (_, file) = state.file_by_key(&rec.file)?;
    (file.meta.file_id.owner == rec.owner && file.meta.status == FileStatus::Ready)
        .then_some((file.meta, file.suspended))
}

fn info(state: &State, id: &[u8; 16], rec: &ShareRecord, name: String) -> ShareInfo {
    let share_id = hex::encode(id);
    let url = state.settings().share_url_template.as_ref().map(|t| t.replace(SHARE_PLACEHOLDER, &share_id));
    ShareInfo {
        raw_url: url.as_ref().map(|u| format!("{u}/raw")),
        url,
        share_id,
        file_id: FileId::new(rec.owner, FileKey(rec.file)),
        name,
        created_at_ns: rec.created_at_ns,
        expires_at_ns: rec.expires_at_ns,
        download_only: rec.download_only,
        max_uses: rec.max_uses,
        uses: rec.uses,
    }
}

fn remove(state: &mut State, id: &[u8; 16], rec: &ShareRecord) {
    state.shares.remove(id);
    state.shares_by_owner.remove(&ListKey::new(rec.owner, rec.created_at_ns, FileKey(*id)));
}

/// The owner's shares, in creation order.
fn owned(state: &State, owner: Principal) -> Vec<([u8; 16], ShareRecord)> {
    let range = ListKey::first_of(owner)..=ListKey::last_of(owner);
    state
        .shares_by_owner
        .range(range)
        .filter_map(|e| {
            let id = e.key().file.0;
            state.shares.get(&id).map(|r| (id, r))
        })
        .collect()
}

pub fn create_share_impl(state: &mut State, caller: Principal, req: &CreateShareReq, now_ns: u64) -> ShareResult {
    require_user(caller)?;
    let (_, file) = state.owned_file(caller, &req.file_id).map_err(from_directory)?;
    match file.meta.status {
        FileStatus::Ready => {}
        FileStatus::Deleted => return Err(ShareError::NotFound),
        FileStatus::Pending => return Err(invalid("the file is not ready: its upload is not committed")),
    }
    let expires_at_ns = match req.expires_in_secs {
        None => None,
        Some(s) if (1..=MAX_SHARE_TTL_SECS).contains(&s) => Some(now_ns + s * NANOS_PER_SEC),
        Some(_) => return Err(invalid(format!("expires_in_secs must be in 1..={MAX_SHARE_TTL_SECS}"))),
    };
    if req.max_uses.is_some_and(|m| !(1..=MAX_SHARE_USES).contains(&m)) {
        return Err(invalid(format!("max_uses must be in 1..={MAX_SHARE_USES}")));
    }
    let mine = owned(state, caller);
    if mine.len() >= MAX_SHARES_PER_USER as usize {
        let dead: Vec<_> =
            mine.iter().filter(|(_, r)| r.gone(now_ns).is_some() || shared_file(state, r).is_none()).cloned().collect();
        if mine.len() - dead.len() >= MAX_SHARES_PER_USER as usize {
            return Err(ShareError::TooManyShares { limit: MAX_SHARES_PER_USER });
        }
        for (id, r) in &dead {
            remove(state, id, r);
        }
    }
    let id = state.update_runtime(|r| r.draw_id(ID_DOMAIN_SHARE)).ok_or_else(|| {
        ShareError::ServiceTemporarilyUnavailable {
            reason: "initialising: waiting for randomness from the management canister".into(),
        }
    })?;
    let rec = ShareRecord {
        owner: caller,
        file: file.meta.file_id.key().ok_or(ShareError::NotFound)?.0,
        created_at_ns: now_ns,
        expires_at_ns,
        download_only: req.download_only,
        max_uses: req.max_uses,
        uses: 0,
        window_start_ns: 0,
        window_calls: 0,
    };
    state.shares.insert(id, rec.clone());
    state.shares_by_owner.insert(ListKey::new(caller, now_ns, FileKey(id)), ());
    Ok(info(state, &id, &rec, file.meta.name))
}

pub fn list_shares_impl(state: &State, caller: Principal, req: &ListSharesReq) -> ListSharesResult {
    require_user(caller)?;
    let limit = req.limit.unwrap_or(DEFAULT_SHARE_LIST_LIMIT).clamp(1, MAX_SHARE_LIST_LIMIT) as usize;
    let start = match &req.cursor {
        None => Bound::Included(ListKey::first_of(caller)),
        Some(c) => Bound::Excluded(ListKey::from_cursor(caller, c).ok_or_else(|| invalid("malformed cursor"))?),
    };
    let mut shares = Vec::new();
    let mut next = None;
    let mut last: Option<ListKey> = None;
    for e in state.shares_by_owner.range((start, Bound::Included(ListKey::last_of(caller)))) {
        if shares.len() == limit {
            next = last.map(|k| ByteBuf::from(k.cursor()));
            break;
        }
        let id = e.key().file.0;
        let Some(rec) = state.shares.get(&id) else { continue };
        // A share of a deleted file shows with the name it had: none.
        let name = shared_file(state, &rec).map(|(m, _)| m.name).unwrap_or_default();
        shares.push(info(state, &id, &rec, name));
        last = Some(*e.key());
    }
    Ok(ListSharesRes { shares, next })
}

pub fn revoke_share_impl(state: &mut State, caller: Principal, share_id: &str) -> RevokeShareResult {
    require_user(caller)?;
    let Some(id) = parse_share_id(share_id) else { return Ok(false) };
    match state.shares.get(&id) {
        Some(rec) if rec.owner == caller => {
            remove(state, &id, &rec);
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Anyone's call, anonymous included (module comment).
pub fn resolve_share_impl(state: &mut State, share_id: &str, now_ns: u64) -> ResolveShareResult {
    let id = parse_share_id(share_id).ok_or(ShareError::NotFound)?;
    let mut rec = state.shares.get(&id).ok_or(ShareError::NotFound)?;
    let (meta, suspended) = shared_file(state, &rec).ok_or(ShareError::NotFound)?;
    if let Some(reason) = rec.gone(now_ns) {
        return Err(ShareError::Gone { reason: reason.into() });
    }
    if suspended {
        return Err(ShareError::PaymentRequired);
    }
    let window = RATE_WINDOW_SECS * NANOS_PER_SEC;
    if now_ns.saturating_sub(rec.window_start_ns) >= window {
        rec.window_start_ns = now_ns;
        rec.window_calls = 0;
    }
    if rec.window_calls >= SHARE_RESOLVES_PER_MINUTE {
        let left = (rec.window_start_ns + window).saturating_sub(now_ns);
        return Err(ShareError::RateLimited { retry_after_secs: left.div_ceil(NANOS_PER_SEC).max(1) });
    }
    let now_secs = now_ns / NANOS_PER_SEC;
    let until_secs = rec.expires_at_ns.map_or(u64::MAX, |t| t / NANOS_PER_SEC);
    let expires_at_secs = (now_secs + SHARE_URL_TTL_SECS).min(until_secs);
    let disposition = if rec.download_only { Disposition::Attachment } else { Disposition::Inline };
    let url = signed_url(state, &meta, expires_at_secs, disposition).map_err(from_directory)?;
    let download = signed_url(state, &meta, expires_at_secs, Disposition::Attachment).map_err(from_directory)?;
    rec.uses += 1;
    rec.window_calls += 1;
    state.shares.insert(id, rec.clone());
    Ok(ResolvedShare {
        name: meta.name,
        mime: meta.mime,
        size_bytes: meta.size_bytes,
        sha256: meta.sha256,
        download_only: rec.download_only,
        url: url.url,
        download_url: download.url,
        expires_at_secs,
    })
}
