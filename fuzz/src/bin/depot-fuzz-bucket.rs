//! Fuzzes the `depot-bucket` targets (see `depot_fuzz::engine::main_with`).
#[path = "../bucket_targets.rs"]
mod bucket_targets;

fn main() {
    depot_fuzz::engine::main_with(bucket_targets::targets());
}
