#!/usr/bin/env bash
# Builds the canisters' release wasm the way the tests and depot-local load
# them (target/wasm32-unknown-unknown/release): the bucket first, gzipped to
# target/canisters/bucket-embedded.wasm.gz, then the directory embedding it
# (directory/build.rs, DEPOT_BUCKET_WASM_GZ), then the web app (www/, npm)
# and the gateway embedding it (gateway/build.rs, DEPOT_WWW_DIST), then
# devnet's test-only canisters. Cargo makes every step a no-op when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
# One build at a time: icp-cli builds its canisters side by side, and two
# web app builds in www/ at once would interleave.
mkdir -p "$target"
exec 9>"$target/.build-wasm.lock"
flock 9
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo build --locked --release --target wasm32-unknown-unknown -p depot-bucket
mkdir -p "$target/canisters"
gz="$target/canisters/bucket-embedded.wasm.gz"
gzip -9 -n -c "$target/wasm32-unknown-unknown/release/depot_bucket.wasm" > "$gz.tmp"
# Replaced only when it changed, so the directory is not rebuilt for nothing.
if cmp -s "$gz.tmp" "$gz"; then rm "$gz.tmp"; else mv "$gz.tmp" "$gz"; fi
DEPOT_BUCKET_WASM_GZ="$gz" cargo build --locked --release --target wasm32-unknown-unknown -p depot-directory
"$PWD/scripts/build-www.sh"
DEPOT_WWW_DIST="$PWD/www/dist" cargo build --locked --release --target wasm32-unknown-unknown -p depot-gateway
cargo build --locked --release --target wasm32-unknown-unknown -p test-icrc-ledger -p test-cycles-ledger -p test-wallet -p test-cmc
for c in bucket directory gateway; do
  f="$target/wasm32-unknown-unknown/release/depot_${c}.wasm"
  echo "wasm: depot_${c}.wasm $(stat -c %s "$f") bytes, gzipped $(gzip -9 -n -c "$f" | wc -c) bytes" >&2
done
dir_gz=$(gzip -9 -n -c "$target/wasm32-unknown-unknown/release/depot_directory.wasm" | wc -c)
# The directory (bucket inside) is installed in one message up to this size;
# past it, deployments need chunked installs (docs/provisioning.md §1).
if [ "$dir_gz" -ge $((1900 * 1024)) ]; then
  echo "directory wasm gzipped is ${dir_gz} bytes, over the 1.9 MiB budget for one install message" >&2
  exit 1
fi
