//! Fuzzes the `depot-directory` targets (see `depot_fuzz::engine::main_with`).
#[path = "../directory_targets.rs"]
mod directory_targets;

fn main() {
    depot_fuzz::engine::main_with(directory_targets::targets());
}
