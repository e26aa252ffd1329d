#!/usr/bin/env bash
# Builds one canister for deployment: release wasm32, shrunk, with its
# Candid interface as public `candid:service` metadata, gzipped.
#   scripts/build-canister.sh bucket|directory|gateway [OUTPUT]
# Used by dfx.json and icp.yaml. Writes target/canisters/<name>.wasm.gz
# (or OUTPUT when given).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: build-canister.sh bucket|directory|gateway [OUTPUT]}"
out="${2:-target/canisters/${name}.wasm.gz}"
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
if ! command -v ic-wasm >/dev/null 2>&1; then
  echo "installing ic-wasm from crates.io" >&2
  cargo install --locked ic-wasm >&2
fi
if [ "$name" = directory ]; then
  # The directory embeds the bucket it installs (directory/build.rs).
  "$0" bucket target/canisters/bucket.wasm.gz
  export DEPOT_BUCKET_WASM_GZ="$PWD/target/canisters/bucket.wasm.gz"
fi
if [ "$name" = gateway ]; then
  # The gateway embeds the built web app (gateway/build.rs).
  scripts/build-www.sh >&2
  export DEPOT_WWW_DIST="$PWD/www/dist"
fi
cargo build --locked --release --target wasm32-unknown-unknown -p "depot-${name}" >&2
mkdir -p target/canisters "$(dirname "$out")"
raw="target/wasm32-unknown-unknown/release/depot_${name}.wasm"
tmp="target/canisters/${name}.wasm"
ic-wasm "$raw" -o "$tmp" shrink
ic-wasm "$tmp" -o "$tmp" metadata candid:service -f "${name}/${name}.did" -v public
gzip -9 -n -c "$tmp" > "$out"
echo "$out: $(stat -c %s "$out") bytes" >&2
