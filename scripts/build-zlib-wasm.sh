#!/usr/bin/env bash
# Builds src/archive/zlib.wasm: Debian's stock zlib 1.2.13 plus c/zlib-deflate.c,
# compiled to WebAssembly. The archive writer deflates with it on worker
# threads: stock zlib's bytes (not those of the zlib compiled into whichever
# Node runs the build), at native-like speed, identical on every machine.
#
#   scripts/build-zlib-wasm.sh [OUTPUT]   (default src/archive/zlib.wasm)
#   scripts/build-zlib-wasm.sh --fetch    (only fetch the pinned source; setup.sh)
#
# Reproducible: the source tarball is pinned by sha256, the compiler by
# version, and no paths or timestamps reach the output. A test rebuilds it and
# compares with the committed file.
set -euo pipefail
script_name=build-zlib-wasm
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/debian-source.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-source.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
output=${1:-$repo/src/archive/zlib.wasm}
zlib_version=1.2.13.dfsg
zlib_orig_sha256=71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1
cc=clang-16

cache=$repo/.cache/zlib-src
tarball=$cache/zlib_$zlib_version.orig.tar.bz2
debian_source "$cache" zlib "zlib_$zlib_version.orig.tar.bz2=$zlib_orig_sha256"
[ "${1:-}" = --fetch ] && exit 0

command -v "$cc" >/dev/null 2>&1 || apt_install clang-16 lld-16
[ -f /usr/lib/wasm32-wasi/libc.a ] || apt_install wasi-libc
[ -f /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a ] || apt_install libclang-rt-16-dev-wasm32

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xjf "$tarball" -C "$work"
cp "$repo/c/zlib-deflate.c" "$work/"
(
  cd "$work"
  "$cc" --target=wasm32-wasi --sysroot=/usr -isystem /usr/include/wasm32-wasi \
    -O2 -DNDEBUG -ffile-prefix-map="$work"=. -I"zlib-$zlib_version" \
    -nostartfiles -Wl,--no-entry -Wl,-L/usr/lib/wasm32-wasi -Wl,--strip-debug \
    -o zlib.wasm zlib-deflate.c \
    "zlib-$zlib_version/deflate.c" "zlib-$zlib_version/trees.c" "zlib-$zlib_version/zutil.c" \
    "zlib-$zlib_version/adler32.c" "zlib-$zlib_version/crc32.c" 2>/dev/null
)
cp "$work/zlib.wasm" "$output"
say "wrote $output ($(stat -c %s "$output") bytes, sha256 $(sha256sum "$output" | cut -c1-16)…)"
