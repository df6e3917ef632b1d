#!/usr/bin/env bash
# Builds examples/offline (no network needed) and boots it in QEMU, printing
# the build's checksum and the guest's own console lines.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${TMPDIR:-/tmp}/fledge-demo
mkdir -p "$out"
kernel=$(bash "$repo/scripts/fetch-kernel.sh" 2>/dev/null | sed -n 's/^vmlinuz=//p')
cd "$repo/examples/offline"
node "$repo/dist/cli/index.js" build -o "$out/plugin.cpio.gz"
echo
echo "Booting $out/plugin.cpio.gz with $kernel (QEMU, software emulation may take a few seconds)…"
node "$repo/dist/cli/index.js" boot "$out/plugin.cpio.gz" --kernel "$kernel" \
  --expect 'fledge-example: 1 file' --console | grep -v '^\[ *[0-9]'
