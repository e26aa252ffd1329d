//! Corpus replay and a small bounded fuzzing pass over the `depot-bucket`
//! targets (`scripts/fuzz.sh` runs the long pass).

#[path = "../src/bucket_targets.rs"]
mod bucket_targets;

use depot_fuzz::engine::test_pass;

#[test]
fn corpus_and_bounded_pass() {
    test_pass(&bucket_targets::targets(), 256);
}
