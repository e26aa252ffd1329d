#!/usr/bin/env bash
# Builds the web app (www/) into www/dist, which the gateway canister embeds.
# `npm ci` installs exactly www/package-lock.json (skipped while node_modules
# matches it); `npm run build` generates the bindings from the .did files and
# runs Vite. Needs Node ≥ 20.19 (Vite 8).
set -euo pipefail
cd "$(dirname "$0")/../www"
if ! command -v npm >/dev/null 2>&1; then
  echo "build-www.sh: npm is missing (Node ≥ 20.19 with npm builds the web app)" >&2
  exit 1
fi
# A stamp of the lock file npm ci last installed: unchanged, nothing to do.
stamp=node_modules/.depot-installed-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
# Built beside dist and swapped in only when it differs, so that an
# unchanged app leaves dist (and the gateway embedding it) untouched.
rm -rf dist.new
npm run --silent build -- --outDir dist.new --emptyOutDir >&2
if [ -d dist ] && diff -rq dist.new dist >/dev/null; then
  rm -rf dist.new
else
  rm -rf dist
  mv dist.new dist
fi
echo "www: $(find dist -type f | wc -l) files, $(du -sb dist | cut -f1) bytes" >&2
