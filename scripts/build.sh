#!/usr/bin/env bash
# Configures and builds into ./build (BUILD_DIR, BUILD_TYPE=RelWithDebInfo unless set).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${BUILD_JOBS:-$(nproc)}"
dir="${BUILD_DIR:-build}"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$dir" -j "$jobs" "$@"
