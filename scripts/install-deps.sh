#!/usr/bin/env bash
# Installs the Debian 12 packages MarketLink needs to build, run and test, and the npm packages
# pinned by the repository's package-lock.json files (the docs page's renderer for the build;
# with --test also the browser and API-document test tools). Idempotent: packages already present
# are skipped, apt is not touched when nothing is missing, and npm only when a lock file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config ccache git ca-certificates
  libcaf-dev libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libhiredis-dev libpqxx-dev libsimdjson-dev libspdlog-dev libssl-dev
  libargon2-dev libjwt-dev libgtest-dev libhpdf-dev prometheus-cpp-dev
  postgresql-15 postgresql-client-15 redis-server python3-yaml haproxy
)
# Node and npm (the docs page's files are npm's swagger-ui-dist): Debian's, unless a node with
# npm is already there.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi
if [[ "${1:-}" == "--test" ]]; then
  packages+=(clang-format docker-compose curl poppler-utils chromium clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, exactly as locked; a stamp of the lock file skips a folder already installed.
npm_ci() {
  local dir="$1" stamp="$1/node_modules/.installed-lock"
  if [[ -f "$stamp" ]] && cmp -s "$dir/package-lock.json" "$stamp"; then return 0; fi
  echo "install-deps: npm ci in $dir"
  (cd "$dir" && SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}
npm_ci http/routes/docs
if [[ "${1:-}" == "--test" ]]; then
  npm_ci tests/e2e
  npm_ci tests/api
fi
