# Sourced by the scripts that run a frame server for vnc-capture (lvs-interop.sh, compare-vnc.sh).
# Needs $WORK (a scratch folder); sets $PORT and $SP (the server's pid). The caller's EXIT trap should
# call stop_server_quietly.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server BINARY ARGS...: runs BINARY --port PORT ARGS... on a free loopback port and waits for its
# "listening on 127.0.0.1:PORT" line (stderr goes to $WORK/server.log).
start_server() {
    local binary="$1"; shift
    PORT="$(free_port)"
    rm -f "$WORK/server.log"
    timeout 600 "$binary" --port "$PORT" "$@" >/dev/null 2>"$WORK/server.log" &
    SP=$!
    for _ in $(seq 600); do
        grep -q "listening on 127.0.0.1:$PORT" "$WORK/server.log" 2>/dev/null && return 0
        kill -0 "$SP" 2>/dev/null || break
        sleep 0.05
    done
    echo "$(basename "$0"): $binary did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
}

# stop_server: SIGTERM, and fails the script unless the server exits with status 0.
stop_server() {
    kill -TERM "$SP"
    local rc=0; wait "$SP" || rc=$?
    SP=""
    [ "$rc" -eq 0 ] || { echo "$(basename "$0"): server exited with $rc" >&2; cat "$WORK/server.log" >&2; exit 1; }
}

stop_server_quietly() {
    if [ -n "${SP:-}" ] && kill -0 "$SP" 2>/dev/null; then kill -TERM "$SP"; wait "$SP" 2>/dev/null || true; fi
    SP=""
}
