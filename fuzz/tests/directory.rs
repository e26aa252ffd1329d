//! Corpus replay and a small bounded fuzzing pass over the `depot-directory`
//! targets (`scripts/fuzz.sh` runs the long pass).

#[path = "../src/directory_targets.rs"]
mod directory_targets;

use depot_fuzz::engine::test_pass;

#[test]
fn corpus_and_bounded_pass() {
    test_pass(&directory_targets::targets(), 256);
}
