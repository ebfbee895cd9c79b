#!/usr/bin/env bash
# Makes sure the services and tools the tests use are installed and running.
# Idempotent: each step checks first and does nothing when all is in place.
set -euo pipefail
: "${SESSIONS_TEST_POSTGRES_URL:=postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL on 127.0.0.1:5432 with a "test" database that user postgres
# reaches without a password.
pg_ok() { psql "${SESSIONS_TEST_POSTGRES_URL}" -Atqc 'SELECT 1' >/dev/null 2>&1; }
if ! pg_ok; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    echo "no PostgreSQL cluster found" >&2
    exit 1
  fi
  hba="/etc/postgresql/${version}/main/pg_hba.conf"
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    # Tests connect over loopback without a password.
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null ||
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q && break
    sleep 1
  done
  if ! psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -qc 'CREATE DATABASE test'
  fi
  pg_ok || { echo "PostgreSQL is not reachable at ${SESSIONS_TEST_POSTGRES_URL}" >&2; exit 1; }
fi

# Chromium for the end-to-end browser test (cmd/sessions/browser_test.go).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium"
  apt_install chromium
fi

# Redis on 127.0.0.1:6379 for the two-node LiveKit cluster of the
# scale-out test (cmd/sessions/scaleout_e2e_test.go). Nothing is saved to
# disk: the test empties the database it claims anyway.
redis_ok() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_ok; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing Redis"
    apt_install redis-server
  fi
  # The package may have started it already.
  if ! redis_ok; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
  for _ in $(seq 1 50); do
    redis_ok && break
    sleep 0.2
  done
  redis_ok || { echo "Redis is not reachable at 127.0.0.1:6379" >&2; exit 1; }
fi

# versitygw, the S3 server of the scale-out test, built from the Go
# module proxy once per machine into the cache folder where the test
# looks for it (internal/platform/blob/s3test names the module and the
# version). It is a tool of the tests, not a dependency of the module.
s3test="$(dirname "$0")/../internal/platform/blob/s3test/s3test.go"
vgw_module=$(sed -n 's/^[[:space:]]*Module[[:space:]]*= "\(.*\)"$/\1/p' "$s3test")
vgw_version=$(sed -n 's/^[[:space:]]*Version[[:space:]]*= "\(.*\)"$/\1/p' "$s3test")
if [ -z "$vgw_module" ] || [ -z "$vgw_version" ]; then
  echo "cannot read the versitygw module and version from $s3test" >&2
  exit 1
fi
vgw_dir="${XDG_CACHE_HOME:-$HOME/.cache}/sessions-test/versitygw-${vgw_version}"
if [ ! -x "${vgw_dir}/versitygw" ]; then
  echo "building versitygw ${vgw_version}"
  mkdir -p "$vgw_dir"
  vgw_tmp=$(mktemp -d "${vgw_dir}/build-XXXXXX")
  (cd "$vgw_tmp" && GOBIN="$vgw_tmp" GOFLAGS= GOWORK=off go install "${vgw_module}/cmd/versitygw@${vgw_version}")
  mv "${vgw_tmp}/versitygw" "${vgw_dir}/versitygw"
  rm -rf "$vgw_tmp"
fi
