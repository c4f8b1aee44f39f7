#!/usr/bin/env bash
# End-to-end test of rs-client on a real X desktop: Xvfb with an xterm, rs-broker, rs-client sharing the
# screen (XShm capture, XTest input) and rs-viewer --headless as the agent. See Tests/Desktop/e2e.py for the
# checks. Needs the debug build of rs-broker, rs-client and rs-viewer, and xvfb, xterm, x11-apps (xwd),
# x11-utils (xdpyinfo) and xdotool. Idempotent; bounded (about a minute); cleans up after itself.
#
#   bash Tests/Desktop/run.sh              # RS_BIN=.build/release to test other binaries, RS_KEEP=1 keeps a failed run's files
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${RS_BIN:-.build/debug}
for product in rs-broker rs-client rs-viewer; do
  [ -x "$BIN/$product" ] || { echo "no $BIN/$product: run swift build --product $product" >&2; exit 1; }
done
# The Python driver starts every process in its own session and stops them; the trap is for an interrupt.
python3 Tests/Desktop/e2e.py --bin "$BIN" &
DRIVER=$!
trap 'kill -TERM $DRIVER 2>/dev/null || true' INT TERM
wait $DRIVER
