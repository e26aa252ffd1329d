//! Per-user accounting and the `start_upload` rate limit.

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
        let window_ns = window_secs * NANOS_PER_SEC;
        let recent: Vec<u64> = self.recent_in_window(now_ns, window_ns);
        if recent.len() < limit as usize {
            return Ok(());
        }
        // The call becomes possible when the oldest counted start leaves the
        // window; round up so a client that waits that long succeeds.
        let oldest = recent[recent.len() - limit as usize];
        let free_at = oldest + window_ns;
        Err((free_at - now_ns).div_ceil(NANOS_PER_SEC).max(1))
    }

    /// Records a successful start, dropping entries outside the window.
    pub fn record_start(&mut self, now_ns: u64, limit: u32, window_secs: u64) {
        let mut recent = self.recent_in_window(now_ns, window_secs * NANOS_PER_SEC);
        recent.push(now_ns);
        let excess = recent.len().saturating_sub(limit as usize);
        recent.drain(..excess);
        self.recent_starts_ns = recent;
    }

    fn recent_in_window(&self, now_ns: u64, window_ns: u64) -> Vec<u64> {
        // A start exactly `window` ago has left the window.
        self.recent_starts_ns.iter().copied().filter(|t| t + window_ns > now_ns).collect()
    }
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
    fn available_saturates() {
        let u = UserRecord { quota_bytes: Some(10), used_bytes: 8, reserved_bytes: 5, ..Default::default() };
        assert_eq!(u.available(100), 0);
        assert_eq!(UserRecord::default().available(100), 100);
    }
}
