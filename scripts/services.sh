#!/usr/bin/env bash
# PostgreSQL and Redis for tests and benchmarks.
#
#   scripts/services.sh env             ensure both; print "export DATABASE_URL=... REDIS_URL=..."
#   scripts/services.sh exec CMD [ARG…]  ensure both, export the URLs, run CMD (exit code kept)
#   scripts/services.sh status          show what would be used and what this script started
#   scripts/services.sh stop            stop the servers THIS script started (never 5432/6379)
#
# Detection: a PostgreSQL answering on 127.0.0.1:5432 (pg_isready, then a real login as
# `postgres` that must be allowed to create databases) and a Redis answering PING on
# 127.0.0.1:6379 are used as they are. Otherwise the script starts its own: PostgreSQL 15
# (initdb -A trust -U postgres into /tmp/ocop-pg-<port>) on the first free port from 55432,
# Redis (no persistence, /tmp/ocop-redis-<port>) on the first free port from 56379. Started
# servers are reused by later runs; `stop` ends them.
#
# Settings (environment): PG_DBNAME (default ocop), OCOP_FORCE_OWN_SERVICES=1 (skip the
# shared 5432/6379), OCOP_PG_PORT (first own port, 55432), OCOP_REDIS_PORT (56379),
# OCOP_REDIS_DB (15), OCOP_PG_BIN (/usr/lib/postgresql/15/bin), OCOP_SERVICES_DIR (/tmp),
# OCOP_PYTHON (interpreter for the checks; default .venv/bin/python).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_DBNAME=${PG_DBNAME:-ocop}
SHARED_PG_PORT=5432
SHARED_REDIS_PORT=6379
OWN_PG_PORT=${OCOP_PG_PORT:-55432}
OWN_REDIS_PORT=${OCOP_REDIS_PORT:-56379}
REDIS_DB=${OCOP_REDIS_DB:-15}
BASE_DIR=${OCOP_SERVICES_DIR:-/tmp}
FORCE_OWN=${OCOP_FORCE_OWN_SERVICES:-0}
PORT_TRIES=20

if [ -n "${OCOP_PYTHON:-}" ]; then
  PY=$OCOP_PYTHON
elif [ -x .venv/bin/python ]; then
  PY=.venv/bin/python
else
  PY=python3
fi

log() { echo "==> $*" >&2; }
die() { echo "ERROR: $*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log "Installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
  else
    die "$* is not installed and cannot be installed automatically (needs root + apt-get)."
  fi
}

# --- small network checks (Python, so they work without redis-cli / pg_isready) -----------
port_free() {  # port_free PORT: nobody listens on 127.0.0.1:PORT
  "$PY" - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

redis_ping() {  # redis_ping PORT: a Redis answers PONG (no password) on 127.0.0.1:PORT
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]
    return
  fi
  "$PY" - "$1" <<'PY'
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

pg_ready() {  # pg_ready PORT: a PostgreSQL accepts connections on 127.0.0.1:PORT
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p "$1" -t 3
  else
    ! port_free "$1" && "$PY" - "$1" <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
  fi
}

# pg_prepare PORT: log in as postgres, check it may create databases (pytest-django creates
# test_<name>), create PG_DBNAME if missing. Non-zero with a reason when the server is unusable.
pg_prepare() {
  if "$PY" -c 'import psycopg2' >/dev/null 2>&1; then
    "$PY" - "$1" "$PG_DBNAME" <<'PY'
import sys
import psycopg2
port, dbname = sys.argv[1], sys.argv[2]
try:
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                            connect_timeout=3)
except psycopg2.Error as exc:
    print(f"    cannot log in as postgres: {str(exc).strip()}", file=sys.stderr)
    sys.exit(1)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")
    if not cur.fetchone()[0]:
        print("    role postgres may not create databases", file=sys.stderr)
        sys.exit(1)
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
    if cur.fetchone() is None:
        cur.execute(f'CREATE DATABASE "{dbname}"')
        print(f"==> Created database {dbname}", file=sys.stderr)
conn.close()
PY
  elif command -v psql >/dev/null 2>&1; then
    local q=(psql -X -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -tA)
    [ "$("${q[@]}" -c 'SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user' 2>/dev/null)" = t ] \
      || { echo "    cannot log in as postgres or it may not create databases" >&2; return 1; }
    if [ -z "$("${q[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DBNAME'")" ]; then
      "${q[@]}" -c "CREATE DATABASE \"$PG_DBNAME\"" && log "Created database $PG_DBNAME"
    fi
  else
    log "(no psycopg2 or psql to check the login; assuming it works)"
  fi
}

# --- own PostgreSQL ----------------------------------------------------------------------
pg_bin_dir() {
  local dir=${OCOP_PG_BIN:-/usr/lib/postgresql/15/bin}
  if [ ! -x "$dir/initdb" ]; then
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$found" ] && [ -x "$found/initdb" ]; then
      dir=$found
    else
      apt_install postgresql-15
      dir=/usr/lib/postgresql/15/bin
    fi
  fi
  echo "$dir"
}

as_postgres() {  # initdb/postgres refuse to run as root
  if is_root; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' does not exist (install postgresql-15)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

own_pg_running() { [ -f "$1/PG_VERSION" ] && as_postgres "$2/pg_ctl" -D "$1" status >/dev/null 2>&1; }

start_own_pg() {  # prints the port
  local bin port dir
  bin=$(pg_bin_dir)
  for ((port = OWN_PG_PORT; port < OWN_PG_PORT + PORT_TRIES; port++)); do
    dir="$BASE_DIR/ocop-pg-$port"
    if own_pg_running "$dir" "$bin"; then
      log "PostgreSQL: reusing my own server on 127.0.0.1:$port ($dir)"
      echo "$port"; return
    fi
    if ! port_free "$port"; then
      log "PostgreSQL: port $port is taken by something else, trying the next one"
      continue
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      log "PostgreSQL: initdb $dir ($("$bin/postgres" -V))"
      rm -rf "$dir"
      mkdir -p "$dir"
      if is_root; then chown postgres: "$dir"; fi
      chmod 700 "$dir"
      as_postgres "$bin/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        >"$BASE_DIR/ocop-pg-$port.initdb.log" 2>&1 \
        || { cat "$BASE_DIR/ocop-pg-$port.initdb.log" >&2; die "initdb failed"; }
      mv "$BASE_DIR/ocop-pg-$port.initdb.log" "$dir/initdb.log"
    fi
    log "PostgreSQL: starting my own server on 127.0.0.1:$port (log $dir/server.log)"
    as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" -w -t 60 start >/dev/null \
      || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
    echo "$port"; return
  done
  die "no free port for PostgreSQL in $OWN_PG_PORT..$((OWN_PG_PORT + PORT_TRIES - 1))"
}

# --- own Redis ---------------------------------------------------------------------------
start_own_redis() {  # prints the port
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  local port dir
  for ((port = OWN_REDIS_PORT; port < OWN_REDIS_PORT + PORT_TRIES; port++)); do
    dir="$BASE_DIR/ocop-redis-$port"
    if [ -f "$dir/redis.pid" ] && redis_ping "$port"; then
      log "Redis: reusing my own server on 127.0.0.1:$port ($dir)"
      echo "$port"; return
    fi
    if ! port_free "$port"; then
      log "Redis: port $port is taken by something else, trying the next one"
      continue
    fi
    mkdir -p "$dir"
    log "Redis: starting my own server on 127.0.0.1:$port (log $dir/redis.log)"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
    for _ in $(seq 50); do
      redis_ping "$port" && { echo "$port"; return; }
      sleep 0.1
    done
    tail -n 20 "$dir/redis.log" >&2 || true
    die "Redis did not start on port $port"
  done
  die "no free port for Redis in $OWN_REDIS_PORT..$((OWN_REDIS_PORT + PORT_TRIES - 1))"
}

# --- ensure both -------------------------------------------------------------------------
ensure() {
  local pg_port="" redis_port=""
  # One script at a time decides and starts servers (parallel runs would race on initdb).
  exec 9>"$BASE_DIR/ocop-services.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi

  if [ "$FORCE_OWN" = 1 ]; then
    log "OCOP_FORCE_OWN_SERVICES=1: not using 127.0.0.1:$SHARED_PG_PORT / :$SHARED_REDIS_PORT"
  else
    if pg_ready "$SHARED_PG_PORT"; then
      if pg_prepare "$SHARED_PG_PORT"; then
        log "PostgreSQL: using the server already answering on 127.0.0.1:$SHARED_PG_PORT"
        pg_port=$SHARED_PG_PORT
      else
        log "PostgreSQL on 127.0.0.1:$SHARED_PG_PORT answers but is not usable; starting my own"
      fi
    else
      log "PostgreSQL: nothing answers on 127.0.0.1:$SHARED_PG_PORT; starting my own"
    fi
    if redis_ping "$SHARED_REDIS_PORT"; then
      log "Redis: using the server already answering on 127.0.0.1:$SHARED_REDIS_PORT"
      redis_port=$SHARED_REDIS_PORT
    else
      log "Redis: no PONG from 127.0.0.1:$SHARED_REDIS_PORT; starting my own"
    fi
  fi

  if [ -z "$pg_port" ]; then
    pg_port=$(start_own_pg)
    pg_prepare "$pg_port" || die "my own PostgreSQL on port $pg_port is not usable"
  fi
  [ -n "$redis_port" ] || redis_port=$(start_own_redis)

  DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/$PG_DBNAME"
  REDIS_URL="redis://127.0.0.1:$redis_port/$REDIS_DB"
  export DATABASE_URL REDIS_URL
  log "DATABASE_URL=$DATABASE_URL"
  log "REDIS_URL=$REDIS_URL"

  if command -v flock >/dev/null 2>&1; then flock -u 9; fi
  exec 9>&-
}

stop_own() {
  local dir port bin pid stopped=0
  for dir in "$BASE_DIR"/ocop-pg-*/; do
    dir=${dir%/}
    [ -f "$dir/PG_VERSION" ] || continue
    bin=$(pg_bin_dir)
    if own_pg_running "$dir" "$bin"; then
      log "Stopping my own PostgreSQL in $dir"
      as_postgres "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
      stopped=1
    fi
  done
  for dir in "$BASE_DIR"/ocop-redis-*/; do
    dir=${dir%/}
    [ -f "$dir/redis.pid" ] || continue
    pid=$(cat "$dir/redis.pid")
    port=${dir##*-}
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = redis-server ]; then
      log "Stopping my own Redis on port $port (pid $pid)"
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      stopped=1
    fi
    rm -f "$dir/redis.pid"
  done
  [ "$stopped" = 1 ] || log "No servers started by this script are running"
  if [ "${1:-}" = "--purge" ]; then
    log "Removing $BASE_DIR/ocop-pg-* and $BASE_DIR/ocop-redis-*"
    rm -rf "$BASE_DIR"/ocop-pg-* "$BASE_DIR"/ocop-redis-*
  fi
}

status() {
  local dir
  pg_ready "$SHARED_PG_PORT" && log "shared PostgreSQL answers on :$SHARED_PG_PORT" \
    || log "no PostgreSQL on :$SHARED_PG_PORT"
  redis_ping "$SHARED_REDIS_PORT" && log "shared Redis answers on :$SHARED_REDIS_PORT" \
    || log "no Redis on :$SHARED_REDIS_PORT"
  for dir in "$BASE_DIR"/ocop-pg-*/ "$BASE_DIR"/ocop-redis-*/; do
    [ -d "$dir" ] || continue
    local port=${dir%/}; port=${port##*-}
    case $dir in
      *ocop-pg-*) pg_ready "$port" && log "my PostgreSQL: $dir port $port running" \
        || log "my PostgreSQL: $dir port $port stopped" ;;
      *) redis_ping "$port" && log "my Redis: $dir port $port running" \
        || log "my Redis: $dir port $port stopped" ;;
    esac
  done
}

cmd=${1:-env}
shift || true
case $cmd in
  env)
    ensure
    printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "$DATABASE_URL" "$REDIS_URL"
    ;;
  exec)
    [ $# -gt 0 ] || die "usage: $0 exec COMMAND [ARGS...]"
    ensure
    exec "$@"
    ;;
  stop) stop_own "${1:-}" ;;
  status) status ;;
  *) die "usage: $0 {env|exec CMD...|status|stop [--purge]}" ;;
esac
