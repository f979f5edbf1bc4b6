#!/usr/bin/env bash
# Configures and builds into ./build (RelWithDebInfo unless BUILD_TYPE says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${BUILD_JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build build -j "$jobs" "$@"
