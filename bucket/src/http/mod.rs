//! Serving files over HTTP through the IC's HTTP gateway.
//!
//! Design (docs/storage.md has the full rationale):
//! - A single-chunk file is one certified 200. A larger file is answered
//!   with a certified 206 of chunk 0; a verifying gateway then fetches and
//!   verifies every other chunk with `Range` requests (up to 1000 chunks,
//!   hence `MAX_CHUNKS_PER_FILE`). No streaming callbacks: the gateway
//!   verifies at most 4 of them and streams the rest unverified.
//! - A `Range` that starts on a chunk boundary and covers the chunk gets
//!   that chunk's certified 206 (a shorter range than asked for when the
//!   request reaches past it, which media clients handle).
//! - Any other range is exact: the query answers `upgrade`, and
//!   `http_request_update` returns the exact bytes up to the end of the
//!   chunk holding the first byte. Update replies are certified by
//!   consensus, so the gateway passes them on without v2 verification.

pub mod answer;
pub mod certs;
pub mod headers;
pub mod range;
pub mod responses;
pub mod serve;
