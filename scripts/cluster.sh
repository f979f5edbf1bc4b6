#!/usr/bin/env bash
# N MarketLink processes behind HAProxy on one machine (for trying the cluster; docker-compose
# runs the same shape with three): the same set-up as scripts/run.sh, then members on ports
# CLUSTER_BASE_PORT+1..+N and HAProxy (docker/haproxy/haproxy.cfg, rewritten for these ports) on
# http://127.0.0.1:${CLUSTER_PORT:-8000}. Ctrl-C stops everything (each member drains first).
#   scripts/cluster.sh [N=3]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-3}"
[[ "$n" =~ ^[1-9][0-9]?$ ]] || { echo "usage: scripts/cluster.sh [N (1-99)]" >&2; exit 2; }
port="${CLUSTER_PORT:-8000}"
base="${CLUSTER_BASE_PORT:-8100}"

scripts/install-deps.sh
scripts/build.sh --target marketlink

dir=.local/cluster
mkdir -p "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ "${started:-0}" == 1 ]]; then scripts/services.sh stop "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=scripts/run_env.sh
source scripts/run_env.sh
run_env "$dir" "${CLUSTER_PG_PORT:-54369}" "${CLUSTER_REDIS_PORT:-63839}"
./build/marketlink migrate

# The members trust X-Forwarded-For from the balancer only; each drains longer than HAProxy
# takes to notice (inter 1 s x fall 2).
export TRUSTED_PROXIES=127.0.0.1 DRAIN_MS="${DRAIN_MS:-3000}" HTTP_HOST=127.0.0.1
# Each variant has one owner among them: the others forward its reservations over their links
# (CLUSTER_LINK_PORT, on loopback here).
for i in $(seq 1 "$n"); do
  MEMBER_NAME="m$i" HTTP_PORT="$((base + i))" CLUSTER_LINK_PORT="$((base + 100 + i))" \
    ./build/marketlink serve >"$dir/m$i.log" 2>&1 &
  pids+=($!)
done
# The repository's configuration with these ports: the block of server lines becomes one checked
# line per member.
awk -v n="$n" -v base="$base" -v port="$port" -v errors="$(pwd)/docker/haproxy/errors" '
  /^  server / {
    if (!in_block) {
      for (i = 1; i <= n; i++) printf "  server m%d 127.0.0.1:%d check\n", i, base + i
    }
    in_block = 1; next
  }
  { in_block = 0 }
  /^  bind / { print "  bind 127.0.0.1:" port; next }
  { gsub("/usr/local/etc/haproxy/errors", errors); print }
' docker/haproxy/haproxy.cfg >"$dir/haproxy.cfg"
haproxy -c -q -f "$dir/haproxy.cfg"
haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
pids+=($!)
echo "MarketLink cluster: http://127.0.0.1:$port  ($n members on ports $((base + 1))-$((base + n)); logs in $dir)"
wait -n "${pids[@]}" || true
echo "cluster: a process exited; stopping the others" >&2
