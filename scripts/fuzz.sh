#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, -fsanitize=fuzzer,address,undefined) in
# build-fuzz and runs each for [seconds] (default 60) from its seed corpus in tests/fuzz/corpus.
# New inputs go to build-fuzz/corpus/<target>, a crashing input to build-fuzz/artifacts; the
# script exits non-zero on the first finding. The test command runs it briefly (label fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets=(json_body form target jwt ipn_signature env_file)

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ is not installed (scripts/install-deps.sh --test installs it)" >&2
  exit 1
fi
cmake -S tests/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ >build-fuzz.log 2>&1 ||
  { cat build-fuzz.log; exit 1; }
cmake --build build-fuzz -j "$(nproc)" >>build-fuzz.log 2>&1 || { tail -50 build-fuzz.log; exit 1; }
rm -f build-fuzz.log

rm -rf build-fuzz/artifacts && mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "fuzz: $t for ${seconds}s"
  # -timeout: one input taking 10 s is a finding too (unbounded work); -rss_limit_mb likewise.
  build-fuzz/"fuzz_$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" \
    "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" 2>&1 | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==|SUMMARY|.*ERROR)" || true
  if compgen -G "build-fuzz/artifacts/$t-*" >/dev/null; then
    echo "fuzz: $t found an input that fails: $(ls build-fuzz/artifacts/"$t"-*)" >&2
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, nothing found"
