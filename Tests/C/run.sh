#!/usr/bin/env bash
# Tests the C library from outside Swift: builds libremotesupport.so, checks that it exports the header's
# rs_* functions and nothing else, compiles the header as C11 and C++ with warnings as errors, builds and
# runs the C tests (codec_test.c, links_test.c, protocol_test.c; also under valgrind), the C++ check and the Python ctypes
# tests (ctypes_test.py, links_ctypes_test.py).
#
#   bash Tests/C/run.sh              # debug build
#   bash Tests/C/run.sh -c release   # release build
#
# Works from a fresh clone: installs valgrind with apt-get if it is missing. Exits non-zero if any step
# fails; the last line is "N passed, M failed" over the steps.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

CONFIG=debug
while [ $# -gt 0 ]; do
    case "$1" in
        -c|--configuration) CONFIG="${2:?-c needs debug or release}"; shift 2 ;;
        -c*) CONFIG="${1#-c}"; shift ;;
        *) echo "usage: $0 [-c debug|release]" >&2; exit 2 ;;
    esac
done

passed=0
failed=0
step() { echo; echo "== $*"; }
ok() { echo "ok: $*"; passed=$((passed + 1)); }
not_ok() { echo "FAILED: $*"; failed=$((failed + 1)); }

step "swift build -c $CONFIG --product remotesupport"
if ! swift build -c "$CONFIG" --product remotesupport; then
    not_ok "swift build"
    echo "$passed passed, $failed failed"
    exit 1
fi
LIBDIR="$(swift build -c "$CONFIG" --show-bin-path)"
LIB="$LIBDIR/libremotesupport.so"
OUT="$ROOT/.build/c-tests/$CONFIG"
mkdir -p "$OUT"
# The .so carries a RUNPATH to the toolchain's runtime; this covers a toolchain that moved since.
SWIFT_RUNTIME="$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux"
export LD_LIBRARY_PATH="$SWIFT_RUNTIME${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "exported symbols: exactly the header's rs_* functions"
# --extern-only: nm -D also lists the local entries some linkers leave in .dynsym (lower-case types).
nm -D --defined-only --extern-only "$LIB" | awk '{print $3}' | sort > "$OUT/exported.txt"
grep -oE '\brs_[a-z0-9_]+\(' Include/remotesupport.h | tr -d '(' | sort -u > "$OUT/declared.txt"
if grep -qv '^rs_' "$OUT/exported.txt"; then
    not_ok "symbols other than rs_* are exported:"; grep -v '^rs_' "$OUT/exported.txt" | head -20
elif ! diff -u "$OUT/declared.txt" "$OUT/exported.txt"; then
    not_ok "declared (-) and exported (+) rs_* functions differ"
else
    ok "$(wc -l < "$OUT/exported.txt") rs_* functions, nothing else"
fi

step "the header compiles as C11 and C++ with -Wall -Wextra -Werror -pedantic"
header_ok=1
printf '#include "remotesupport.h"\nint main(void) { rs_encoder_options o = RS_ENCODER_OPTIONS_INIT; rs_decoder_options d = RS_DECODER_OPTIONS_INIT; rs_update_stats s = RS_UPDATE_STATS_INIT; rs_invitation_spec i = RS_INVITATION_SPEC_INIT; int64_t e = RS_LINK_MAX_EXPIRES; rs_event ev = RS_EVENT_INIT; rs_conn_options co = RS_CONN_OPTIONS_INIT; (void)o; (void)d; (void)s; (void)i; (void)e; (void)ev; (void)co; return 0; }\n' > "$OUT/header_only.c"
cp "$OUT/header_only.c" "$OUT/header_only.cpp"
for compile in "gcc -std=c11 -x c $OUT/header_only.c" "gcc -std=c99 -x c $OUT/header_only.c" \
               "g++ -std=c++11 -x c++ $OUT/header_only.cpp" "g++ -std=c++17 -x c++ $OUT/header_only.cpp"; do
    # shellcheck disable=SC2086
    $compile -Wall -Wextra -Werror -pedantic -Wconversion -IInclude -fsyntax-only || { header_ok=0; echo "failed: $compile"; }
done
if command -v clang >/dev/null 2>&1; then
    # clang also sees the nullability annotations.
    clang -std=c11 -Weverything -Werror -IInclude -fsyntax-only "$OUT/header_only.c" || { header_ok=0; echo "failed: clang"; }
    clang++ -std=c++17 -Weverything -Wno-c++98-compat -Werror -IInclude -fsyntax-only "$OUT/header_only.cpp" \
        || { header_ok=0; echo "failed: clang++"; }
fi
[ "$header_ok" = 1 ] && ok "header" || not_ok "header"

C_TESTS=(codec_test links_test protocol_test)
for t in "${C_TESTS[@]}"; do
    step "C test (Tests/C/$t.c)"
    if gcc -std=c11 -Wall -Wextra -Werror -pedantic -IInclude "Tests/C/$t.c" -L"$LIBDIR" -lremotesupport \
            -Wl,-rpath,"$LIBDIR" -o "$OUT/$t"; then
        if "$OUT/$t"; then ok "$t"; else not_ok "$t"; fi
    else
        not_ok "compiling $t.c"
    fi
done

step "C++ check (Tests/C/cxx_check.cpp)"
if g++ -std=c++17 -Wall -Wextra -Werror -pedantic -IInclude Tests/C/cxx_check.cpp -L"$LIBDIR" -lremotesupport \
        -Wl,-rpath,"$LIBDIR" -o "$OUT/cxx_check"; then
    if "$OUT/cxx_check"; then ok "cxx_check"; else not_ok "cxx_check"; fi
else
    not_ok "compiling cxx_check.cpp"
fi

step "valgrind: ${C_TESTS[*]}"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "installing valgrind"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind >/dev/null 2>&1 || true
fi
if ! command -v valgrind >/dev/null 2>&1; then
    not_ok "valgrind is not installed and apt-get could not install it"
else
    # valgrind 3.19 (Debian 12) cannot read the DWARF 5 debug info of swift-crypto's BoringSSL objects in
    # the .so and gives up ("debuginfo reader: ensure_valid failed"): the tests run against a copy without
    # debug info (LD_LIBRARY_PATH comes before their RUNPATH). Function names stay; line numbers go.
    mkdir -p "$OUT/valgrind-lib"
    objcopy --strip-debug "$LIB" "$OUT/valgrind-lib/libremotesupport.so"
    for t in "${C_TESTS[@]}"; do
        if [ ! -x "$OUT/$t" ]; then
            not_ok "valgrind: no $t to run"
            continue
        fi
        # Memory errors and definite leaks fail; "possibly lost" blocks are the Swift runtime's metadata
        # caches and libdispatch's worker threads, alive at exit by design.
        log="$OUT/valgrind-$t.log"
        LD_LIBRARY_PATH="$OUT/valgrind-lib:$LD_LIBRARY_PATH" \
        valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=99 \
            --log-file="$log" "$OUT/$t" > "$OUT/valgrind-$t.out"
        status=$?
        echo "$t: $(tail -1 "$OUT/valgrind-$t.out")"
        grep -E "definitely lost|ERROR SUMMARY|All heap blocks" "$log" | sed 's/^==[0-9]*== */  /'
        if [ "$status" -ne 0 ]; then
            not_ok "valgrind $t: exit status $status (see $log)"
        elif grep -qE "definitely lost: [1-9]" "$log"; then
            not_ok "valgrind $t: memory definitely lost (see $log)"
        else
            ok "valgrind $t: no errors, definitely lost: 0"
        fi
    done
fi

for t in ctypes_test links_ctypes_test; do
    step "Python ctypes test (Tests/C/$t.py)"
    if python3 "Tests/C/$t.py" "$LIB"; then ok "$t"; else not_ok "$t"; fi
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
