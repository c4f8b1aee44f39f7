#!/usr/bin/env bash
# Glass-to-glass latency, frames per second and CPU of rs-client sharing an Xvfb desktop with rs-viewer
# --headless (see glass_to_glass.py). Run by hand, not in CI:
#
#   bash Benchmarks/Desktop/glass-to-glass.sh [--samples 40] [--fps-seconds 10]
#   RS_BIN=.build/release bash Benchmarks/Desktop/glass-to-glass.sh     # after swift build -c release
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RS_BIN:-.build/debug}
for product in rs-broker rs-client rs-viewer; do
  [ -x "$BIN/$product" ] || { echo "no $BIN/$product: run swift build --product $product" >&2; exit 1; }
done
python3 Benchmarks/Desktop/glass_to_glass.py --bin "$BIN" "$@" &
DRIVER=$!
trap 'kill -TERM $DRIVER 2>/dev/null || true' INT TERM
wait $DRIVER
