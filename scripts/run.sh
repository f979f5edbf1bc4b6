#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and serves MarketLink on http://127.0.0.1:8000.
# When DATABASE_URL / REDIS_HOST are not set, a private PostgreSQL 15 and Redis are started under
# .local/run (and stopped again when the server exits). Configuration: environment or .env.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh --target marketlink

dir=.local/run
started=0
if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_HOST:-}" ]]; then
  scripts/services.sh start "$dir" "${RUN_PG_PORT:-54329}" "${RUN_REDIS_PORT:-63799}"
  started=1
  trap 'scripts/services.sh stop "$dir"' EXIT
  # shellcheck disable=SC1091
  source "$dir/services.env"
fi

# A local secret for the embedded default, made once and kept out of the repository.
if [[ -z "${SECRET_KEY:-}" ]] && ! grep -qs '^SECRET_KEY=' .env; then
  mkdir -p .local
  [[ -s .local/secret_key ]] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >.local/secret_key
  SECRET_KEY="$(cat .local/secret_key)"
  export SECRET_KEY
fi

# A first local run has no SSLCommerz credentials, which only DEBUG accepts: say so and use it.
if [[ -z "${WEBHOOK_SECRET:-}${DEBUG:-}" ]] && ! grep -qsE '^(WEBHOOK_SECRET=.|DEBUG=)' .env; then
  echo "No SSLCommerz credentials (WEBHOOK_SECRET, SSLCOMMERZ_STORE_ID): running with DEBUG=true." >&2
  export DEBUG=true
fi

./build/marketlink check >/dev/null || ./build/marketlink check
./build/marketlink migrate
echo "MarketLink: http://${HTTP_HOST:-127.0.0.1}:${HTTP_PORT:-8000}  (services started here: $started)"
# Run in the background so a SIGTERM/SIGINT sent to this script reaches the server, which drains
# its requests before the EXIT trap stops the services.
./build/marketlink serve &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true' TERM INT
wait "$server" || wait "$server" || true
