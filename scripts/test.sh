#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what the tests need (idempotently),
# starts a throw-away PostgreSQL server on 127.0.0.1 (scripts/postgres.sh), then runs the Swift tests
# (every store test against SQLite and PostgreSQL), the HTTP API against its OpenAPI document
# (schemathesis, Tests/API/run-schemathesis.sh), the console's JavaScript (node) and the console in
# headless Chromium against a real broker and rs-client (Tests/Console), the C library's C / C++ / Python tests, the VNC
# interop tests, the durability test (SIGKILL mid-write) and a short fuzz pass over each fuzz target.
#   scripts/test.sh            everything
#   FUZZ_SECONDS=60 scripts/test.sh      (seconds per fuzz target; 10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for p in zlib1g-dev libsqlite3-dev pkg-config libvncserver-dev valgrind python3 python3-aiosmtpd openssl \
         postgresql gcc g++ python3-venv python3-pip libx11-dev libxext-dev libxtst-dev libsdl2-dev \
         xvfb xterm x11-utils x11-apps xdotool xclip; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# The console's JavaScript unit tests need Node 20 or later (WebCrypto X25519, DecompressionStream); the
# machines here have it, Debian's nodejs package is the fallback.
command -v node >/dev/null || need+=(nodejs)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The PostgreSQL store's tests and the durability test use this server.
RS_TEST_POSTGRES_URL=$(bash scripts/postgres.sh)
export RS_TEST_POSTGRES_URL
echo "== PostgreSQL for the tests: $RS_TEST_POSTGRES_URL"

failures=()
step() {
  local name=$1; shift
  local started=$SECONDS
  echo "== $name"
  if "$@"; then echo "== $name: ok ($((SECONDS - started)) s)"; else echo "== $name: FAILED ($((SECONDS - started)) s)"; failures+=("$name"); fi
}

step "swift build" swift build --build-tests
step "swift test" swift test --skip-build --parallel
step "API schema (schemathesis against a real broker)" bash Tests/API/run-schemathesis.sh
step "console JavaScript (node --test)" node --test Tests/Console/unit/
step "console parsers fuzzed (node, mutation)" node Tests/Console/fuzz/fuzz.mjs "${FUZZ_SECONDS:-10}"
step "console in headless Chromium (selenium, real broker and rs-client)" bash Tests/Console/run.sh
step "C library (C, C++, Python ctypes, valgrind)" bash Tests/C/run.sh
# The interop test reuses the debug build above (a release build of the frame server took 4 minutes of CI).
step "embedding examples (C under valgrind, C++, Python ctypes; real broker)" bash Tests/Embedding/run.sh
step "a support session on an Xvfb desktop (rs-client, rs-viewer, xterm)" bash Tests/Desktop/run.sh
step "VNC interop (libvncclient)" bash Tests/Interop/run-interop.sh debug
step "durability (SIGKILL while writing, SQLite and PostgreSQL)" bash Tests/Durability/run.sh
step "fuzz targets over their corpus" bash Tests/Fuzz/run.sh "${FUZZ_SECONDS:-10}"

echo
echo "took $((SECONDS / 60)) min $((SECONDS % 60)) s"
if [ ${#failures[@]} -eq 0 ]; then
  echo "all test steps passed"
else
  echo "failed steps: ${failures[*]}"
  exit 1
fi
