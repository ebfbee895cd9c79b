#!/usr/bin/env bash
# Runs every test, twice: once on SQLite and once on PostgreSQL.
# It installs and starts what the tests need when it is missing, and is
# safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

export SESSIONS_TEST_POSTGRES_URL="${SESSIONS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

bash scripts/ensure-deps.sh

go vet ./...
# The build without the embedded SFU (-tags nosfu) is compiled and run by
# cmd/sessions' TestBinaryCallWithExternalLiveKit.

# Each package's test binary is built once and run on SQLite, then on
# PostgreSQL (scripts/each-engine); a package fails when either run does.
# Tests that own their database run four at a time: on PostgreSQL they
# mostly wait for the server, so two cores can keep more of them going.
go test -count=1 -timeout 40m -parallel 4 -exec "$PWD/scripts/each-engine" ./...
