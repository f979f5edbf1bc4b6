#!/usr/bin/env bash
# Runs the console end-to-end test: a real `marketlink serve` on a free port against the test
# database (DATABASE_URL, REDIS_*), a fresh admin, Debian's chromium via playwright-core.
#   tests/e2e/run.sh <marketlink binary> <screenshot path>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$1"
shot="$2"
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  (cd "$here" && npm install --no-audit --no-fund --loglevel=error)
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
gateway_port=$(free_port)
node "$here/fake-gateway.mjs" "$gateway_port" &
gateway=$!
email="console-admin-$$-$RANDOM@e2e.test"
password="Console-Admin-Pass-9"
export HTTP_PORT=$port SECRET_KEY=${SECRET_KEY:-e2e-secret-key-0123456789abcdef-0123} \
  SSLCOMMERZ_STORE_ID=e2e WEBHOOK_SECRET=e2e-pass ENV_FILE=/nonexistent LOG_LEVEL=warn \
  SSLCOMMERZ_SESSION_URL=http://127.0.0.1:$gateway_port/gwprocess/v4/api.php \
  SSLCOMMERZ_VALIDATION_URL=http://127.0.0.1:$gateway_port/validator/api/validationserverAPI.php
"$binary" createsuperuser --email "$email" --password "$password" >/dev/null
"$binary" serve &
server=$!
trap 'kill $server $gateway 2>/dev/null; wait $server $gateway 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; then break; fi
  sleep 0.1
done
node "$here/console.e2e.mjs" "http://127.0.0.1:$port" "$email" "$password" "$shot"
