//! Per-user accounting and the per-user rate limits (`start_upload`,
//! `get_upload_token`).

use super::storable::cbor_storable;
use serde::{Deserialize, Serialize};

pub const NANOS_PER_SEC: u64 = 1_000_000_000;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct UserRecord {
    /// `None`: the directory's default quota (follows a settings change).
    pub quota_bytes: Option<u64>,
    /// Bytes of Ready files.
    pub used_bytes: u64,
    /// Bytes held by uploads in progress.
    pub reserved_bytes: u64,
    pub files_count: u64,
    pub uploads_in_progress: u32,
    /// Times (ns) of the successful `start_upload`s inside the last rate
    /// window, oldest first; at most `start_upload_per_minute` entries.
    pub recent_starts_ns: Vec<u64>,
    /// Times (ns) of the `get_upload_token` calls that issued a token inside
    /// the last rate window, oldest first; at most `upload_tokens_per_minute`
    /// entries. Added later: older records decode with none.
    #[serde(default)]
    pub recent_tokens_ns: Vec<u64>,
}
cbor_storable!(UserRecord);

impl UserRecord {
    pub fn quota(&self, default_quota: u64) -> u64 {
        self.quota_bytes.unwrap_or(default_quota)
    }

    /// Bytes still free under the quota.
    pub fn available(&self, default_quota: u64) -> u64 {
        self.quota(default_quota).saturating_sub(self.used_bytes.saturating_add(self.reserved_bytes))
    }

    /// Sliding window: `Err(retry_after_secs)` when `limit` starts already
    /// happened in the `window_secs` before `now`. Does not record.
    pub fn check_rate(&self, now_ns: u64, limit: u32, window_secs: u64) -> Result<(), u64> {
        check_window(&self.recent_starts_ns, now_ns, limit, window_secs)
    }

    /// Records a successful start, dropping entries outside the window.
    pub fn record_start(&mut self, now_ns: u64, limit: u32, window_secs: u64) {
        record_in_window(&mut self.recent_starts_ns, now_ns, limit, window_secs);
    }

    /// The `get_upload_token` rate, as [`Self::check_rate`]. Does not record.
    pub fn check_token_rate(&self, now_ns: u64, limit: u32, window_secs: u64) -> Result<(), u64> {
        check_window(&self.recent_tokens_ns, now_ns, limit, window_secs)
    }

    /// Records an issued token, dropping entries outside the window.
    pub fn record_token(&mut self, now_ns: u64, limit: u32, window_secs: u64) {
        record_in_window(&mut self.recent_tokens_ns, now_ns, limit, window_secs);
    }
}

/// Sliding window over `times` (oldest first): `Err(retry_after_secs)` when
/// `limit` events already happened in the `window_secs` before `now`.
pub fn check_window(times: &[u64], now_ns: u64, limit: u32, window_secs: u64) -> Result<(), u64> {
    let window_ns = window_secs * NANOS_PER_SEC;
    let recent = in_window(times, now_ns, window_ns);
    if recent.len() < limit as usize {
        return Ok(());
    }
    // The call becomes possible when the oldest counted event leaves the
    // window; round up so a client that waits that long succeeds.
    let oldest = recent[recent.len() - limit as usize];
    let free_at = oldest + window_ns;
    Err((free_at - now_ns).div_ceil(NANOS_PER_SEC).max(1))
}

/// Appends `now`, keeping only the last `limit` events inside the window.
pub fn record_in_window(times: &mut Vec<u64>, now_ns: u64, limit: u32, window_secs: u64) {
    let mut recent = in_window(times, now_ns, window_secs * NANOS_PER_SEC);
    recent.push(now_ns);
    let excess = recent.len().saturating_sub(limit as usize);
    recent.drain(..excess);
    *times = recent;
}

fn in_window(times: &[u64], now_ns: u64, window_ns: u64) -> Vec<u64> {
    // An event exactly `window` ago has left the window.
    times.iter().copied().filter(|t| t + window_ns > now_ns).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_window_edges() {
        let mut u = UserRecord::default();
        let s = NANOS_PER_SEC;
        for i in 0..5 {
            assert_eq!(u.check_rate(i * s, 5, 60), Ok(()));
            u.record_start(i * s, 5, 60);
        }
        // 6th inside the window: refused until the first start is 60 s old.
        assert_eq!(u.check_rate(10 * s, 5, 60), Err(50));
        assert_eq!(u.check_rate(60 * s - 1, 5, 60), Err(1));
        assert_eq!(u.check_rate(60 * s, 5, 60), Ok(()));
        u.record_start(60 * s, 5, 60);
        assert_eq!(u.recent_starts_ns.len(), 5);
        assert_eq!(u.check_rate(60 * s, 5, 60), Err(1));
    }

    #[test]
    fn token_rate_is_counted_apart_from_starts() {
        let mut u = UserRecord::default();
        let s = NANOS_PER_SEC;
        for i in 0..3 {
            assert_eq!(u.check_token_rate(i * s, 3, 60), Ok(()));
            u.record_token(i * s, 3, 60);
        }
        assert_eq!(u.check_token_rate(3 * s, 3, 60), Err(57));
        assert_eq!(u.check_rate(3 * s, 1, 60), Ok(()), "starts are not tokens");
        assert_eq!(u.check_token_rate(60 * s, 3, 60), Ok(()));
        assert!(u.recent_starts_ns.is_empty());
    }

    #[test]
    fn records_stored_before_the_token_rate_decode() {
        #[derive(Serialize)]
        struct Old {
            quota_bytes: Option<u64>,
            used_bytes: u64,
            reserved_bytes: u64,
            files_count: u64,
            uploads_in_progress: u32,
            recent_starts_ns: Vec<u64>,
        }
        let old = Old {
            quota_bytes: None,
            used_bytes: 1,
            reserved_bytes: 2,
            files_count: 3,
            uploads_in_progress: 4,
            recent_starts_ns: vec![5],
        };
        let u: UserRecord = crate::model::storable::cbor_decode(&crate::model::storable::cbor_encode(&old));
        assert_eq!((u.used_bytes, u.recent_starts_ns, u.recent_tokens_ns), (1, vec![5], vec![]));
    }

    #[test]
    fn available_saturates() {
        let u = UserRecord { quota_bytes: Some(10), used_bytes: 8, reserved_bytes: 5, ..Default::default() };
        assert_eq!(u.available(100), 0);
        assert_eq!(UserRecord::default().available(100), 100);
    }
}
