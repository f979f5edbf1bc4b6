#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer: builds into build-asan
# (g++, -fsanitize=address,undefined, any finding fatal) and runs the unit and integration
# tests against a private PostgreSQL and Redis, like scripts/test.sh. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

scripts/install-deps.sh --test
# GCC 12's -O2 reports "maybe uninitialized" inside libstdc++'s <regex> under ASan instrumentation
# (a false positive); warnings stay errors otherwise.
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
flags+=" -Wno-maybe-uninitialized"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-asan -j "${BUILD_JOBS:-$(nproc)}"

dir=.local/asan
pg_port="${ASAN_PG_PORT:-54359}"
redis_port="${ASAN_REDIS_PORT:-63829}"
scripts/services.sh start "$dir" "$pg_port" "$redis_port"
trap '"$root"/scripts/services.sh stop "$root/$dir"' EXIT
# shellcheck disable=SC1091
source "$dir/services.env"
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
  -c "DROP DATABASE IF EXISTS marketlink_test WITH (FORCE)" -c "CREATE DATABASE marketlink_test"
redis-cli -p "$redis_port" flushall >/dev/null
export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/marketlink_test"
export SECRET_KEY="test-secret-key-for-marketlink-tests"
# Leaks at exit of long-lived singletons are not findings here; everything else is.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1"
./build-asan/marketlink migrate

cd build-asan
ctest --output-on-failure -j "${TEST_JOBS:-2}" -L "unit|pg" "$@"
