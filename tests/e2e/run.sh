#!/usr/bin/env bash
# Runs one end-to-end script against a real `marketlink serve` on a free port (the test database
# from DATABASE_URL, REDIS_*), a fresh admin and the small fake gateway (fake-gateway.mjs):
#   tests/e2e/run.sh <marketlink binary> <script.mjs> [script arguments...]
# The script gets <base url> <admin email> <admin password> [script arguments...] and the store
# password in WEBHOOK_SECRET. Its npm packages come from scripts/install-deps.sh --test.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$1"
script="$2"
shift 2
for dir in "$here" "$here/../api"; do
  if [[ ! -d "$dir/node_modules" ]]; then
    echo "e2e: $dir/node_modules is missing: run scripts/install-deps.sh --test" >&2
    exit 1
  fi
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
gateway_port=$(free_port)
node "$here/fake-gateway.mjs" "$gateway_port" &
gateway=$!
email="e2e-admin-$$-$RANDOM@e2e.test"
password="E2e-Admin-Pass-9"
export HTTP_PORT=$port SECRET_KEY=${SECRET_KEY:-e2e-secret-key-0123456789abcdef-0123} \
  SSLCOMMERZ_STORE_ID=e2e WEBHOOK_SECRET=e2e-pass ENV_FILE=/nonexistent LOG_LEVEL=warn \
  SSLCOMMERZ_SESSION_URL=http://127.0.0.1:$gateway_port/gwprocess/v4/api.php \
  SSLCOMMERZ_VALIDATION_URL=http://127.0.0.1:$gateway_port/validator/api/validationserverAPI.php
"$binary" createsuperuser --email "$email" --password "$password" >/dev/null
# Two members of a cluster of their own (the console lists every live member, shows the other's
# actors and restarts them over the cluster link).
export CLUSTER_NAME="e2e-$$" CLUSTER_LINK_PORT=0
"$binary" serve &
server=$!
export E2E_SECOND_MEMBER="e2e-second-$$"
HTTP_PORT=$(free_port) MEMBER_NAME="$E2E_SECOND_MEMBER" "$binary" serve &
second=$!
trap 'kill $server $second $gateway 2>/dev/null; wait $server $second $gateway 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; then break; fi
  sleep 0.1
done
cd "$here"
node "$script" "http://127.0.0.1:$port" "$email" "$password" "$@"
