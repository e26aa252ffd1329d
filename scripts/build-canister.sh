#!/usr/bin/env bash
# Builds one canister for deployment: the release wasm32 that
# scripts/build-wasm.sh makes (the directory with the bucket inside, the
# gateway with the web app inside), shrunk, with its Candid interface as
# public `candid:service` metadata, gzipped.
#   scripts/build-canister.sh directory|gateway|bucket [OUTPUT]
# Used by dfx.json and icp.yaml. Writes target/canisters/<name>.wasm.gz
# (or OUTPUT when given).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
name="${1:?usage: build-canister.sh directory|gateway|bucket [OUTPUT]}"
case "$name" in directory|gateway|bucket) ;; *) echo "build-canister.sh: no canister $name" >&2; exit 2 ;; esac
out="${2:-target/canisters/${name}.wasm.gz}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
if ! command -v ic-wasm >/dev/null 2>&1; then
  echo "installing ic-wasm from crates.io" >&2
  cargo install --locked ic-wasm --version 0.11.1 >&2
fi
# The same artifacts the tests and devnet load; a no-op when nothing changed.
./scripts/build-wasm.sh >&2
mkdir -p "$target/canisters" "$(dirname "$out")"
tmp=$(mktemp "$target/canisters/${name}.XXXXXX.wasm")
trap 'rm -f "$tmp"' EXIT
ic-wasm "$target/wasm32-unknown-unknown/release/depot_${name}.wasm" -o "$tmp" shrink
ic-wasm "$tmp" -o "$tmp" metadata candid:service -f "${name}/${name}.did" -v public
gzip -9 -n -c "$tmp" > "$out"
echo "$out: $(stat -c %s "$out") bytes" >&2
