#!/usr/bin/env bash
# Starts (up) or stops (down) throwaway PostgreSQL, Redis and MinIO servers on
# loopback with data in a temporary directory, for the test suite.
# `up` writes the connection settings to $ECERT_SVC_DIR/env for sourcing.
set -euo pipefail
SVC_DIR=${ECERT_SVC_DIR:-/tmp/ecert-test-services}
BIN_DIR=${ECERT_BIN_CACHE:-$HOME/.cache/ecert/bin}
# free_port PREFERRED: the preferred port if nothing listens on it, else the next free one.
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
PG_PORT=${ECERT_TEST_PG_PORT:-$(free_port 55432)}
REDIS_PORT=${ECERT_TEST_REDIS_PORT:-$(free_port 56379)}
MINIO_PORT=${ECERT_TEST_MINIO_PORT:-$(free_port 59000)}

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "services: $name did not become ready" >&2; return 1
}

up() {
  down >/dev/null 2>&1 || true
  rm -rf "$SVC_DIR"; mkdir -p "$SVC_DIR"/{pg,redis,minio}; chmod 755 "$SVC_DIR"
  local bin; bin=$(pgbin)
  [ -n "$bin" ] || { echo "services: PostgreSQL is not installed (run scripts/deps.sh)" >&2; return 1; }
  [ "$(id -u)" -eq 0 ] && chown postgres "$SVC_DIR/pg"
  as_pg "$bin/initdb" -D "$SVC_DIR/pg/data" -U ecert --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_pg "$bin/pg_ctl" -D "$SVC_DIR/pg/data" -l "$SVC_DIR/pg/log" -w \
    -o "-p $PG_PORT -k $SVC_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U ecert ecert_test

  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$SVC_DIR/redis" --daemonize yes --pidfile "$SVC_DIR/redis/pid" --logfile "$SVC_DIR/redis/log"
  wait_for redis redis-cli -p "$REDIS_PORT" ping

  MINIO_ROOT_USER=ecert-test MINIO_ROOT_PASSWORD=ecert-test-secret MINIO_BROWSER=off \
    nohup "$BIN_DIR/minio" server "$SVC_DIR/minio/data" --quiet \
    --address "127.0.0.1:$MINIO_PORT" >"$SVC_DIR/minio/log" 2>&1 &
  echo $! >"$SVC_DIR/minio/pid"
  wait_for minio curl -fsS "http://127.0.0.1:$MINIO_PORT/minio/health/live"

  cat >"$SVC_DIR/env" <<ENV
export ECERT_TEST_POSTGRES_DSN='postgres://ecert@127.0.0.1:$PG_PORT/ecert_test?sslmode=disable'
export ECERT_TEST_REDIS_ADDR='127.0.0.1:$REDIS_PORT'
export ECERT_TEST_MINIO_ENDPOINT='127.0.0.1:$MINIO_PORT'
export ECERT_TEST_MINIO_ACCESS_KEY='ecert-test'
export ECERT_TEST_MINIO_SECRET_KEY='ecert-test-secret'
export ECERT_TEST_MINIO_BIN='$BIN_DIR/minio'
export ECERT_TEST_REDIS_BIN='$(command -v redis-server)'
ENV
  echo "services: PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, MinIO :$MINIO_PORT (settings in $SVC_DIR/env)" >&2
}

down() {
  local bin; bin=$(pgbin)
  [ -d "$SVC_DIR/pg/data" ] && as_pg "$bin/pg_ctl" -D "$SVC_DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$SVC_DIR/redis/pid" ] && kill "$(cat "$SVC_DIR/redis/pid")" 2>/dev/null || true
  [ -f "$SVC_DIR/minio/pid" ] && kill "$(cat "$SVC_DIR/minio/pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$SVC_DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
