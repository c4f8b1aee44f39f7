#!/usr/bin/env bash
# Broker benchmarks against a real rs-broker release process on loopback (run by hand, as root):
#   1. relay of one connected session: direct / nginx stream proxy / broker over TCP, websockify / broker
#      over WebSocket (bulk each way with 16 KiB records, 64-byte round trips);
#   2. memory of 10,000 idle end users joined and waiting, beside nginx holding 10,000 idle proxied pairs;
#   3. lobby latency: 1,000 agents, end users joining one after another.
# Installs nginx, libnginx-mod-stream and websockify with apt-get if missing, builds release, and stops
# every process it started on exit. Tables on stdout; the JSON summary's path is printed last.
#
#   Benchmarks/BrokerBench/run.sh [--duration S] [--rounds N] [--idle N] [--agents N] [--joins N] [--only relay,idle,lobby] [--no-build]
#                                 [--cases direct,nginx,...] [--workloads bulk,rtt] [--proxy NAME=PORT]
# RS_BROKER=path runs another rs-broker binary (an earlier build, for a before/after comparison);
# --proxy NAME=PORT adds a TCP proxy you started, forwarding to 127.0.0.1:$RS_SINK_PORT (the sink's port, set
# for the run), as a relay case compared with nginx.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=3 ROUNDS=3 IDLE=10000 AGENTS=1000 JOINS=200 ONLY=relay,idle,lobby BUILD=1 EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --idle) IDLE=$2; shift 2 ;;
        --agents) AGENTS=$2; shift 2 ;;
        --joins) JOINS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --proxy) EXTRA+=(--proxy "$2"); shift 2 ;;
        --cases|--workloads) EXTRA+=("$1" "$2"); shift 2 ;;  # the relay's, for profiling one of them
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

WORK=$(mktemp -d /tmp/broker-bench.XXXXXX)
PIDS=()
cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do
        # Each was started with setsid: its process group is its own (nginx workers, websockify's children).
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK/data-"*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Both the broker and the benchmark hold thousands of sockets (nginx is told in its config).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

# --- tools ---
need=()
command -v nginx >/dev/null || need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=(libnginx-mod-stream)
command -v websockify >/dev/null || need+=(websockify)
command -v curl >/dev/null || need+=(curl)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null || {
        apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
fi

if [ "$BUILD" = 1 ]; then
    # One product per call: given twice, --product builds only the last.
    for product in rs-broker broker-bench; do
        swift build -c release --product "$product" 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]|CMakeLists|unhandled' | tail -3
    done
fi
BIN=$(swift build -c release --show-bin-path)
BENCH="$BIN/broker-bench"
BROKER="${RS_BROKER:-$BIN/rs-broker}"

# Free ports below the ephemeral range (32768+), which the 10,000 client connections use.
port_free() { ! ss -ltnH "sport = :$1" | grep -q .; }
NEXT_PORT=$((20000 + RANDOM % 5000))
pick_port() {  # variable name: the next free port (no subshell, so NEXT_PORT moves on)
    while ! port_free $NEXT_PORT; do NEXT_PORT=$((NEXT_PORT + 1)); done
    printf -v "$1" %s "$NEXT_PORT"
    NEXT_PORT=$((NEXT_PORT + 1))
}
for v in HTTP_PORT PROTO_PORT SINK_PORT IDLE_SINK_PORT NGINX_PORT NGINX_IDLE_PORT WSFY_PORT; do pick_port $v; done
[ -n "${RS_SINK_PORT:-}" ] && SINK_PORT=$RS_SINK_PORT

wait_port() {  # port, seconds
    for _ in $(seq 1 $(($2 * 10))); do port_free "$1" || return 0; sleep 0.1; done
    echo "nothing listens on $1" >&2; return 1
}

# --- the broker: a fresh one per test (fresh store and RSS) ---
BROKER_PID= TOKEN= LINK=
start_broker() {  # name
    local data="$WORK/data-$1" log="$WORK/broker-$1.log"
    setsid "$BROKER" --data "$data" --port "$HTTP_PORT" --protocol-port "$PROTO_PORT" --log-level warning \
        --organisation "Bench Ltd" >"$log" 2>&1 &
    BROKER_PID=$!
    PIDS+=("$BROKER_PID")
    for _ in $(seq 1 300); do grep -q 'one-time password' "$log" 2>/dev/null && break; sleep 0.1; done
    local otp
    otp=$(grep -A1 'one-time password' "$log" | tail -1 | tr -d ' ')
    [ -n "$otp" ] || { cat "$log"; echo "the broker printed no password" >&2; exit 1; }
    wait_port "$PROTO_PORT" 10
    local api="http://127.0.0.1:$HTTP_PORT/api/v1"
    local first
    first=$(curl -sf -X POST "$api/login" -H 'content-type: application/json' \
        -d "{\"email\":\"admin@localhost\",\"password\":\"$otp\"}" | jq -r .token)
    TOKEN=$(curl -sf -X POST "$api/me/password" -H 'content-type: application/json' -H "Authorization: Bearer $first" \
        -d "{\"current\":\"$otp\",\"new\":\"bench-password-$RANDOM-$RANDOM-long\"}" | jq -r .token)
    [ -n "$TOKEN" ] && [ "$TOKEN" != null ] || { echo "could not get a token" >&2; exit 1; }
    LINK=$(curl -sf "$api/me/link" -H "Authorization: Bearer $TOKEN" | jq -r .link)
}
stop_broker() {
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    while ! port_free "$PROTO_PORT"; do sleep 0.1; done
}

# --- nginx's stream proxy (two idle-capable workers: 20,000 sockets for 10,000 pairs exceed one
# process's open-file limit here; reuseport spreads the connections over both) ---
start_nginx() {
    local conf="$WORK/nginx.conf" mod=""
    [ -e /usr/lib/nginx/modules/ngx_stream_module.so ] && mod="load_module /usr/lib/nginx/modules/ngx_stream_module.so;"
    cat >"$conf" <<EOF
$mod
worker_processes 2;
worker_rlimit_nofile $(ulimit -n);
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 20000; multi_accept on; }
stream {
    server { listen 127.0.0.1:$NGINX_PORT reuseport; proxy_pass 127.0.0.1:$SINK_PORT; }
    server { listen 127.0.0.1:$NGINX_IDLE_PORT reuseport; proxy_pass 127.0.0.1:$IDLE_SINK_PORT; }
}
EOF
    setsid nginx -c "$conf" -g 'daemon off;' >"$WORK/nginx.out" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_port "$NGINX_PORT" 10 || { cat "$WORK/nginx.out" "$WORK/nginx-error.log"; exit 1; }
    sleep 0.3
    NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | paste -sd, -)
}

echo "work folder: $WORK"
uptime | tee "$WORK/uptime-before.txt"
RELAY_JSON=null IDLE_JSON=null LOBBY_JSON=null

start_nginx

if wants relay; then
    echo
    echo "== 1. relay =="
    setsid websockify "127.0.0.1:$WSFY_PORT" "127.0.0.1:$SINK_PORT" >"$WORK/websockify.log" 2>&1 &
    WSFY_PID=$!
    PIDS+=("$WSFY_PID")
    wait_port "$WSFY_PORT" 10
    start_broker relay
    CODE=$(curl -sf -X POST "http://127.0.0.1:$HTTP_PORT/api/v1/connection-ids" -H 'content-type: application/json' \
        -H "Authorization: Bearer $TOKEN" -d '{}' | jq -r .code)
    # A hang guard, not a limit: each case takes three measurements and a pairing a round. Lines go out as
    # they come (stdbuf), so a run cut short keeps what it measured.
    timeout $((120 + (3 * (${DURATION%.*} + 1) + 5) * (8 + ${#EXTRA[@]}) * ROUNDS)) stdbuf -oL "$BENCH" relay --protocol-port "$PROTO_PORT" --http-port "$HTTP_PORT" --token="$TOKEN" \
        --connection-id "$CODE" --link "$LINK" --sink-port "$SINK_PORT" --nginx-port "$NGINX_PORT" \
        --websockify-port "$WSFY_PORT" --duration "$DURATION" --rounds "$ROUNDS" --json "$WORK/relay.json" ${EXTRA[@]+"${EXTRA[@]}"}
    RELAY_JSON="$WORK/relay.json"
    stop_broker
    kill -TERM -- "-$WSFY_PID" 2>/dev/null || true
fi

if wants idle; then
    echo
    echo "== 2. idle connections =="
    setsid "$BENCH" sink --port "$IDLE_SINK_PORT" --time-limit 600 >"$WORK/sink.log" 2>&1 &
    PIDS+=("$!")
    wait_port "$IDLE_SINK_PORT" 10
    start_broker idle
    timeout 400 "$BENCH" idle --protocol-port "$PROTO_PORT" --http-port "$HTTP_PORT" --link "$LINK" \
        --broker-pid "$BROKER_PID" --count "$IDLE" --nginx-port "$NGINX_IDLE_PORT" --nginx-pids "$NGINX_WORKERS" \
        --time-limit 360 --json "$WORK/idle.json"
    IDLE_JSON="$WORK/idle.json"
    stop_broker
fi

if wants lobby; then
    echo
    echo "== 3. lobby latency =="
    start_broker lobby
    timeout 300 "$BENCH" lobby --protocol-port "$PROTO_PORT" --token="$TOKEN" --link "$LINK" \
        --agents "$AGENTS" --joins "$JOINS" --time-limit 240 --json "$WORK/lobby.json"
    LOBBY_JSON="$WORK/lobby.json"
    stop_broker
fi

echo
uptime | tee "$WORK/uptime-after.txt"
SUMMARY="$WORK/summary.json"
part() { if [ "$1" = null ]; then echo null; else cat "$1"; fi; }
jq -n --argjson relay "$(part "$RELAY_JSON")" --argjson idle "$(part "$IDLE_JSON")" --argjson lobby "$(part "$LOBBY_JSON")" \
    --arg before "$(cat "$WORK/uptime-before.txt")" --arg after "$(cat "$WORK/uptime-after.txt")" \
    --arg nginx "$(nginx -v 2>&1)" --arg websockify "$(dpkg-query -W -f='${Version}' websockify 2>/dev/null)" \
    --arg cpus "$(nproc)" --arg openFiles "$(ulimit -n)" \
    '{relay: $relay, idle: $idle, lobby: $lobby,
      machine: {cpus: $cpus, uptimeBefore: $before, uptimeAfter: $after, nginx: $nginx, websockify: $websockify, openFiles: $openFiles}}' \
    >"$SUMMARY"
echo "JSON summary: $SUMMARY"
