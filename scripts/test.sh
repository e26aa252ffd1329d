#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs what it needs
# (the wasm target, Debian/npm packages that tests use), builds the canisters
# for wasm32 in release, then runs all unit, devnet and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null
rustup component add rustfmt clippy >/dev/null

# Hygiene gate: formatting and lints, before anything slow.
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo clippy --locked --target wasm32-unknown-unknown -p depot-bucket -p depot-directory -p depot-gateway \
  -p test-icrc-ledger -p test-cycles-ledger -p test-wallet -p test-cmc -- -D warnings

# Real clients the end-to-end tests drive: Chromium (tests/tests/e2e_browser.rs;
# its npm package playwright-core is installed by the test from the lock
# file), curl, wget, aria2c and ffmpeg (tests/tests/e2e_http.rs, e2e_media.rs).
missing=""
for pair in chromium:chromium curl:curl wget:wget aria2c:aria2 ffmpeg:ffmpeg; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

# Canister wasm (release): the bucket, the directory embedding it, the web
# app and the gateway embedding it, and devnet's test-only ledgers and
# wallet (devnet/test-canisters/README.md).
./scripts/build-wasm.sh
# The deployable directory (shrunk, with its Candid metadata) as dfx and
# icp-cli build it; this also installs ic-wasm, which icp deploy's build
# steps need in tests/tests/e2e_icp_cli.rs.
./scripts/build-canister.sh directory
# The web app's type check (svelte-check over its TypeScript and Svelte,
# warnings included, accessibility hints among them).
(cd www && npm run --silent check)

# A bounded fuzzing pass (fuzz/README.md), new random cases each run (the
# seed is printed, DEPOT_FUZZ_SEED replays it); the tests below also replay
# the corpus. Before the tests so that their summary ends the output.
DEPOT_FUZZ_CASES="${DEPOT_FUZZ_CASES:-30000}" ./scripts/fuzz.sh

if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast
else
  cargo test --locked --workspace --no-fail-fast
fi
