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
[ ${#targets[@]} -gt 0 ] || targets=(decoder ppm rfb link frame enduser agent broker api websocket)

out=.build-fuzz
mkdir -p "$out"
core=$(find Sources/RemoteSupportCore -name '*.swift' | sort)

# The core imports swift-crypto (HMAC for links, password hashing): SwiftPM builds it, and the fuzz
# binaries link its objects as they are, not instrumented (we fuzz our code, not BoringSSL).
swift build --target RemoteSupportCore >"$out/swift-build.log" 2>&1 || { tail -30 "$out/swift-build.log" >&2; exit 1; }
spm=$(swift build --show-bin-path)
crypto=()
for t in Crypto CryptoExtras _CryptoExtras CryptoBoringWrapper SwiftASN1 CCryptoBoringSSL CCryptoBoringSSLShims CXKCP CXKCPShims; do
  [ -d "$spm/$t.build" ] || continue
  while IFS= read -r -d '' o; do crypto+=("$o"); done < <(find "$spm/$t.build" -name '*.o' -print0)
done
# The broker's relay fast path (target `broker`) and WebSocket carriage (`websocket`) run on SwiftNIO: its
# objects are linked the same way.
for t in NIOWebSocket NIOEmbedded; do
  swift build --target "$t" >>"$out/swift-build.log" 2>&1 || { tail -30 "$out/swift-build.log" >&2; exit 1; }
done
nio=()
for t in NIOWebSocket NIOEmbedded NIOHTTP1 NIO NIOPosix NIOCore NIOConcurrencyHelpers _NIODataStructures _NIOBase64 CNIOLinux CNIOPosix \
         CNIOLLHTTP CNIOSHA1 CNIOAtomics Atomics _AtomicsShims DequeModule InternalCollectionsUtilities ContainersPreview; do
  [ -d "$spm/$t.build" ] || continue
  while IFS= read -r -d '' o; do nio+=("$o"); done < <(find "$spm/$t.build" -name '*.o' -print0)
done
# NIO's Swift modules name C modules of their own: their module maps, from the build or the checkout.
for m in CNIOLinux CNIOPosix CNIOLLHTTP CNIOSHA1 CNIOAtomics CNIODarwin CNIOWindows CNIOOpenBSD CNIOFreeBSD CNIOWASI _AtomicsShims; do
  map="$spm/$m.build/module.modulemap"
  [ -f "$map" ] || map=$(find .build/checkouts -path "*/Sources/$m/include/module.modulemap" | head -1)
  [ -n "$map" ] && [ -f "$map" ] && nio+=(-Xcc "-fmodule-map-file=$PWD/${map#$PWD/}")
done
# The broker's relay fast path, which the `broker` target drives as the broker's host does.
fastPath="Sources/RemoteSupportBroker/Peers/RecordFrameCutter.swift Sources/RemoteSupportBroker/Peers/SplitRecordFrame.swift"
common=(-O -g -I Sources/CZlib -I "$spm/Modules" -module-name RemoteSupportCore -lz -lstdc++ "${crypto[@]}")
# ld.gold lists the sanitizer's local symbols it cannot export; they are harmless.
quiet() { "$@" 2> >(grep -v "Cannot export local symbol" >&2); }

# Seeds from the real encoder (rebuilt when the sources change).
if [ ! -x "$out/make-seeds" ] || [ -n "$(find Sources/RemoteSupportCore Sources/RemoteSupportBroker/Peers Tests/Fuzz -newer "$out/make-seeds" -name '*.swift')" ]; then
  quiet swiftc -j 2 "${common[@]}" $core $fastPath "${nio[@]}" Tests/Fuzz/FuzzInput.swift Tests/Fuzz/LinkFuzz.swift Tests/Fuzz/ProtocolFuzz.swift \
    Tests/Fuzz/Seeds/main.swift Tests/Fuzz/Seeds/ProtocolSeeds.swift \
    -o "$out/make-seeds"
fi
rm -rf "$out/seeds" && "$out/make-seeds" "$out/seeds" >/dev/null

# A trap is reported by libFuzzer ("deadly signal", with the stack), not by Swift's backtracer, which
# confuses ASan into a report of its own and can hang.
export SWIFT_BACKTRACE=enable=no

# Every target in one binary (RS_FUZZ_TARGET picks one): the core is compiled with the sanitizers once.
bin="$out/fuzz-all"
if [ ! -x "$bin" ] || [ -n "$(find Sources/RemoteSupportCore Sources/RemoteSupportBroker Tests/Fuzz -newer "$bin" -name '*.swift')" ]; then
  echo "fuzz: building $bin"
  quiet swiftc -j 2 -sanitize=fuzzer,address -parse-as-library "${common[@]}" $core \
    Tests/Fuzz/FuzzInput.swift Tests/Fuzz/ProtocolFuzz.swift Tests/Fuzz/FuzzTargets.swift \
    Tests/Fuzz/DecoderFuzz.swift Tests/Fuzz/PPMFuzz.swift Tests/Fuzz/RFBFuzz.swift Tests/Fuzz/LinkFuzz.swift \
    Tests/Fuzz/FrameFuzz.swift Tests/Fuzz/EndUserFuzz.swift Tests/Fuzz/AgentFuzz.swift Tests/Fuzz/BrokerFuzz.swift \
    Tests/Fuzz/APIFuzz.swift Sources/RemoteSupportBroker/HTTP/QueryFilters.swift Sources/RemoteSupportBroker/HTTP/APIRequests.swift \
    Sources/RemoteSupportBroker/Ops/Webhooks/WebhookRules.swift Sources/RemoteSupportBroker/Server/ConfigFile.swift \
    Tests/Fuzz/WebSocketFuzz.swift Sources/RemoteSupportBroker/Peers/WebSocketFraming.swift $fastPath "${nio[@]}" \
    -o "$bin"
fi

failed=0
for t in "${targets[@]}"; do
  case $t in
    decoder|ppm|rfb|link|frame|enduser|agent|broker|api|websocket) ;;
    *) echo "unknown fuzz target $t" >&2; exit 2 ;;
  esac
  export RS_FUZZ_TARGET=$t
  corpus="$out/corpus-$t"
  mkdir -p "$corpus" "$out/findings/$t"
  # Inputs named slow-* (a finding that takes seconds, like a gigabyte screen) are run once, not
  # mutated: as seeds they would take most of the run.
  slow=()
  if [ -d "Tests/Fuzz/Corpus/$t" ]; then
    find "Tests/Fuzz/Corpus/$t" -maxdepth 1 -type f ! -name 'slow-*' -exec cp -n {} "$corpus"/ \;
    while IFS= read -r -d '' f; do slow+=("$f"); done < <(find "Tests/Fuzz/Corpus/$t" -maxdepth 1 -type f -name 'slow-*' -print0)
  fi
  [ -d "$out/seeds/$t" ] && cp -n "$out/seeds/$t"/* "$corpus"/ 2>/dev/null || true
  if [ ${#slow[@]} -gt 0 ] && ! "$bin" -rss_limit_mb=2048 "${slow[@]}" >"$out/fuzz-$t-slow.log" 2>&1; then
    echo "fuzz $t: FOUND A PROBLEM in ${slow[*]} (see $out/fuzz-$t-slow.log)" >&2
    tail -30 "$out/fuzz-$t-slow.log" >&2
    failed=$((failed + 1))
    continue
  fi
  echo "fuzz $t: ${seconds}s over $(ls "$corpus" | wc -l) inputs${slow:+ (and ${#slow[@]} slow, run once)}"
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
