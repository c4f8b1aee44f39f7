#!/usr/bin/env bash
# Durability: SIGKILL whoever stores in the middle of a stream of writes, restart, and check that every
# acknowledged write is there and the database is intact.
#   SQLite:      kill the writing process (the store is in-process), three times over one file.
#   PostgreSQL:  kill the writing client, then kill the server itself (every postgres process, -9) and
#                restart it (crash recovery), each time verifying.
# Needs RS_TEST_POSTGRES_URL (scripts/postgres.sh) for the PostgreSQL part.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product store-crash-writer >/dev/null
writer=$(swift build --show-bin-path)/store-crash-writer
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Starts the writer, waits for at least $2 acks, then runs $3 (the kill), and prints the last ack.
write_and_kill() {
  local log=$1 minimum=$2 kill_cmd=$3; shift 3
  "$writer" write "$@" >"$log" 2>"$log.err" &
  local pid=$!
  for _ in $(seq 1 600); do
    [ "$(grep -c '^ack' "$log" || true)" -ge "$minimum" ] && break
    kill -0 $pid 2>/dev/null || { echo "writer died early:"; cat "$log.err"; return 1; }
    sleep 0.05
  done
  sleep 0.$((RANDOM % 9 + 1))  # somewhere in the middle of a write
  eval "$kill_cmd"
  wait $pid 2>/dev/null || true
  local last
  last=$(grep '^ack' "$log" | tail -1 | cut -d' ' -f2)
  echo "${last:-0}"
}

failures=0
check() { if "$@"; then echo "  ok"; else echo "  FAILED"; failures=$((failures + 1)); fi; }

db="$work/crash.sqlite"
for round in 1 2 3; do
  acked=$(write_and_kill "$work/sqlite-$round.log" $((round * 150)) 'kill -9 $pid' --sqlite "$db")
  echo "sqlite round $round: killed the writer after ack $acked"
  check "$writer" verify --sqlite "$db" "$acked"
done

if [ -n "${RS_TEST_POSTGRES_URL:-}" ]; then
  schema="crash_$RANDOM$RANDOM"
  acked=$(write_and_kill "$work/pg-1.log" 150 'kill -9 $pid' --postgres "$RS_TEST_POSTGRES_URL" --schema "$schema")
  echo "postgres: killed the writing client after ack $acked"
  check "$writer" verify --postgres "$RS_TEST_POSTGRES_URL" --schema "$schema" "$acked"

  pgdir=${RS_PG_DIR:-/tmp/remotesupport-test-pg}
  # The postmaster and every backend at once, as a power cut would.
  acked=$(write_and_kill "$work/pg-2.log" 300 'pm=$(head -1 '"$pgdir"'/postmaster.pid); kill -STOP $pm; pkill -9 -P $pm; kill -9 $pm' \
            --postgres "$RS_TEST_POSTGRES_URL" --schema "$schema")
  echo "postgres: killed the server (SIGKILL) after ack $acked; restarting it (crash recovery)"
  for _ in $(seq 1 100); do pgrep -f -- "$pgdir" >/dev/null || break; sleep 0.1; done
  for attempt in 1 2 3; do bash scripts/postgres.sh >/dev/null && break; sleep 2; done
  check "$writer" verify --postgres "$RS_TEST_POSTGRES_URL" --schema "$schema" "$acked"
  psql "$RS_TEST_POSTGRES_URL" -qc "drop schema $schema cascade" >/dev/null 2>&1 || true
else
  echo "RS_TEST_POSTGRES_URL is not set: run it through scripts/test.sh (or export RS_TEST_POSTGRES_URL=\$(bash scripts/postgres.sh))"
  failures=$((failures + 1))
fi

[ $failures -eq 0 ] && echo "durability: all checks passed" || { echo "durability: $failures check(s) failed"; exit 1; }
