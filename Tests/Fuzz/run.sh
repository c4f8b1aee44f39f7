#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each over its corpus.
#   Tests/Fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default 20 s, all targets)
# A finding is saved under .build-fuzz/findings/TARGET/ and fails the run; turn each one into a test
# (Tests/RemoteSupportCoreTests) and add it to Tests/Fuzz/Corpus/TARGET/ as a regression seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decoder ppm rfb)

out=.build-fuzz
mkdir -p "$out"
core=$(find Sources/RemoteSupportCore -name '*.swift' | sort)
common=(-O -g -I Sources/CZlib -module-name RemoteSupportCore -lz)

# Seeds from the real encoder (rebuilt when the sources change).
if [ ! -x "$out/make-seeds" ] || [ -n "$(find Sources/RemoteSupportCore Tests/Fuzz -newer "$out/make-seeds" -name '*.swift')" ]; then
  swiftc "${common[@]}" $core Tests/Fuzz/FuzzInput.swift Tests/Fuzz/Seeds/main.swift -o "$out/make-seeds"
fi
rm -rf "$out/seeds" && "$out/make-seeds" "$out/seeds" >/dev/null

failed=0
for t in "${targets[@]}"; do
  case $t in
    decoder) src=(Tests/Fuzz/FuzzInput.swift Tests/Fuzz/DecoderFuzz.swift) ;;
    ppm) src=(Tests/Fuzz/PPMFuzz.swift) ;;
    rfb) [ -f Tests/Fuzz/RFBFuzz.swift ] || continue; src=(Tests/Fuzz/RFBFuzz.swift) ;;
    *) echo "unknown fuzz target $t" >&2; exit 2 ;;
  esac
  bin="$out/fuzz-$t"
  if [ ! -x "$bin" ] || [ -n "$(find Sources/RemoteSupportCore Tests/Fuzz -newer "$bin" -name '*.swift')" ]; then
    swiftc -sanitize=fuzzer,address -parse-as-library "${common[@]}" $core "${src[@]}" -o "$bin"
  fi
  corpus="$out/corpus-$t"
  mkdir -p "$corpus" "$out/findings/$t"
  [ -d "Tests/Fuzz/Corpus/$t" ] && cp -n Tests/Fuzz/Corpus/$t/* "$corpus"/ 2>/dev/null || true
  [ -d "$out/seeds/$t" ] && cp -n "$out/seeds/$t"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz $t: ${seconds}s over $(ls "$corpus" | wc -l) inputs"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=0 \
      -artifact_prefix="$out/findings/$t/" "$corpus" >"$out/fuzz-$t.log" 2>&1; then
    echo "fuzz $t: FOUND A PROBLEM (see $out/fuzz-$t.log and $out/findings/$t/)" >&2
    tail -30 "$out/fuzz-$t.log" >&2
    failed=$((failed + 1))
  else
    grep -E "^#[0-9]+.*(DONE|pulse)" "$out/fuzz-$t.log" | tail -1 || true
  fi
done
[ $failed -eq 0 ]
