# Sourced by scripts/run.sh and scripts/cluster.sh (not run on its own):
#   run_env <services dir> <pg port> <redis port>
# starts a private PostgreSQL and Redis there unless DATABASE_URL and REDIS_HOST are set (and
# exports their settings; started=1 then), makes a local SECRET_KEY once (kept out of the
# repository), and turns DEBUG on when no SSLCommerz credentials are configured, saying so.
run_env() {
  started=0
  if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_HOST:-}" ]]; then
    scripts/services.sh start "$1" "$2" "$3"
    started=1
    # shellcheck disable=SC1091
    source "$1/services.env"
  fi
  if [[ -z "${SECRET_KEY:-}" ]] && ! grep -qs '^SECRET_KEY=' .env; then
    mkdir -p .local
    [[ -s .local/secret_key ]] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >.local/secret_key
    SECRET_KEY="$(cat .local/secret_key)"
    export SECRET_KEY
  fi
  # A first local run has no SSLCommerz credentials, which only DEBUG accepts.
  if [[ -z "${WEBHOOK_SECRET:-}${DEBUG:-}" ]] && ! grep -qsE '^(WEBHOOK_SECRET=.|DEBUG=)' .env; then
    echo "No SSLCommerz credentials (WEBHOOK_SECRET, SSLCOMMERZ_STORE_ID): running with DEBUG=true." >&2
    export DEBUG=true
  fi
}
