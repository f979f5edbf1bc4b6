#!/usr/bin/env bash
# Style checks with the repository's configs.
#   scripts/lint.sh format   clang-format --dry-run over every C++ file (fails on a diff)
#   scripts/lint.sh fix      rewrites the files in place
#   scripts/lint.sh tidy     clang-tidy over the project's sources (needs build/compile_commands.json)
#   scripts/lint.sh layers   the HTTP layer includes no SQL, Redis, libpqxx or CAF header
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' 2>/dev/null || find config persistence actors http tests main.cpp -name '*.[ch]pp')
case "${1:-format}" in
  format) clang-format --dry-run -Werror "${files[@]}" ;;
  fix) clang-format -i "${files[@]}" ;;
  tidy)
    mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep '\.cpp$')
    clang-tidy -p build --quiet "${sources[@]}" ;;
  layers)
    # http/ talks to the actors through their service headers only.
    if grep -rnE '#include [<"](pqxx|caf/|hiredis|persistence/(database|redis_client)\.hpp|actors/runtime/(pool_jobs|internal)\.hpp)' http; then
      echo "lint: the lines above break the layering (http/ must not reach SQL, Redis or CAF)" >&2
      exit 1
    fi ;;
  *) echo "usage: lint.sh format|fix|tidy|layers" >&2; exit 2 ;;
esac
