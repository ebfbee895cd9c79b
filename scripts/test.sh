#!/usr/bin/env bash
# Runs every test, twice: once on SQLite and once on PostgreSQL.
# It installs and starts what the tests need when it is missing, and is
# safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

export SESSIONS_TEST_POSTGRES_URL="${SESSIONS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

bash scripts/ensure-deps.sh

go vet ./...
# The embedded SFU is behind a build tag (on by default); the build without
# it must still compile, and serves calls through an external LiveKit
# (cmd/sessions TestBinaryCallWithExternalLiveKit runs that build).
go vet -tags nosfu ./...

# Each package's test binary is built once and run on SQLite, then on
# PostgreSQL (scripts/each-engine); a package fails when either run does.
go test -count=1 -timeout 40m -exec "$PWD/scripts/each-engine" ./...
