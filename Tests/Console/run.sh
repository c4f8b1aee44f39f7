#!/usr/bin/env bash
# Browser tests of the operator console: headless Chromium driven by Selenium against a real rs-broker
# (Tests/Console/test_console.py). Idempotent set-up: Debian's chromium and chromium-driver when missing,
# selenium from PyPI in a venv under the cache folder. Screenshots go to Tests/Console/screenshots/.
#   Tests/Console/run.sh
#   RS_BROKER_BIN=.build/release/rs-broker Tests/Console/run.sh
#   Tests/Console/run.sh ConsoleWalkthrough.test_05_invite_links     (one test; unittest names)
set -euo pipefail
cd "$(dirname "$0")/../.."

export RS_BROKER_BIN=${RS_BROKER_BIN:-.build/debug/rs-broker}
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/rs-console-venv

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "== installing chromium and chromium-driver"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi

if ! "$VENV/bin/python" -c 'import selenium' 2>/dev/null; then
  echo "== installing selenium into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q selenium
fi

export RS_CLIENT_BIN=${RS_CLIENT_BIN:-.build/debug/rs-client}
if [ ! -x "$RS_BROKER_BIN" ] || [ ! -x "$RS_CLIENT_BIN" ]; then
  echo "no rs-broker at $RS_BROKER_BIN or rs-client at $RS_CLIENT_BIN: build them (swift build) or set RS_BROKER_BIN / RS_CLIENT_BIN" >&2
  exit 1
fi

# The whole run is bounded: each wait has its own timeout; this is the last resort.
# test_console.py walks the console's pages; test_session.py runs a whole session with rs-client.
if [ $# -gt 0 ]; then
  exec timeout --kill-after=10 300 "$VENV/bin/python" Tests/Console/test_console.py "$@"
fi
status=0
timeout --kill-after=10 300 "$VENV/bin/python" Tests/Console/test_console.py || status=1
timeout --kill-after=10 180 "$VENV/bin/python" Tests/Console/test_session.py || status=1
exit $status
