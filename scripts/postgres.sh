#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the tests on 127.0.0.1 (idempotent: reuses a running one) and
# prints its URL. Installs Debian's postgresql if missing. The cluster lives in $RS_PG_DIR
# (default /tmp/remotesupport-test-pg), listens on $RS_PG_PORT (default 54329), trusts local connections
# (test data only) and has a database remotesupport_test.
#   url=$(bash scripts/postgres.sh)        start (or find) it
#   bash scripts/postgres.sh stop          stop it
set -euo pipefail
dir=${RS_PG_DIR:-/tmp/remotesupport-test-pg}
port=${RS_PG_PORT:-54329}
url="postgres://postgres@127.0.0.1:$port/remotesupport_test"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "== installing postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# initdb and the server refuse to run as root: use the postgres system user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = stop ]; then
  as_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
  exit 0
fi

if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  if [ ! -f "$dir/PG_VERSION" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
       -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on" start >/dev/null; then
    echo "PostgreSQL did not start; the end of $dir/server.log:" >&2
    tail -20 "$dir/server.log" >&2
    exit 1
  fi
fi

for _ in $(seq 1 60); do
  if as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc "select 1" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc \
     "select 1 from pg_database where datname = 'remotesupport_test'" | grep -q 1; then
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "create database remotesupport_test" >/dev/null
fi
echo "$url"
