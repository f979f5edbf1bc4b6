#!/usr/bin/env bash
# Benchmarks on this machine: sets up like the tests (packages, Release build, a private
# PostgreSQL with its default durability — fsync and synchronous_commit on — and Redis on their
# own ports), then prints the order throughput table. `scripts/bench.sh 0.1` runs a tenth of it.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
scripts/install-deps.sh
BUILD_DIR=build-release BUILD_TYPE=Release scripts/build.sh --target marketlink marketlink_bench marketlink_json_bench

dir=.local/bench
scripts/services.sh start "$dir" "${BENCH_PG_PORT:-54349}" "${BENCH_REDIS_PORT:-63819}"
trap '"$root"/scripts/services.sh stop "$root/$dir"' EXIT
# shellcheck disable=SC1091
source "$dir/services.env"
psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres \
  -c "DROP DATABASE IF EXISTS marketlink_bench WITH (FORCE)" -c "CREATE DATABASE marketlink_bench"
redis-cli -p "$REDIS_PORT" flushall >/dev/null
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/marketlink_bench"
SECRET_KEY=bench-secret-key-0123456789abcdef ./build-release/marketlink migrate >/dev/null
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; PostgreSQL fsync=$(psql -tA -h 127.0.0.1 -p "$PGPORT" -U postgres -c 'show fsync') synchronous_commit=$(psql -tA -h 127.0.0.1 -p "$PGPORT" -U postgres -c 'show synchronous_commit')"
./build-release/tests/marketlink_json_bench
./build-release/tests/marketlink_bench ./build-release/marketlink "${1:-1}"
