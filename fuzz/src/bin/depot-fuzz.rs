//! Fuzzes the `depot-api` targets (see `depot_fuzz::engine::main_with`).
fn main() {
    depot_fuzz::engine::main_with(depot_fuzz::api_targets::targets());
}
