#!/usr/bin/env bash
# Builds the meeting room's browser code (web/) into the one embedded asset
# internal/web/static/meeting.js, and writes web/bundle.sha256: the SHA-256
# of every input and of the output. The bundle and the stamp are committed,
# so `go build` and `go run` need no Node.js; a Go test
# (internal/web, TestMeetingBundleIsCurrent) recomputes the sums and fails
# when a source, the lock file or the bundle changed without a rebuild.
#
# Idempotent: the same inputs give the same bytes. Needs Node.js and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm ci installs exactly what the lock file names. Install scripts stay
# off: esbuild's only one checks its native binary, which the platform
# package already ships.
npm ci --prefix web --ignore-scripts --no-audit --no-fund --loglevel=error

web/node_modules/.bin/esbuild web/src/meeting.js \
  --bundle --minify --format=iife --target=es2020 \
  --legal-comments=eof --charset=utf8 --log-level=warning \
  --outfile=internal/web/static/meeting.js

# Paths relative to the repository root, sorted, in sha256sum's own format
# so that `sha256sum -c web/bundle.sha256` checks it too.
{
  printf '%s\n' web/package.json web/package-lock.json scripts/build-assets.sh
  find web/src -type f
  printf '%s\n' internal/web/static/meeting.js
} | LC_ALL=C sort | xargs sha256sum >web/bundle.sha256
echo "built internal/web/static/meeting.js ($(wc -c <internal/web/static/meeting.js) bytes)"
