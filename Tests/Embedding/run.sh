#!/usr/bin/env bash
# Tests the embedding examples (Examples/Embedding: the end user in C, C++ and Python ctypes) against a real
# broker: builds the C and C++ examples with warnings as errors, starts .build/debug/rs-broker on free ports
# with a fresh store, sets up its admin (the one-time password changed through the API), and for each run
# lets Tests/Embedding/agent.py (an agent in Python ctypes on the same .so) issue a connection ID, start the
# example, connect, compare the screen with the example's frames, send input, and end the session:
#
#   1. C under valgrind (no memory errors, no definite leaks), the agent ends the session
#   2. C++, the agent ends the session
#   3. Python, the agent ends the session
#   4. C under valgrind, consent typed at the prompt, the connection cut once by a proxy (the example
#      resumes the session on a new connection), SIGTERM: the end user ends the session
#   5. C++, the same
#   6. Python, the same
#
#   bash Tests/Embedding/run.sh              # expects swift build (debug) to have made the .so and rs-broker
#   RS_BIN=.build/release bash Tests/Embedding/run.sh
#
# Builds what is missing with swift build. Every wait is bounded; the broker is stopped on exit. The last
# line is "N passed, M failed"; the exit status is non-zero if anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BIN="${RS_BIN:-.build/debug}"
BIN="$(cd "$BIN" 2>/dev/null && pwd || echo "$ROOT/$BIN")"
LIB="$BIN/libremotesupport.so"
BROKER="$BIN/rs-broker"
OUT="$ROOT/.build/embedding-tests"
TMP="$(mktemp -d)"
BROKER_PID=""

passed=0
failed=0
step() { echo; echo "== $*"; }
ok() { echo "ok: $*"; passed=$((passed + 1)); }
not_ok() { echo "FAILED: $*"; failed=$((failed + 1)); }
finish() {
    echo
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 0 || exit 1
}
cleanup() {
    if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill "$BROKER_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$BROKER_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for product in remotesupport rs-broker; do
    file="$LIB"; [ "$product" = rs-broker ] && file="$BROKER"
    if [ ! -x "$file" ] && [ ! -f "$file" ]; then
        step "swift build --product $product (missing: $file)"
        timeout -s KILL 2400 swift build --product "$product" 2>&1 | grep -E "error|Compiling|Build" | tail -5
        [ -f "$file" ] || { not_ok "no $file"; finish; }
    fi
done
mkdir -p "$OUT"
# The .so carries a RUNPATH to the toolchain's runtime; this covers a toolchain that moved since.
if command -v swift >/dev/null 2>&1; then
    SWIFT_RUNTIME="$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux"
    export LD_LIBRARY_PATH="$SWIFT_RUNTIME${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

step "build the C (C99) and C++ (C++17) examples with -Wall -Wextra -Werror -pedantic"
CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic -O1 -g"
CXXFLAGS="-std=c++17 -Wall -Wextra -Werror -pedantic -O1 -g"
if command -v make >/dev/null 2>&1; then
    make -s -C Examples/Embedding LIBDIR="$BIN" OUT="$OUT" CFLAGS="$CFLAGS" CXXFLAGS="$CXXFLAGS" -B
else
    # The same commands as Examples/Embedding/Makefile.
    # shellcheck disable=SC2086
    gcc $CFLAGS -IInclude Examples/Embedding/c/enduser.c -L"$BIN" -lremotesupport -Wl,-rpath,"$BIN" -o "$OUT/enduser-c"
    # shellcheck disable=SC2086
    g++ $CXXFLAGS -IInclude Examples/Embedding/cpp/enduser.cpp -L"$BIN" -lremotesupport -Wl,-rpath,"$BIN" -o "$OUT/enduser-cpp"
fi
[ -x "$OUT/enduser-c" ] && ok "enduser-c" || not_ok "building enduser.c"
[ -x "$OUT/enduser-cpp" ] && ok "enduser-cpp" || not_ok "building enduser.cpp"
if python3 -m py_compile Examples/Embedding/python/enduser.py Tests/Embedding/agent.py; then
    ok "enduser.py and agent.py compile"
else
    not_ok "python syntax"
fi

step "valgrind"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "installing valgrind"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind >/dev/null 2>&1 || true
fi
VALGRIND_LIB=""
if command -v valgrind >/dev/null 2>&1; then
    # As in Tests/C/run.sh: valgrind 3.19 (Debian 12) cannot read the DWARF 5 debug info of swift-crypto's
    # BoringSSL objects in the .so, so the C example runs against a copy without debug info (LD_LIBRARY_PATH
    # comes before its rpath). Function names stay; line numbers go.
    VALGRIND_LIB="$OUT/valgrind-lib"
    mkdir -p "$VALGRIND_LIB"
    objcopy --strip-debug "$LIB" "$VALGRIND_LIB/libremotesupport.so" && ok "$(valgrind --version)" \
        || { not_ok "objcopy"; VALGRIND_LIB=""; }
else
    not_ok "valgrind is not installed and apt-get could not install it (the C example runs without it)"
fi

step "start the broker"
"$BROKER" --port 0 --protocol-port 0 --data "$TMP/data" --log-level warning >"$TMP/broker.out" 2>"$TMP/broker.err" &
BROKER_PID=$!
for _ in $(seq 1 600); do   # 60 s
    grep -q "^(it must be changed" "$TMP/broker.out" 2>/dev/null && break
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
done
URL="$(sed -nE 's|^ *API: *(http://[^ ]*)/api/v1.*|\1|p' "$TMP/broker.out")"
TCP_PORT="$(sed -nE 's|^ *TCP 127\.0\.0\.1:([0-9]+).*|\1|p' "$TMP/broker.out")"
EMAIL="$(sed -nE 's|^First start: log in as ([^ ]+) with.*|\1|p' "$TMP/broker.out")"
PASSWORD="$(grep -A1 "^First start" "$TMP/broker.out" | tail -1 | tr -d ' ')"
if [ -z "$URL" ] || [ -z "$TCP_PORT" ] || [ -z "$EMAIL" ] || [ -z "$PASSWORD" ]; then
    not_ok "the broker did not start (or print its ports and password) within 60 s"
    cat "$TMP/broker.out"; tail -20 "$TMP/broker.err"
    finish
fi
ok "rs-broker at $URL, protocol TCP port $TCP_PORT (plaintext: loopback only), admin $EMAIL"

step "set up the admin: log in, change the one-time password, log in again"
if TOKEN="$(timeout 150 python3 Tests/Embedding/agent.py --url "$URL" --setup "$PASSWORD" --email "$EMAIL" --lib "$LIB")" \
        && [ -n "$TOKEN" ]; then
    ok "agent token"
else
    not_ok "admin setup through the API"
    finish
fi

# run NAME AGENT-OPTIONS... -- EXAMPLE-COMMAND...  (the agent replaces {code} by a connection ID, {port} by
# the broker's TCP port or its proxy's)
run_example() {
    local name="$1"; shift
    local agent_args=()
    while [ "$1" != "--" ]; do agent_args+=("$1"); shift; done
    shift
    step "$name"
    if timeout -s KILL 60 python3 Tests/Embedding/agent.py --url "$URL" --token="$TOKEN" --tcp "$TCP_PORT" --lib "$LIB" \
            --name "$name" "${agent_args[@]}" -- "$@" "127.0.0.1" "{port}" "{code}" --name "$name" --seconds 45; then
        ok "$name"
        return 0
    fi
    not_ok "$name"
    return 1
}

# valgrind_example NAME AGENT-OPTIONS...: the C example under valgrind; its log is checked afterwards.
valgrind_example() {
    local name="$1"; shift
    local log="$OUT/valgrind-$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').log"
    if [ -z "$VALGRIND_LIB" ]; then
        run_example "$name" "$@" -- "$OUT/enduser-c"
        return
    fi
    # Memory errors and definite leaks fail (exit 99); "possibly lost" blocks are the Swift runtime's
    # metadata caches, alive at exit by design.
    LD_LIBRARY_PATH="$VALGRIND_LIB:$LD_LIBRARY_PATH" run_example "$name" --wait 40 "$@" -- \
        valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=99 \
        --log-file="$log" "$OUT/enduser-c"
    grep -E "definitely lost|possibly lost|ERROR SUMMARY|All heap blocks" "$log" | sed 's/^==[0-9]*== */  /'
    if grep -qE "definitely lost: [1-9]" "$log" || ! grep -q "ERROR SUMMARY: 0 errors" "$log"; then
        not_ok "valgrind $name: see $log"
    else
        ok "valgrind $name: no errors, definitely lost: 0"
    fi
}

valgrind_example "C example (valgrind)"
run_example "C++ example" -- "$OUT/enduser-cpp"
run_example "Python example" -- python3 Examples/Embedding/python/enduser.py --lib "$LIB"
valgrind_example "C example (valgrind), typed consent, cut, SIGTERM" --answer y --cut --end-by enduser
run_example "C++ example, typed consent, cut, SIGTERM" --answer y --cut --end-by enduser -- "$OUT/enduser-cpp"
run_example "Python example, typed consent, cut, SIGTERM" --answer y --cut --end-by enduser -- \
    python3 Examples/Embedding/python/enduser.py --lib "$LIB"

finish
