#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs every test:
# packages → build → private PostgreSQL and Redis → fresh test database + migrations → ctest.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit, or -R Accounts).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

scripts/install-deps.sh --test
scripts/build.sh

dir="${TEST_SERVICES_DIR:-.local/test}"
pg_port="${TEST_PG_PORT:-54339}"
redis_port="${TEST_REDIS_PORT:-63809}"
scripts/services.sh start "$dir" "$pg_port" "$redis_port"
trap '"$root"/scripts/services.sh stop "$root/$dir"' EXIT
# shellcheck disable=SC1091
source "$dir/services.env"

# A fresh database and an empty Redis for every run.
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
  -c "DROP DATABASE IF EXISTS marketlink_test WITH (FORCE)" -c "CREATE DATABASE marketlink_test"
redis-cli -p "$redis_port" flushall >/dev/null
export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/marketlink_test"
export SECRET_KEY="test-secret-key-for-marketlink-tests"
"./${BUILD_DIR:-build}/marketlink" migrate

cd "${BUILD_DIR:-build}"
status=0
ctest --output-on-failure -j "${TEST_JOBS:-2}" "$@" || status=$?
exit "$status"
