#!/usr/bin/env bash
# Interop self-test of the two C tools against each other (no Swift involved):
# lvs-serve-frames (LibVNCServer) serves a frame sequence, vnc-capture (libvncclient)
# captures it, compare_ppm.py checks every captured frame against its source.
#
#   Tests/Interop/lvs-interop.sh [BUILD_DIR] [FRAMES_DIR]
#     BUILD_DIR   where the tools are built (default .build-c/ at the repository root)
#     FRAMES_DIR  default: ../shared/frames next to the repository, or /work/shared/frames
#
# Runs: 32-bit ZRLE incremental (xterm-scroll, 10 updates, each must equal its
# source frame exactly), 16-bit RGB565 ZRLE incremental (compared with --bits 5,6,5),
# 8-bit BGR233 (--bits 3,3,2) and 32-bit full-frame mode. Loopback only; every
# server started here is stopped here; every step is time-limited.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:-$ROOT/.build-c}"
FRAMES="${2:-}"
if [ -z "$FRAMES" ]; then
    for d in "$ROOT/../shared/frames" /work/shared/frames; do
        [ -d "$d" ] && { FRAMES="$d"; break; }
    done
fi
[ -d "$FRAMES" ] || { echo "lvs-interop: frames directory not found" >&2; exit 2; }

"$HERE/build.sh" "$BUILD" >/dev/null
"$ROOT/Benchmarks/VNCPeer/build.sh" "$BUILD" >/dev/null
SERVE="$BUILD/lvs-serve-frames"
CAPTURE="$BUILD/vnc-capture"
COMPARE="$HERE/compare_ppm.py"

WORK="$(mktemp -d)"
. "$HERE/servers.sh"
cleanup() {
    stop_server_quietly
    rm -rf "$WORK"
}
trap cleanup EXIT

fail=0
check_seq() { # name captured_dir seq_prefix count [compare args]
    local name="$1" dir="$2" prefix="$3" count="$4"; shift 4
    for i in $(seq 0 $((count - 1))); do
        local n; n=$(printf %03d "$i")
        local src; src="$FRAMES/$prefix-$(printf %03d "$(( i < 9 ? i : 9 ))").ppm.gz"
        if ! out=$(python3 "$COMPARE" "$dir/update-$n.ppm" "$src" "$@"); then
            echo "FAIL $name update $n vs $(basename "$src"): $out"; fail=1
        fi
    done
    echo "ok   $name: $count updates compared"
}

SEQ=("$FRAMES"/xterm-scroll-00{0..9}.ppm.gz)

# 1. 32-bit ZRLE, incremental, step through all 10 frames
start_server "$SERVE" --step "${SEQ[@]}"
timeout 120 "$CAPTURE" --port "$PORT" --format 32 --encodings zrle --updates 10 --out-dir "$WORK/c32" >"$WORK/c32.json"
stop_server
check_seq "32-bit zrle incremental" "$WORK/c32" xterm-scroll 10

# 2. 16-bit RGB565 ZRLE incremental ("zrle copyrect" also exercises a 2-encoding list)
start_server "$SERVE" --step "${SEQ[@]}"
timeout 120 "$CAPTURE" --port "$PORT" --format 16 --encodings "zrle copyrect" --updates 10 --out-dir "$WORK/c16" >"$WORK/c16.json"
stop_server
check_seq "16-bit zrle incremental" "$WORK/c16" xterm-scroll 10 --bits 5,6,5

# 3. 8-bit BGR233, 3 updates
start_server "$SERVE" --step "${SEQ[@]}"
timeout 120 "$CAPTURE" --port "$PORT" --format 8 --updates 3 --out-dir "$WORK/c8" >"$WORK/c8.json"
stop_server
check_seq "8-bit zrle incremental" "$WORK/c8" xterm-scroll 3 --bits 3,3,2

# 4. full-frame mode; 11 updates: the 11th repeats the last file
start_server "$SERVE" --step "${SEQ[@]}"
timeout 120 "$CAPTURE" --port "$PORT" --full --updates 11 --out-dir "$WORK/cfull" >"$WORK/cfull.json"
stop_server
check_seq "32-bit zrle full" "$WORK/cfull" xterm-scroll 11
grep -q '"incremental":true' "$WORK/cfull.json" && { echo "FAIL full mode sent an incremental request"; fail=1; }

# 5. without --step every update is file 0 (full requests)
start_server "$SERVE" "${SEQ[@]}"
timeout 60 "$CAPTURE" --port "$PORT" --full --updates 2 --out-dir "$WORK/cnostep" >/dev/null
stop_server
for n in 000 001; do
    python3 "$COMPARE" "$WORK/cnostep/update-$n.ppm" "${SEQ[0]}" >/dev/null || { echo "FAIL no-step update $n"; fail=1; }
done
echo "ok   no --step: always file 0"

if [ "$fail" -ne 0 ]; then echo "lvs-interop: FAILED"; exit 1; fi
echo "lvs-interop: all passed"
