//! Fuzzes the `depot-api` targets (see `depot_fuzz::engine::main_with`).
use depot_fuzz::api_targets::{MAX_COST, MAX_COST_PER_BYTE};
use std::sync::atomic::Ordering;

fn main() {
    depot_fuzz::engine::main_with(depot_fuzz::api_targets::targets());
    println!(
        "candid: largest decoding cost {} (ic-cdk config), largest cost per input byte {}",
        MAX_COST.load(Ordering::Relaxed),
        MAX_COST_PER_BYTE.load(Ordering::Relaxed)
    );
}
