#!/usr/bin/env bash
# Baseline figures for LibVNCServer's ZRLE on the frame corpus, measured with
# vnc-capture (libvncclient) against lvs-serve-frames (LibVNCServer 0.9.14).
#
#   Benchmarks/VNCPeer/bench-lvs.sh [--reps N] [--format 32|16|8] [--build DIR] [--frames DIR]
#
# For each sequence (xterm-scroll, chromium-scroll, drag-xterm):
#   incremental: 10 updates with --step (update 0 = full frame 0, updates 1..9 =
#                incremental frame k-1 -> k)
#   full:        10 non-incremental whole-screen updates with --step
# and for each still: 3 full-frame updates (first and repeats).
# Each run is repeated --reps times (default 3); ms are medians over the runs,
# bytes are deterministic (checked). Output: a table on stdout, raw JSON lines in
# $OUT_JSON (default: bench-lvs-<format>.jsonl in the current directory).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
REPS=3
FORMAT=32
BUILD="$ROOT/.build-c"
FRAMES=""
while [ $# -gt 0 ]; do
    case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --format) FORMAT="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --frames) FRAMES="$2"; shift 2 ;;
    *) echo "usage: $0 [--reps N] [--format 32|16|8] [--build DIR] [--frames DIR]" >&2; exit 1 ;;
    esac
done
if [ -z "$FRAMES" ]; then
    for d in "$ROOT/../shared/frames" /work/shared/frames; do
        [ -d "$d" ] && { FRAMES="$d"; break; }
    done
fi
[ -d "$FRAMES" ] || { echo "bench-lvs: frames directory not found" >&2; exit 2; }
OUT_JSON="${OUT_JSON:-bench-lvs-$FORMAT.jsonl}"

"$HERE/build.sh" "$BUILD" >/dev/null
"$ROOT/Tests/Interop/build.sh" "$BUILD" >/dev/null

WORK="$(mktemp -d)"
SP=""
cleanup() {
    if [ -n "$SP" ] && kill -0 "$SP" 2>/dev/null; then kill -TERM "$SP"; wait "$SP" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

NRUN=0
run() { # label mode(incremental|full) updates files...
    local label="$1" mode="$2" updates="$3"; shift 3
    local port log rc=0
    port="$(free_port)"
    NRUN=$((NRUN + 1)); log="$WORK/server-$NRUN.log"
    timeout 600 "$BUILD/lvs-serve-frames" --port "$port" --step "$@" >/dev/null 2>"$log" &
    SP=$!
    for _ in $(seq 600); do
        grep -q "listening on 127.0.0.1:$port" "$log" 2>/dev/null && break
        kill -0 "$SP" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.05
    done
    local full=""; [ "$mode" = full ] && full=--full
    timeout 300 "$BUILD/vnc-capture" --port "$port" --format "$FORMAT" --encodings zrle --updates "$updates" $full \
        --timeout-ms 240000 >"$WORK/capture.json" || rc=$?
    kill -TERM "$SP"; wait "$SP" || true; SP=""
    [ "$rc" -eq 0 ] || { echo "bench-lvs: vnc-capture failed ($rc) on $label $mode" >&2; exit 1; }
    sed "s/^{/{\"label\":\"$label\",\"mode\":\"$mode\",/" "$WORK/capture.json"
}

: >"$OUT_JSON"
for rep in $(seq "$REPS"); do
    for seq in xterm-scroll chromium-scroll drag-xterm; do
        files=("$FRAMES/$seq"-00{0..9}.ppm.gz)
        run "$seq" incremental 10 "${files[@]}" >"$WORK/run.json"; sed "s/^{/{\"rep\":$rep,/" "$WORK/run.json" >>"$OUT_JSON"
        run "$seq" full 10 "${files[@]}" >"$WORK/run.json"; sed "s/^{/{\"rep\":$rep,/" "$WORK/run.json" >>"$OUT_JSON"
    done
    for f in "$FRAMES"/*.ppm.gz; do
        name="$(basename "$f" .ppm.gz)"
        case "$name" in *-[0-9][0-9][0-9]) continue ;; esac
        run "$name" full 3 "$f" >"$WORK/run.json"; sed "s/^{/{\"rep\":$rep,/" "$WORK/run.json" >>"$OUT_JSON"
    done
done

python3 - "$OUT_JSON" "$FORMAT" <<'EOF'
import json, statistics, sys
from collections import defaultdict
rows = [json.loads(l) for l in open(sys.argv[1]) if '"update"' in l]
fmt = sys.argv[2]
by = defaultdict(list)  # (label, mode, update) -> [(bytes, ms)]
for r in rows:
    by[(r["label"], r["mode"], r["update"])].append((r["bytes"], r["ms"]))
def agg(label, mode, updates):
    bs, ms = [], []
    for u in updates:
        v = by.get((label, mode, u), [])
        if not v:
            continue
        if len({b for b, _ in v}) != 1:
            print(f"note: bytes vary across runs for {label} {mode} {u}: {sorted({b for b,_ in v})}", file=sys.stderr)
        bs.append(statistics.median(b for b, _ in v))
        ms.append(statistics.median(m for _, m in v))
    return (statistics.mean(bs) if bs else 0, statistics.mean(ms) if ms else 0, sum(bs), len(bs))
print(f"LibVNCServer 0.9.14 ZRLE (zlib level 6), {fmt}-bit client format, 1920x1080; ms = median over runs")
print(f"{'scene':24} {'what':34} {'bytes':>10} {'ms':>8}")
for seq in ("xterm-scroll", "chromium-scroll", "drag-xterm"):
    b, m, _, _ = agg(seq, "incremental", [0])
    print(f"{seq:24} {'first full frame (fresh zlib)':34} {b:10.0f} {m:8.1f}")
    b, m, tot, n = agg(seq, "full", range(1, 10))
    print(f"{seq:24} {'full frame, updates 1-9 (mean)':34} {b:10.0f} {m:8.1f}")
    b, m, tot, n = agg(seq, "incremental", range(1, 10))
    print(f"{seq:24} {'incremental k-1->k, 1-9 (mean)':34} {b:10.0f} {m:8.1f}")
    print(f"{seq:24} {'incremental 1-9 total':34} {tot:10.0f}")
stills = sorted({r["label"] for r in rows if r["label"] not in ("xterm-scroll", "chromium-scroll", "drag-xterm")})
for s in stills:
    b, m, _, _ = agg(s, "full", [0])
    b2, m2, _, _ = agg(s, "full", [1, 2])
    print(f"{s:24} {'full frame (first / repeat)':34} {b:10.0f} {m:8.1f}   repeat: {b2:.0f} B {m2:.1f} ms")
EOF
