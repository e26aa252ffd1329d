//! `Range: bytes=…` resolution (RFC 9110 §14.1.2, §14.2).
//!
//! Syntax comes from the `http-range-header` crate; the meaning against a
//! file size is ours, because RFC 9110 differs from that crate's `validate`
//! in two places: a suffix longer than the file means the whole file (not an
//! error), and a first byte at or past the end is unsatisfiable (416).
//! Malformed headers are ignored (RFC 9110 allows it) and multi-range
//! requests are answered with their first range only: a single-part 206 is
//! what every media client expects, and certified multipart bodies would
//! need one tree entry per combination.

use http_range_header::{EndPosition, StartPosition};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeDecision {
    /// No usable Range header: serve as if there were none.
    Ignore,
    /// Serve bytes `start..=end` (inclusive, `end < size`).
    Bytes { start: u64, end: u64 },
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
    let Some(first) = parsed.ranges.first() else { return RangeDecision::Ignore };
    if size == 0 {
        return RangeDecision::Unsatisfiable;
    }
    let last = size - 1;
    match (first.start, first.end) {
        (StartPosition::FromLast(0), _) => RangeDecision::Unsatisfiable,
        (StartPosition::FromLast(n), _) => RangeDecision::Bytes { start: size.saturating_sub(n), end: last },
        // `last-pos < first-pos` makes the range invalid, which RFC 9110
        // says to ignore, wherever the first position lies.
        (StartPosition::Index(a), EndPosition::Index(b)) if b < a => RangeDecision::Ignore,
        (StartPosition::Index(a), _) if a >= size => RangeDecision::Unsatisfiable,
        (StartPosition::Index(a), EndPosition::LastByte) => RangeDecision::Bytes { start: a, end: last },
        (StartPosition::Index(a), EndPosition::Index(b)) => RangeDecision::Bytes { start: a, end: b.min(last) },
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
    fn multi_range_takes_the_first() {
        assert_eq!(resolve("bytes=0-9, 20-29", 1000), Bytes { start: 0, end: 9 });
    }
}
