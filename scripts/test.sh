#!/usr/bin/env bash
# Runs every test, twice: once on SQLite and once on PostgreSQL.
# It installs and starts what the tests need when it is missing, and is
# safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

export SESSIONS_TEST_POSTGRES_URL="${SESSIONS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

bash scripts/ensure-deps.sh

go vet ./...

# Known vulnerabilities reachable from our code, in our dependencies and the
# Go standard library. govulncheck reads its database from the internet
# (GOVULNDB, https://vuln.go.dev by default); a machine that cannot reach it
# skips the check and says so, instead of failing every run.
vulndb="${GOVULNDB:-https://vuln.go.dev}"
if command -v curl >/dev/null 2>&1 && curl -fsS --max-time 10 -o /dev/null "${vulndb}/index/db.json" 2>/dev/null; then
  GOVULNDB="$vulndb" go run golang.org/x/vuln/cmd/govulncheck@v1.9.0 ./...
else
  echo "govulncheck skipped: its vulnerability database (${vulndb}) cannot be reached from this machine"
fi
# The build without the embedded SFU (-tags nosfu) is compiled and run by
# cmd/sessions' TestBinaryCallWithExternalLiveKit.

# Each package's test binary is built once and run on SQLite, then on
# PostgreSQL (scripts/each-engine); a package fails when either run does.
# Tests that own their database run four at a time: on PostgreSQL they
# mostly wait for the server, so two cores can keep more of them going.
go test -count=1 -timeout 40m -parallel 4 -exec "$PWD/scripts/each-engine" ./...
