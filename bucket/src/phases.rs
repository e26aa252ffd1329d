//! Instruction counts per phase of a message, for `depot-bench` only.
//!
//! `mark(name)` notes the instruction counter when a phase ends. In a
//! build without the `bench` feature it compiles to nothing, so the
//! release wasm carries no marks; with it, `bench_http_phases` (lib.rs)
//! returns what one `http_request` spent in each phase.

/// Notes that the phase `name` ended here.
#[inline(always)]
pub fn mark(name: &'static str) {
    #[cfg(all(feature = "bench", target_arch = "wasm32"))]
    MARKS.with_borrow_mut(|m| {
        if let Some(m) = m {
            m.push((name, ic_cdk::api::instruction_counter()))
        }
    });
    #[cfg(not(all(feature = "bench", target_arch = "wasm32")))]
    let _ = name;
}

#[cfg(all(feature = "bench", target_arch = "wasm32"))]
thread_local! {
    /// `Some` while a message that reads the marks runs (`start`): other
    /// messages, updates among them, mark nothing.
    static MARKS: std::cell::RefCell<Option<Vec<(&'static str, u64)>>> = const { std::cell::RefCell::new(None) };
}

/// Starts noting marks, for this message (call first: the counter counts
/// from the message's start).
#[cfg(all(feature = "bench", target_arch = "wasm32"))]
pub fn start() {
    MARKS.set(Some(Vec::new()));
}

/// The phases marked so far in this message, each with the instructions
/// since the previous mark (the first: since the message began).
#[cfg(all(feature = "bench", target_arch = "wasm32"))]
pub fn take() -> Vec<(String, u64)> {
    let marks = MARKS.take().unwrap_or_default();
    let mut before = 0;
    marks
        .into_iter()
        .map(|(name, at)| {
            let spent = at - before;
            before = at;
            (name.to_string(), spent)
        })
        .collect()
}
