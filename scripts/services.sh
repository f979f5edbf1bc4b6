#!/usr/bin/env bash
# Starts or stops a private PostgreSQL 15 and Redis for this checkout, without systemd.
#   scripts/services.sh start DIR PG_PORT REDIS_PORT   → writes DIR/services.env
#   scripts/services.sh stop DIR
# PostgreSQL runs as the `postgres` user when started by root (it refuses to run as root).
# Idempotent: a second start reuses servers that already run.
set -euo pipefail

cmd="${1:?usage: services.sh start|stop DIR [PG_PORT REDIS_PORT]}"
dir="${2:?directory}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The data directory must be reachable by the postgres user; fall back to a private temp dir.
pg_dir() {
  if [[ -f "$dir/pgdir" ]]; then cat "$dir/pgdir"; return; fi
  local candidate="$dir/pg"
  mkdir -p "$candidate"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$candidate"
    if ! runuser -u postgres -- test -w "$candidate"; then
      candidate="$(mktemp -d /tmp/marketlink-pg.XXXXXX)"
      chown postgres:postgres "$candidate"
    fi
  fi
  echo "$candidate" >"$dir/pgdir"
  echo "$candidate"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local pg_port="${3:?pg port}" redis_port="${4:?redis port}"
  local pgd; pgd="$(pg_dir)"
  if [[ ! -f "$pgd/data/PG_VERSION" ]]; then
    as_pg mkdir -p "$pgd/data" "$pgd/sock"
    as_pg "$pgbin/initdb" -D "$pgd/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1
  fi
  if ! as_pg "$pgbin/pg_ctl" -D "$pgd/data" status >/dev/null 2>&1; then
    if port_busy "$pg_port"; then echo "services: port $pg_port is taken by another process" >&2; exit 1; fi
    # Default durability (fsync, synchronous_commit) stays on: benchmarks measure the real thing.
    as_pg "$pgbin/pg_ctl" -D "$pgd/data" -w -l "$pgd/postgres.log" \
      -o "-p $pg_port -k $pgd/sock -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  fi
  if ! as_pg "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='marketlink'" | grep -q 1; then
    as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres marketlink
  fi

  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    if port_busy "$redis_port"; then echo "services: port $redis_port is taken by another process" >&2; exit 1; fi
    mkdir -p "$dir/redis"
    redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
      --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log"
    for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  fi
  cat >"$dir/services.env" <<ENV
export DATABASE_URL=postgresql://postgres@127.0.0.1:$pg_port/marketlink
export PGHOST=127.0.0.1 PGPORT=$pg_port PGUSER=postgres PGDATABASE=marketlink
export REDIS_HOST=127.0.0.1 REDIS_PORT=$redis_port
export ML_PG_DATA=$pgd/data ML_PG_BIN=$pgbin
ENV
}

stop() {
  if [[ -f "$dir/pgdir" ]]; then
    local pgd; pgd="$(cat "$dir/pgdir")"
    as_pg "$pgbin/pg_ctl" -D "$pgd/data" -m fast stop >/dev/null 2>&1 || true
  fi
  if [[ -f "$dir/redis/redis.pid" ]]; then
    kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
    rm -f "$dir/redis/redis.pid"
  fi
}

case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
