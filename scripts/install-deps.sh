#!/usr/bin/env bash
# Installs the Debian 12 packages MarketLink needs to build, run and test. Idempotent: packages
# already present are skipped, and apt is not touched at all when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git ca-certificates
  libcaf-dev libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libhiredis-dev libpqxx-dev libsimdjson-dev libspdlog-dev libssl-dev
  libargon2-dev libjwt-dev libgtest-dev libhpdf-dev prometheus-cpp-dev
  postgresql-15 postgresql-client-15 redis-server
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(clang-format docker-compose curl poppler-utils chromium clang libclang-rt-14-dev)
  # Node for the browser test: Debian's, unless a node with npm is already there.
  if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
