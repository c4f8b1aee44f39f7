#!/usr/bin/env bash
# rs-serve-frames against LibVNCServer 0.9.14 (Benchmarks/VNCPeer/lvs-serve-frames), side by side in one
# run, each serving the same frames to the same client (Tests/Interop/vnc-capture, libvncclient) asking
# for the same encodings. Prints each figure and our/their ratio.
#
#   Benchmarks/compare-vnc.sh [--reps N] [--format 32|16] [--encodings "zrle copyrect"] [FRAMES_DIR]
#
# Per sequence (NAME-000.. files): 10 incremental updates with --step (update 0 is the first full frame,
# 1..9 the changes k-1 -> k), and 10 full (non-incremental) updates. Per still: 3 full updates.
# ms is request sent -> update decoded by libvncclient (median over reps, runs of the two servers
# interleaved); bytes are what the client received (deterministic). Raw JSON lines: $OUT_JSON.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
REPS=3
FORMAT=32
ENCODINGS="zrle copyrect"
FRAMES=""
while [ $# -gt 0 ]; do
    case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --format) FORMAT="$2"; shift 2 ;;
    --encodings) ENCODINGS="$2"; shift 2 ;;
    -*) echo "usage: $0 [--reps N] [--format 32|16] [--encodings LIST] [FRAMES_DIR]" >&2; exit 1 ;;
    *) FRAMES="$1"; shift ;;
    esac
done
[ -n "$FRAMES" ] || FRAMES="$ROOT/../shared/frames"
[ -d "$FRAMES" ] || { echo "compare-vnc: frames directory $FRAMES not found" >&2; exit 2; }
OUT_JSON="${OUT_JSON:-compare-vnc-$FORMAT.jsonl}"
BUILD="$ROOT/.build-c"

"$HERE/VNCPeer/build.sh" "$BUILD" >/dev/null
"$ROOT/Tests/Interop/build.sh" "$BUILD" >/dev/null
(cd "$ROOT" && swift build -c release --product rs-serve-frames >/dev/null)
RS="$ROOT/.build/release/rs-serve-frames"
LVS="$BUILD/lvs-serve-frames"

WORK="$(mktemp -d)"
. "$ROOT/Tests/Interop/servers.sh"
cleanup() {
    stop_server_quietly
    rm -rf "$WORK"
}
trap cleanup EXIT

run() { # server label mode updates files...
    local server="$1" label="$2" mode="$3" updates="$4"; shift 4
    local rc=0 full=""
    start_server "$([ "$server" = ours ] && echo "$RS" || echo "$LVS")" --step "$@"
    [ "$mode" = full ] && full=--full
    timeout 300 "$BUILD/vnc-capture" --port "$PORT" --format "$FORMAT" --encodings "$ENCODINGS" --updates "$updates" \
        $full --timeout-ms 240000 >"$WORK/capture.json" || rc=$?
    stop_server_quietly
    [ "$rc" -eq 0 ] || { echo "compare-vnc: vnc-capture failed ($rc) on $server $label $mode" >&2; exit 1; }
    sed "s/^{/{\"server\":\"$server\",\"label\":\"$label\",\"mode\":\"$mode\",/" "$WORK/capture.json"
}

sequences=()
stills=()
for f in "$FRAMES"/*.ppm.gz "$FRAMES"/*.ppm; do
    [ -e "$f" ] || continue
    name="$(basename "$f")"; name="${name%.gz}"; name="${name%.ppm}"
    case "$name" in
    *-000) sequences+=("${name%-000}") ;;
    *-[0-9][0-9][0-9]) ;;
    *) stills+=("$f") ;;
    esac
done

: >"$OUT_JSON"
for rep in $(seq "$REPS"); do
    for seq in "${sequences[@]}"; do
        files=($(ls "$FRAMES/$seq"-[0-9][0-9][0-9].ppm* | sort | head -10))
        for server in ours lvs; do
            run $server "$seq" incremental "${#files[@]}" "${files[@]}" | sed "s/^{/{\"rep\":$rep,/" >>"$OUT_JSON"
            run $server "$seq" full "${#files[@]}" "${files[@]}" | sed "s/^{/{\"rep\":$rep,/" >>"$OUT_JSON"
        done
    done
    for f in "${stills[@]}"; do
        name="$(basename "$f")"; name="${name%.gz}"; name="${name%.ppm}"
        for server in ours lvs; do
            run $server "$name" full 3 "$f" | sed "s/^{/{\"rep\":$rep,/" >>"$OUT_JSON"
        done
    done
done

python3 - "$OUT_JSON" "$FORMAT" "$ENCODINGS" <<'PY'
import json, statistics, sys
from collections import defaultdict
rows = [json.loads(l) for l in open(sys.argv[1]) if '"update"' in l]
by = defaultdict(list)   # (server, label, mode, update) -> [(bytes, ms)]
for r in rows:
    by[(r["server"], r["label"], r["mode"], r["update"])].append((r["bytes"], r["ms"]))
def agg(server, label, mode, updates):
    total_b, total_ms = 0, 0.0
    for u in updates:
        v = by.get((server, label, mode, u), [])
        total_b += statistics.median(b for b, _ in v) if v else 0
        total_ms += statistics.median(m for _, m in v) if v else 0
    return total_b, total_ms
print(f"rs-serve-frames vs LibVNCServer 0.9.14, {sys.argv[2]}-bit client, encodings '{sys.argv[3]}'; "
      f"ms: request -> decoded by libvncclient, median per update over reps, summed")
print(f"{'scene':24} {'what':28} {'ours B':>10} {'lvs B':>10} {'B ratio':>8} {'ours ms':>9} {'lvs ms':>9} {'ms ratio':>8}")
labels = sorted({(r["label"], r["mode"]) for r in rows})
for label, mode in labels:
    updates = sorted({r["update"] for r in rows if r["label"] == label and r["mode"] == mode})
    groups = [("full frame (first)", [0])] if mode == "full" and len(updates) <= 3 else []
    if mode == "full" and len(updates) <= 3:
        groups.append(("full frame (repeats)", updates[1:]))
    elif mode == "full":
        groups.append(("full frames 1-9 (total)", updates[1:]))
    else:
        groups = [("first full frame", [0]), ("incremental 1-9 (total)", updates[1:])]
    for what, us in groups:
        ob, om = agg("ours", label, mode, us)
        lb, lm = agg("lvs", label, mode, us)
        print(f"{label:24} {what:28} {ob:10.0f} {lb:10.0f} {ob / max(lb, 1):8.2f} {om:9.1f} {lm:9.1f} {om / max(lm, 1e-9):8.2f}")
PY
