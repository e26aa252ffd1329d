#!/usr/bin/env bash
# Bounded fuzzing pass over every parser and decoder that takes outside
# bytes (fuzz/README.md): URLs and file keys, MIME types, upload tokens, the
# Candid arguments of every method, Range and the serving plan, the stable
# records. Prints, per target, the cases tried and the failures found;
# failing inputs are saved under fuzz/artifacts/<target>/. Exits 1 on any
# failure.
#
#   DEPOT_FUZZ_CASES  cases per target (default 120000: about 1.5-2 minutes on
#                     2 cores once built)
#   DEPOT_FUZZ_SEED   seed (default: the clock; printed, to replay a run)
#   arguments         target names to run only those (see --list)
#
# Built optimised with overflow checks and debug assertions on, and with
# panic=unwind (the workspace release profile aborts on panic, and the
# fuzzer must catch panics to count them), in its own profile directory
# (target/fuzz/) so nothing else's build is disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEPOT_FUZZ_CASES="${DEPOT_FUZZ_CASES:-120000}"
profile=(
  --profile fuzz
  --config 'profile.fuzz.inherits="release"'
  --config 'profile.fuzz.panic="unwind"'
  --config 'profile.fuzz.lto=false'
  --config 'profile.fuzz.codegen-units=16'
  --config 'profile.fuzz.overflow-checks=true'
  --config 'profile.fuzz.debug-assertions=true'
)
cargo build --locked -q -p depot-fuzz --bins "${profile[@]}"

start=$(date +%s)
status=0
for bin in depot-fuzz depot-fuzz-bucket depot-fuzz-directory; do
  "target/fuzz/$bin" "$@" || status=1
done
echo "fuzz: every target done in $(($(date +%s) - start))s (exit $status)"
exit "$status"
