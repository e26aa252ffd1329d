//! Fuzzing of every Depot parser and decoder that takes outside bytes, on
//! stable Rust: a grammar-aware mutation loop (`engine`) plus proptest
//! properties, with a corpus in `fuzz/corpus/<target>/` replayed by the
//! tests. See `fuzz/README.md`.
//!
//! The bucket and the directory both export canister entry points with the
//! same symbol names, so no binary may link both: their targets live in
//! `src/bucket_targets.rs` and `src/directory_targets.rs`, each included by
//! its own binary and test file, and this library links neither.

pub mod api_targets;
pub mod candid_gen;
pub mod engine;

/// Marks a decoder panic as the deliberate trap on a corrupted record.
pub const DELIBERATE_TRAP: &str = "decoding of a state record failed";

/// Runs a stable-record decoder on untrusted bytes: `Some(value)`, or
/// `None` when it trapped with the codec's deliberate message. Any other
/// panic (index out of bounds, overflow, a bare `expect`) is re-raised as a
/// failure of the property.
pub fn decode_or_trap<T>(what: &str, f: impl FnOnce() -> T) -> Option<T> {
    match engine::catch(f) {
        Ok(v) => Some(v),
        Err(msg) if msg.contains(DELIBERATE_TRAP) => None,
        Err(msg) => panic!("{what}::from_bytes panicked outside the deliberate trap: {msg}"),
    }
}
