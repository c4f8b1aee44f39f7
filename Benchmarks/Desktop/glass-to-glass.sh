#!/usr/bin/env bash
# Glass-to-glass latency, frames per second and CPU of rs-client sharing an Xvfb desktop with rs-viewer
# --headless, beside x11vnc + vnc-capture (libvncclient, ZRLE, 32 bpp) as the baseline measured in the same
# run on the same desktop (see glass_to_glass.py). Run by hand, not in CI:
#
#   RS_BIN=.build/release bash Benchmarks/Desktop/glass-to-glass.sh     # after swift build -c release
#   bash Benchmarks/Desktop/glass-to-glass.sh [--samples 40] [--fps-seconds 10] [--rounds 2] [--baseline none]
#
# Installs x11vnc with apt-get if it is missing and builds vnc-capture with Tests/Interop/build.sh (.build-c/).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RS_BIN:-.build/debug}
for product in rs-broker rs-client rs-viewer; do
  [ -x "$BIN/$product" ] || { echo "no $BIN/$product: run swift build --product $product" >&2; exit 1; }
done
if ! dpkg -s x11vnc 2>/dev/null | grep -q "^Status: install ok installed"; then
  echo "glass-to-glass.sh: installing x11vnc" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq x11vnc >&2
fi
CAPTURE=$(bash Tests/Interop/build.sh)
python3 Benchmarks/Desktop/glass_to_glass.py --bin "$BIN" --capture "$CAPTURE" "$@" &
DRIVER=$!
trap 'kill -TERM $DRIVER 2>/dev/null || true' INT TERM
wait $DRIVER
