#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and serves MarketLink on http://127.0.0.1:8000.
# When DATABASE_URL / REDIS_HOST are not set, a private PostgreSQL 15 and Redis are started under
# .local/run (and stopped again when the server exits). Configuration: environment or .env.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh --target marketlink

dir=.local/run
trap 'if [[ "${started:-0}" == 1 ]]; then scripts/services.sh stop "$dir"; fi' EXIT
# shellcheck source=scripts/run_env.sh
source scripts/run_env.sh
run_env "$dir" "${RUN_PG_PORT:-54329}" "${RUN_REDIS_PORT:-63799}"

./build/marketlink check >/dev/null || ./build/marketlink check
./build/marketlink migrate
echo "MarketLink: http://${HTTP_HOST:-127.0.0.1}:${HTTP_PORT:-8000}  (services started here: $started)"
# Run in the background so a SIGTERM/SIGINT sent to this script reaches the server, which drains
# its requests before the EXIT trap stops the services.
./build/marketlink serve &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true' TERM INT
wait "$server" || wait "$server" || true
