#!/usr/bin/env bash
# Builds src/archive/zstd.wasm: Debian bookworm's libzstd 1.5.4 (orig tarball
# plus Debian's patches, which include an upstream fix to the block splitter
# that changes compressed bytes) and c/zstd-glue.c, compiled to WebAssembly.
# The archive writer compresses with it on a worker thread, and the archive
# reader decompresses with it: the same bytes on every Node and every CPU.
#
#   scripts/build-zstd-wasm.sh [OUTPUT]   (default src/archive/zstd.wasm)
#   scripts/build-zstd-wasm.sh --fetch    (only fetch the pinned source; setup.sh)
#
# Reproducible: the source is pinned by sha256, the compiler by version, and no
# paths or timestamps reach the output. A test rebuilds it and compares.
set -euo pipefail
script_name=build-zstd-wasm
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/debian-source.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-source.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=1.5.4+dfsg2
orig=libzstd_$version.orig.tar.xz
orig_sha256=8cf4bbb65e77ec348d052c8d6230eba66d435bddf64c8b5be2fcb16880c19953
debian=libzstd_$version-5.debian.tar.xz
debian_sha256=82ce911445772861d0838bd4545f93bc50658bc7f3cefdb17a307dfb8ffca5d8
cache=$repo/.cache/zstd-src
cc=clang-16

debian_source "$cache" libzstd "$orig=$orig_sha256" "$debian=$debian_sha256"
[ "${1:-}" = --fetch ] && exit 0
output=${1:-$repo/src/archive/zstd.wasm}

command -v "$cc" >/dev/null 2>&1 || apt_install clang-16 lld-16
[ -f /usr/lib/wasm32-wasi/libc.a ] || apt_install wasi-libc
[ -f /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a ] || apt_install libclang-rt-16-dev-wasm32

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
debian_unpack_patched "$work" "$cache/$orig" "$cache/$debian" zstd-1.5.4
cp "$repo/c/zstd-glue.c" "$work/"
(
  cd "$work"
  lib=zstd-1.5.4/lib
  "$cc" --target=wasm32-wasi --sysroot=/usr -isystem /usr/include/wasm32-wasi \
    -O2 -DNDEBUG -DZSTD_DISABLE_ASM -DZSTD_TRACE=0 -DZSTD_LEGACY_SUPPORT=0 \
    -ffile-prefix-map="$work"=. -I"$lib" -I"$lib/common" \
    -nostartfiles -Wl,--no-entry -Wl,-L/usr/lib/wasm32-wasi -Wl,--strip-debug \
    -o zstd.wasm zstd-glue.c \
    "$lib"/common/entropy_common.c "$lib"/common/error_private.c "$lib"/common/fse_decompress.c \
    "$lib"/common/xxhash.c "$lib"/common/zstd_common.c "$lib"/common/debug.c \
    "$lib"/compress/*.c "$lib"/decompress/huf_decompress.c "$lib"/decompress/zstd_ddict.c \
    "$lib"/decompress/zstd_decompress.c "$lib"/decompress/zstd_decompress_block.c 2>/dev/null
)
cp "$work/zstd.wasm" "$output"
say "wrote $output ($(stat -c %s "$output") bytes, sha256 $(sha256sum "$output" | cut -c1-16)…)"
