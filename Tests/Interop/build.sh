#!/usr/bin/env bash
# Build vnc-capture (libvncclient-based reference RFB client) into OUT_DIR.
#   Tests/Interop/build.sh [OUT_DIR]      (default: .build-c/ at the repository root)
# Installs libvncserver-dev, zlib1g-dev and pkg-config (and gcc) with apt-get if missing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${1:-$ROOT/.build-c}"

need=()
for p in libvncserver-dev zlib1g-dev pkg-config; do
    st="$(dpkg -s "$p" 2>/dev/null || true)"
    grep -q "^Status: install ok installed" <<<"$st" || need+=("$p")
done
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
if [ "${#need[@]}" -gt 0 ]; then
    echo "build.sh: installing ${need[*]}" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi

mkdir -p "$OUT"
# shellcheck disable=SC2046
gcc -O2 -Wall -Wextra -o "$OUT/vnc-capture" "$HERE/vnc-capture.c" \
    $(pkg-config --cflags --libs libvncclient)
echo "$OUT/vnc-capture"
