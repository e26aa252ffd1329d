//! `Range: bytes=…` resolution (RFC 9110 §14.1.2, §14.2).
//!
//! Syntax comes from the `http-range-header` crate; the meaning against a
//! file size is ours, because RFC 9110 differs from that crate's `validate`
//! in two places: a suffix longer than the file means the whole file (not an
//! error), and a first byte at or past the end is unsatisfiable (416).
//! Malformed headers are ignored (RFC 9110 allows it). Multi-range requests
//! keep every satisfiable range, sorted and with overlapping or adjacent
//! ones merged (RFC 9110 §14.2 lets a server coalesce); when one range is
//! left, the answer is a plain single-part 206.

use http_range_header::{EndPosition, StartPosition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeDecision {
    /// No usable Range header: serve as if there were none.
    Ignore,
    /// Serve bytes `start..=end` (inclusive, `end < size`).
    Bytes { start: u64, end: u64 },
    /// Several disjoint ranges, sorted, each `(start, end)` inclusive:
    /// a `multipart/byteranges` answer.
    Multi(Vec<(u64, u64)>),
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

pub fn resolve(header: &str, size: u64) -> RangeDecision {
    let parsed = match http_range_header::parse_range_header(header.trim()) {
        Ok(p) => p,
        // A zero-length suffix (`bytes=-0`) is well-formed but selects nothing.
        Err(http_range_header::RangeUnsatisfiableError::ZeroSuffix) => return RangeDecision::Unsatisfiable,
        Err(_) => return RangeDecision::Ignore,
    };
    if parsed.ranges.is_empty() {
        return RangeDecision::Ignore;
    }
    let mut ranges = Vec::with_capacity(parsed.ranges.len());
    for r in &parsed.ranges {
        match one(r.start, r.end, size) {
            // One invalid range makes the whole header invalid: ignored.
            One::Invalid => return RangeDecision::Ignore,
            One::Unsatisfiable => {}
            One::Bytes(a, b) => ranges.push((a, b)),
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    match merged.as_slice() {
        [] => RangeDecision::Unsatisfiable,
        [(start, end)] => RangeDecision::Bytes { start: *start, end: *end },
        _ => RangeDecision::Multi(merged),
    }
}

/// `N` when the header is exactly one open-ended range `bytes=N-`.
pub fn open_start(header: &str) -> Option<u64> {
    let parsed = http_range_header::parse_range_header(header.trim()).ok()?;
    match parsed.ranges.as_slice() {
        [r] => match (r.start, r.end) {
            (StartPosition::Index(a), EndPosition::LastByte) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

enum One {
    Invalid,
    Unsatisfiable,
    Bytes(u64, u64),
}

fn one(start: StartPosition, end: EndPosition, size: u64) -> One {
    if size == 0 {
        return One::Unsatisfiable;
    }
    let last = size - 1;
    match (start, end) {
        (StartPosition::FromLast(0), _) => One::Unsatisfiable,
        (StartPosition::FromLast(n), _) => One::Bytes(size.saturating_sub(n), last),
        // `last-pos < first-pos` makes the range invalid, which RFC 9110
        // says to ignore, wherever the first position lies.
        (StartPosition::Index(a), EndPosition::Index(b)) if b < a => One::Invalid,
        (StartPosition::Index(a), _) if a >= size => One::Unsatisfiable,
        (StartPosition::Index(a), EndPosition::LastByte) => One::Bytes(a, last),
        (StartPosition::Index(a), EndPosition::Index(b)) => One::Bytes(a, b.min(last)),
    }
}

#[cfg(test)]
mod tests {
    use super::RangeDecision::*;
    use super::*;

    #[test]
    fn every_form() {
        assert_eq!(resolve("bytes=0-99", 1000), Bytes { start: 0, end: 99 });
        assert_eq!(resolve("bytes=100-", 1000), Bytes { start: 100, end: 999 });
        assert_eq!(resolve("bytes=-10", 1000), Bytes { start: 990, end: 999 });
        assert_eq!(resolve("bytes=-5000", 1000), Bytes { start: 0, end: 999 }, "long suffix = whole file");
        assert_eq!(resolve("bytes=990-5000", 1000), Bytes { start: 990, end: 999 }, "end clamped");
        assert_eq!(resolve("bytes=999-999", 1000), Bytes { start: 999, end: 999 });
        assert_eq!(resolve("bytes=5-1", 1000), Ignore, "reversed: invalid, ignored");
        assert_eq!(resolve("bytes=2000-1", 1000), Ignore, "reversed past the end: still invalid, not 416");
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(resolve("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(resolve("bytes=1000-2000", 1000), Unsatisfiable);
        assert_eq!(resolve("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(resolve("bytes=0-", 0), Unsatisfiable);
    }

    #[test]
    fn malformed_is_ignored() {
        for h in
            ["", "bytes", "bytes=", "items=0-1", "bytes=a-b", "bytes=--1", "bytes=5-1", "bytes=1-2-3", " bytes = 1-2"]
        {
            assert_eq!(resolve(h, 1000), Ignore, "{h:?}");
        }
    }

    #[test]
    fn overflow_is_not_a_panic() {
        assert_eq!(resolve("bytes=18446744073709551615-", 1000), Unsatisfiable);
        assert_eq!(resolve("bytes=0-18446744073709551615", 1000), Bytes { start: 0, end: 999 });
        assert_eq!(resolve("bytes=99999999999999999999999-", 1000), Ignore);
        assert_eq!(resolve("bytes=-18446744073709551615", 1000), Bytes { start: 0, end: 999 });
    }

    #[test]
    fn open_start_only_for_one_open_range() {
        assert_eq!(open_start("bytes=100-"), Some(100));
        assert_eq!(open_start("bytes=100-999"), None);
        assert_eq!(open_start("bytes=-100"), None);
        assert_eq!(open_start("bytes=100-,200-"), None);
        assert_eq!(open_start("nonsense"), None);
    }

    #[test]
    fn multi_range_is_sorted_and_merged() {
        assert_eq!(resolve("bytes=0-9, 20-29", 1000), Multi(vec![(0, 9), (20, 29)]));
        assert_eq!(resolve("bytes=20-29,0-9", 1000), Multi(vec![(0, 9), (20, 29)]));
        assert_eq!(resolve("bytes=0-9,10-19", 1000), Bytes { start: 0, end: 19 }, "adjacent");
        assert_eq!(resolve("bytes=0-15,10-19,-5", 1000), Multi(vec![(0, 19), (995, 999)]));
        assert_eq!(resolve("bytes=0-9,5000-6000", 1000), Bytes { start: 0, end: 9 }, "unsatisfiable part dropped");
        assert_eq!(resolve("bytes=2000-,5000-6000", 1000), Unsatisfiable);
        assert_eq!(resolve("bytes=0-9,9-1", 1000), Ignore, "one invalid range: the header is ignored");
    }
}
