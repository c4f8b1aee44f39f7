#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what the tests need (idempotently),
# then the Swift tests, the C library's C / C++ / Python tests, the VNC interop tests and a short fuzz
# pass over each fuzz target's corpus.
#   scripts/test.sh            everything
#   FUZZ_SECONDS=60 scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for p in zlib1g-dev pkg-config libvncserver-dev valgrind python3 gcc g++; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

failures=()
step() {
  local name=$1; shift
  echo "== $name"
  if "$@"; then echo "== $name: ok"; else echo "== $name: FAILED"; failures+=("$name"); fi
}

step "swift build" swift build --build-tests
step "swift test" swift test --skip-build --parallel
step "C library (C, C++, Python ctypes, valgrind)" bash Tests/C/run.sh
step "VNC interop (libvncclient)" bash Tests/Interop/run-interop.sh
step "fuzz targets over their corpus" bash Tests/Fuzz/run.sh "${FUZZ_SECONDS:-20}"

echo
if [ ${#failures[@]} -eq 0 ]; then
  echo "all test steps passed"
else
  echo "failed steps: ${failures[*]}"
  exit 1
fi
