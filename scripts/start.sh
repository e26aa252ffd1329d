#!/usr/bin/env bash
# The main job: builds the canisters (release wasm), starts devnet on
# 127.0.0.1:4943 (DEPOT_PORT to change) with the directory deployed (it
# creates its buckets as uploads need them; --bucket-capacity BYTES makes
# them small for a demo), and devnet's test ledgers beside it (the CLI's identity gets
# test tokens and cycles), prints their ids and a quick start, and runs until Ctrl-C.
# The state is kept in ~/.local/share/depot/devnet (--state-dir DIR or
# DEPOT_STATE_DIR to move it) and resumed at the next start; --fresh starts over.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null
./scripts/build-wasm.sh
cargo build --locked -p depot-cli -p depot-tests
# Debug profile: shares the test build; the hot crates are optimised (Cargo.toml).
exec cargo run --locked -p depot-tests --bin depot-local -- "$@"
