#!/usr/bin/env bash
# Interop tests of rs-serve-frames against decoders nobody here wrote: libvncclient (through
# vnc-capture) for ZRLE and CopyRect, and a small Python client for Raw and for protocol errors.
#
#   Tests/Interop/run-interop.sh [release|debug]      (default release)
#
# Environment:
#   RS_SERVE_FRAMES   use this rs-serve-frames binary instead of building one
#   BUILD_C           where build.sh puts vnc-capture (default: .build-c in the repository)
#
# Builds vnc-capture (build.sh) and rs-serve-frames (swift build), generates the fixture frames
# (make_fixtures.py) into a temporary folder, then for each sequence and pixel format starts
# `rs-serve-frames --step` on a free loopback port, captures one update per frame with vnc-capture
# and compares each with its source frame bit-exactly (compare_ppm.py; 16-bit RGB565 with
# --bits 5,6,5, 8-bit BGR233 with --bits 3,3,2). Also: a full-frame (--full) run, a run without
# --step, two clients at once, hostile clients (the server must log a reason and go on serving),
# the hold-until-changed rule and the Raw fallback. Every server started here is stopped here.
# The last line is "N passed, M failed"; the exit status is non-zero if anything failed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CONFIG="${1:-release}"
case "$CONFIG" in release|debug) ;; *) echo "usage: $0 [release|debug]" >&2; exit 2 ;; esac
BUILD_C="${BUILD_C:-$ROOT/.build-c}"
START=$(date +%s)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rs-interop.XXXXXX")"
SERVERS=()
cleanup() {
    for pid in "${SERVERS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ build

echo "== building vnc-capture" >&2
"$HERE/build.sh" "$BUILD_C" >/dev/null
CAPTURE="$BUILD_C/vnc-capture"
if [ -n "${RS_SERVE_FRAMES:-}" ]; then
    SERVE="$RS_SERVE_FRAMES"
else
    echo "== building rs-serve-frames ($CONFIG)" >&2
    (cd "$ROOT" && swift build -c "$CONFIG" --product rs-serve-frames >&2)
    SERVE="$(cd "$ROOT" && swift build -c "$CONFIG" --show-bin-path)/rs-serve-frames"
fi
[ -x "$SERVE" ] || { echo "run-interop: $SERVE not found" >&2; exit 2; }
COMPARE="$HERE/compare_ppm.py"

FIX="$WORK/fixtures"
python3 "$HERE/make_fixtures.py" "$FIX" >/dev/null
echo "== fixtures and tools ready after $(( $(date +%s) - START )) s" >&2

# ------------------------------------------------------------------ helpers

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; shift; for line in "$@"; do echo "     $line"; done; }

frames() { ls "$FIX/$1"-[0-9][0-9][0-9].ppm* | sort; }

# start_server LOG ARGS... : starts rs-serve-frames on port 0, sets SP (pid) and PORT.
start_server() {
    local log="$1"; shift
    "$SERVE" --port 0 "$@" 2>"$log" &
    SP=$!
    SERVERS+=("$SP")
    PORT=""
    for _ in $(seq 400); do
        PORT="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -n1)"
        [ -n "$PORT" ] && return 0
        kill -0 "$SP" 2>/dev/null || break
        sleep 0.05
    done
    echo "run-interop: rs-serve-frames did not start:" >&2
    cat "$log" >&2
    exit 1
}

# stop_server NAME LOG : SIGTERM; the server must exit 0.
stop_server() {
    local rc=0
    kill -TERM "$SP" 2>/dev/null || true
    wait "$SP" || rc=$?
    if [ "$rc" -ne 0 ]; then fail "$1: server exit status $rc after SIGTERM" "$(tail -n 5 "$2")"; fi
}

# check_updates NAME DIR SEQ COUNT [compare args] : update i against frame min(i, last).
check_updates() {
    local name="$1" dir="$2" seq="$3" count="$4"; shift 4
    local files; mapfile -t files < <(frames "$seq")
    local bad=() i n src out
    for ((i = 0; i < count; i++)); do
        n=$(printf %03d "$i")
        src="${files[$(( i < ${#files[@]} ? i : ${#files[@]} - 1 ))]}"
        if ! out=$(python3 "$COMPARE" "$dir/update-$n.ppm" "$src" "$@" 2>&1); then
            bad+=("update $n vs $(basename "$src"): $(echo "$out" | tr '\n' ' ')")
        fi
    done
    if [ "${#bad[@]}" -eq 0 ]; then pass "$name: $count updates bit-exact"; else fail "$name" "${bad[@]}"; fi
}

bits_for() { case "$1" in 32) echo "" ;; 16) echo "--bits 5,6,5" ;; 8) echo "--bits 3,3,2" ;; esac; }

# capture_case NAME SEQ FORMAT ENCODINGS [extra vnc-capture args] : one server, one client, compare.
capture_case() {
    local name="$1" seq="$2" format="$3" encodings="$4"; shift 4
    local dir="$WORK/cap-$RANDOM$RANDOM" log="$WORK/server-$RANDOM$RANDOM.log"
    local files; mapfile -t files < <(frames "$seq")
    local count=${#files[@]}
    mkdir -p "$dir"
    start_server "$log" --step "${files[@]}"
    local rc=0
    timeout 60 "$CAPTURE" --port "$PORT" --format "$format" --encodings "$encodings" --updates "$count" \
        --out-dir "$dir" "$@" >"$dir/capture.json" 2>"$dir/capture.err" || rc=$?
    stop_server "$name" "$log"
    if [ "$rc" -ne 0 ]; then fail "$name: vnc-capture exit status $rc" "$(cat "$dir/capture.err")"; return; fi
    # shellcheck disable=SC2046
    check_updates "$name" "$dir" "$seq" "$count" $(bits_for "$format")
    # Content moves in these two sequences: CopyRect must have been used.
    if [[ "$encodings" == *copyrect* && "$seq" =~ ^(scroll|drag)$ ]] && ! grep -q '"copyrect"' "$dir/capture.json"; then
        fail "$name: no CopyRect rectangle in any update" "$(cat "$dir/capture.json")"
    fi
    if [[ "$encodings" != *copyrect* ]] && grep -q '"copyrect"\|"raw"' "$dir/capture.json"; then
        fail "$name: an encoding other than ZRLE was used" "$(cat "$dir/capture.json")"
    fi
}

# ------------------------------------------------------------------ libvncclient: ZRLE, CopyRect

for seq in stills odd scroll drag; do
    for format in 32 16; do
        capture_case "$seq $format-bit zrle" "$seq" "$format" "zrle"
    done
done
for seq in scroll drag; do
    for format in 32 16; do
        capture_case "$seq $format-bit zrle+copyrect" "$seq" "$format" "zrle copyrect"
    done
done
capture_case "scroll 8-bit zrle" scroll 8 "zrle"
capture_case "odd 8-bit zrle+copyrect" odd 8 "zrle copyrect"

# Full-frame requests: every update non-incremental; one more update than files repeats the last.
name="stills 32-bit zrle --full"
dir="$WORK/cap-full"; log="$WORK/server-full.log"; mkdir -p "$dir"
mapfile -t files < <(frames stills)
start_server "$log" --step "${files[@]}"
rc=0
timeout 60 "$CAPTURE" --port "$PORT" --format 32 --encodings zrle --full --updates 4 --out-dir "$dir" >"$dir/capture.json" 2>"$dir/capture.err" || rc=$?
stop_server "$name" "$log"
if [ "$rc" -ne 0 ]; then fail "$name: vnc-capture exit status $rc" "$(cat "$dir/capture.err")"
elif grep -q '"incremental":true' "$dir/capture.json"; then fail "$name: an incremental request was sent"
else check_updates "$name" "$dir" stills 4; fi

# Without --step every update is the first file.
name="no --step: every update is file 0"
dir="$WORK/cap-nostep"; log="$WORK/server-nostep.log"; mkdir -p "$dir"
start_server "$log" "${files[@]}"
rc=0
timeout 60 "$CAPTURE" --port "$PORT" --format 32 --encodings zrle --full --updates 2 --out-dir "$dir" >/dev/null 2>"$dir/capture.err" || rc=$?
stop_server "$name" "$log"
if [ "$rc" -ne 0 ]; then fail "$name: vnc-capture exit status $rc" "$(cat "$dir/capture.err")"
elif python3 "$COMPARE" "$dir/update-000.ppm" "${files[0]}" >/dev/null && python3 "$COMPARE" "$dir/update-001.ppm" "${files[0]}" >/dev/null; then pass "$name"
else fail "$name"; fi

# Two clients at once, each stepping through the frames on its own.
name="two clients at once (drag, 32-bit and 16-bit)"
log="$WORK/server-two.log"
mapfile -t files < <(frames drag)
start_server "$log" --step "${files[@]}"
mkdir -p "$WORK/cap-a" "$WORK/cap-b"
rca=0; rcb=0
timeout 60 "$CAPTURE" --port "$PORT" --format 32 --encodings "zrle copyrect" --updates 8 --out-dir "$WORK/cap-a" >/dev/null 2>"$WORK/cap-a.err" &
pa=$!
timeout 60 "$CAPTURE" --port "$PORT" --format 16 --encodings "zrle" --updates 8 --out-dir "$WORK/cap-b" >/dev/null 2>"$WORK/cap-b.err" &
pb=$!
wait "$pa" || rca=$?
wait "$pb" || rcb=$?
stop_server "$name" "$log"
if [ "$rca" -ne 0 ] || [ "$rcb" -ne 0 ]; then fail "$name: vnc-capture exit status $rca, $rcb" "$(cat "$WORK/cap-a.err" "$WORK/cap-b.err")"
else
    check_updates "$name, client A" "$WORK/cap-a" drag 8
    check_updates "$name, client B" "$WORK/cap-b" drag 8 --bits 5,6,5
fi

# ------------------------------------------------------------------ protocol: a Python client

# Hostile clients first, then the rules the server follows, then a libvncclient client on the same
# server to show it still serves. The Python client prints "ok ..." / "FAIL ..." lines.
name="protocol"
log="$WORK/server-protocol.log"
mapfile -t files < <(frames odd)
start_server "$log" --step "${files[@]}"
proto_out="$WORK/protocol.out"
rc=0
timeout 60 python3 - "$PORT" "$log" "${files[@]}" >"$proto_out" 2>&1 <<'PY' || rc=$?
import gzip, socket, struct, sys, time

port, log_path, frame_paths = int(sys.argv[1]), sys.argv[2], sys.argv[3:]

def read_ppm(path):
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    head = data.split(b"\n", 3)
    w, h = map(int, head[1].split())
    return w, h, head[3]

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s

def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError(f"connection closed after {len(out)} of {n} bytes")
        out += chunk
    return out

def closed_by_server(s, timeout=5):
    """Reads until EOF; returns everything received."""
    s.settimeout(timeout)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk

def handshake(s, version=b"RFB 003.008\n"):
    assert recv_exact(s, 12) == b"RFB 003.008\n"
    s.sendall(version)
    if version == b"RFB 003.003\n":
        assert recv_exact(s, 4) == b"\0\0\0\1", "3.3: security type None"
    else:
        assert recv_exact(s, 2) == b"\1\1", "security types [None]"
        s.sendall(b"\1")
        if version == b"RFB 003.008\n":
            assert recv_exact(s, 4) == b"\0\0\0\0", "SecurityResult OK"
    s.sendall(b"\1")
    w, h = struct.unpack(">HH", recv_exact(s, 4))
    fmt = recv_exact(s, 16)
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    name = recv_exact(s, n)
    return w, h, fmt, name

def log_grows(before, needle, timeout=3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = open(log_path, encoding="utf-8", errors="replace").read()[before:]
        if needle in text:
            return True
        time.sleep(0.05)
    return False

def log_size():
    return len(open(log_path, encoding="utf-8", errors="replace").read())

results = []
def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    results.append(ok)

BGRX = bytes([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0])

# 1. Garbage after the handshake: the server logs why and closes.
mark = log_size()
s = connect()
w, h, fmt, name = handshake(s)
check("ServerInit: size, 32-bit format, name", (w, h, fmt, name) == (333, 217, BGRX, b"rs-serve-frames"), (w, h, fmt, name))
s.sendall(b"\xff\x00garbage")
rest = closed_by_server(s)
check("garbage after the handshake: connection closed", rest == b"", rest[:40])
check("garbage after the handshake: reason logged", log_grows(mark, "closing: unknown message type: client message type 255"), open(log_path).read()[mark:])
s.close()

# 2. An unsupported version: refused with a reason the client can read (3.7+ form: count 0).
mark = log_size()
s = connect()
recv_exact(s, 12)
s.sendall(b"RFB 004.001\n")
data = closed_by_server(s)
ok = len(data) >= 5 and data[0] == 0 and struct.unpack(">I", data[1:5])[0] == len(data) - 5 and b"3.3, 3.7 and 3.8" in data
check("RFB 4.1: refused with a reason", ok, data)
check("RFB 4.1: reason logged", log_grows(mark, "unsupported protocol version"))
s.close()

# 3. Not RFB at all (an HTTP request).
mark = log_size()
s = connect()
recv_exact(s, 12)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
data = closed_by_server(s)
check("HTTP request: refused and closed", data[:4] == b"\0\0\0\0" and b"not of the form" in data, data)
check("HTTP request: reason logged", log_grows(mark, "not of the form"))
s.close()

# 4. A colour-map SetPixelFormat.
mark = log_size()
s = connect()
handshake(s)
s.sendall(b"\0\0\0\0" + bytes([8, 8, 0, 0]) + bytes(12))
check("colour-map SetPixelFormat: closed", closed_by_server(s) == b"")
check("colour-map SetPixelFormat: reason logged", log_grows(mark, "colour-map pixel formats are not supported"))
s.close()

# 5. SetEncodings with 60000 entries (over the cap): refused from the header alone.
mark = log_size()
s = connect()
handshake(s)
s.sendall(struct.pack(">BBH", 2, 0, 60000))
check("SetEncodings count over the cap: closed", closed_by_server(s) == b"")
check("SetEncodings count over the cap: reason logged", log_grows(mark, "limit exceeded"))
s.close()

# 6. Security type VNC authentication (not offered) on 3.8: a failed SecurityResult with a reason.
s = connect()
recv_exact(s, 12)
s.sendall(b"RFB 003.008\n")
recv_exact(s, 2)
s.sendall(b"\2")
data = closed_by_server(s)
check("security type 2: failed SecurityResult with a reason", data[:4] == b"\0\0\0\1" and b"only None" in data, data)
s.close()

# 7. A client that hangs up in the middle of a message: the server notices and goes on.
s = connect()
handshake(s)
s.sendall(b"\3\0\0")
s.close()

# 8. Raw fallback (no SetEncodings), 3.3 and 3.7 handshakes, and the hold rule.
def read_update(s, fb, w, bpp):
    """Reads one FramebufferUpdate of Raw/CopyRect rectangles into fb (bytearray); returns the rects."""
    t, _, n = struct.unpack(">BBH", recv_exact(s, 4))
    assert t == 0, f"message type {t}"
    rects = []
    for _ in range(n):
        x, y, rw, rh, enc = struct.unpack(">HHHHi", recv_exact(s, 12))
        rects.append((x, y, rw, rh, enc))
        if enc == 0:
            pixels = recv_exact(s, rw * rh * bpp)
            for j in range(rh):
                o = ((y + j) * w + x) * bpp
                fb[o:o + rw * bpp] = pixels[j * rw * bpp:(j + 1) * rw * bpp]
        elif enc == 1:
            sx, sy = struct.unpack(">HH", recv_exact(s, 4))
            rows = [bytes(fb[((sy + j) * w + sx) * bpp:((sy + j) * w + sx + rw) * bpp]) for j in range(rh)]
            for j in range(rh):
                o = ((y + j) * w + x) * bpp
                fb[o:o + rw * bpp] = rows[j]
        else:
            raise AssertionError(f"encoding {enc} was not requested")
    return rects

def as_rgb(fb, w, h):
    out = bytearray(w * h * 3)
    out[0::3] = fb[2::4]
    out[1::3] = fb[1::4]
    out[2::3] = fb[0::4]
    return bytes(out)

def request(s, incremental, x, y, w, h):
    s.sendall(struct.pack(">BBHHHH", 3, 1 if incremental else 0, x, y, w, h))

def nothing_arrives(s, seconds=0.6):
    s.settimeout(seconds)
    try:
        data = s.recv(1)
    except socket.timeout:
        return True
    finally:
        s.settimeout(10)
    return False

sources = [read_ppm(p) for p in frame_paths]
for version in (b"RFB 003.003\n", b"RFB 003.007\n"):
    label = version.decode().strip()
    s = connect()
    w, h, fmt, _ = handshake(s, version)
    fb = bytearray(w * h * 4)
    # The server's own format (bgrx), no SetEncodings: Raw.
    request(s, False, 0, 0, w, h)
    read_update(s, fb, w, 4)
    check(f"{label}: Raw full update equals frame 0", as_rgb(fb, w, h) == sources[0][2])
    for k in range(1, len(sources)):
        request(s, True, 0, 0, w, h)
        rects = read_update(s, fb, w, 4)
        check(f"{label}: Raw incremental update {k} equals frame {k} ({len(rects)} rects)", as_rgb(fb, w, h) == sources[k][2])
    # After the last frame nothing changes: an incremental request is held ...
    request(s, True, 0, 0, w, h)
    check(f"{label}: incremental request with nothing changed is held", nothing_arrives(s))
    # ... and a later non-incremental one is answered (together with the held one).
    request(s, False, 10, 10, 20, 20)
    read_update(s, fb, w, 4)
    check(f"{label}: a later full request is answered", as_rgb(fb, w, h) == sources[-1][2])
    # A request reaching past the framebuffer is clipped, not refused.
    request(s, False, w - 5, h - 5, 100, 100)
    rects = read_update(s, fb, w, 4)
    inside = all(x + rw <= w and y + rh <= h for x, y, rw, rh, _ in rects)
    check(f"{label}: a request past the edge is clipped", inside and len(rects) > 0, rects)
    s.close()

print(f"{sum(results)} of {len(results)} protocol checks passed")
sys.exit(0 if all(results) else 1)
PY
[ "$rc" -eq 0 ] || true
while IFS= read -r line; do
    case "$line" in
        "ok   "*) pass "$name: ${line#ok   }" ;;
        "FAIL "*) fail "$name: ${line#FAIL }" ;;
    esac
done <"$proto_out"
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$proto_out"; then fail "$name: the Python client failed (status $rc)" "$(tail -n 15 "$proto_out")"; fi

# The same server, after all that, still serves a real viewer.
dir="$WORK/cap-after"; mkdir -p "$dir"
rc=0
timeout 60 "$CAPTURE" --port "$PORT" --format 16 --encodings zrle --updates 3 --out-dir "$dir" >/dev/null 2>"$dir/capture.err" || rc=$?
if [ "$rc" -ne 0 ]; then fail "$name: a good client after the bad ones: vnc-capture exit status $rc" "$(cat "$dir/capture.err")"
else check_updates "$name: a good client after the bad ones" "$dir" odd 3 --bits 5,6,5; fi
stop_server "$name" "$log"

# ------------------------------------------------------------------ command line errors

name="command line"
out="$("$SERVE" --port 0 "$WORK/missing.ppm" 2>&1)" && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && [[ "$out" == *"cannot open"*"missing.ppm"* ]]; then pass "$name: unreadable file"; else fail "$name: unreadable file" "status $rc: $out"; fi
printf 'P6\n2 2\n255\nxx' >"$WORK/short.ppm"
out="$("$SERVE" --port 0 "$WORK/short.ppm" 2>&1)" && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && [[ "$out" == *"short.ppm"*"truncated"* ]]; then pass "$name: invalid file"; else fail "$name: invalid file" "status $rc: $out"; fi
out="$("$SERVE" --port 0 "$FIX/stills-000.ppm" "$FIX/odd-000.ppm" 2>&1)" && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && [[ "$out" == *"same size"* ]]; then pass "$name: frames of different sizes"; else fail "$name: frames of different sizes" "status $rc: $out"; fi
start_server "$WORK/server-busy.log" "$FIX/odd-000.ppm"
out="$("$SERVE" --port "$PORT" "$FIX/odd-000.ppm" 2>&1)" && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && [[ "$out" == *"address already in use"* ]]; then pass "$name: port in use"; else fail "$name: port in use" "status $rc: $out"; fi
stop_server "$name: port in use" "$WORK/server-busy.log"
"$SERVE" --port 0 "$FIX/odd-000.ppm" 2>"$WORK/server-int.log" &
SP=$!; SERVERS+=("$SP")
for _ in $(seq 200); do grep -q "listening on" "$WORK/server-int.log" && break; sleep 0.05; done
kill -INT "$SP"; rc=0; wait "$SP" || rc=$?
if [ "$rc" -eq 0 ]; then pass "$name: SIGINT exits cleanly"; else fail "$name: SIGINT exit status $rc" "$(cat "$WORK/server-int.log")"; fi

echo "run-interop: $(( $(date +%s) - START )) s" >&2
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
