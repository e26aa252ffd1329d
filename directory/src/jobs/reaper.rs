//! Reaps upload sessions past their expiry (`expires_at_ns`, set at
//! `start_upload` from the `upload_session_ttl_secs` setting): each is ended
//! like `abort_upload`, its reservations released and its partial chunks
//! queued for deletion.

use crate::logic::commit::commit_in_flight;
use crate::logic::upload::release_upload;
use crate::model::State;
use crate::model::storable::TimedKey;

/// Sessions ended per run: keeps one run well inside the instruction limit.
pub const REAP_BATCH: usize = 100;

/// A commit still waiting for its bucket this long is considered lost (its
/// callback never ran: an upgrade, or a trap) and the session is reaped
/// like any other (`logic::commit::commit_in_flight`).
pub use crate::logic::commit::COMMIT_STALE_SECS;

/// Expired sessions looked at per run, as a multiple of the batch: commits
/// in progress are skipped, so a run looks a little further than it reaps.
pub const REAP_SCAN_FACTOR: usize = 4;

/// Ends up to `max` expired sessions; returns the queued bucket deletions.
pub fn reap_expired_uploads(state: &mut State, now_ns: u64, max: usize) -> Vec<TimedKey> {
    // Expiry index: every session with expires_at_ns ≤ now, oldest first.
    let candidates: Vec<[u8; 16]> = state
        .upload_expiry
        .keys_range(..=TimedKey::new(now_ns, [0xff; 16]))
        .take(max.saturating_mul(REAP_SCAN_FACTOR))
        .map(|k| k.id)
        .collect();
    let mut queued = Vec::new();
    for id in candidates {
        if queued.len() >= max {
            break;
        }
        let Some(session) = state.uploads.get(&id) else { continue };
        if commit_in_flight(&session, now_ns) {
            continue; // its commit is still running
        }
        // On accounting drift the session stays and is tried again next run
        // (see `logic::accounting`, "Drift").
        if let Ok(key) = release_upload(state, &session, now_ns) {
            queued.push(key);
        }
    }
    queued
}
