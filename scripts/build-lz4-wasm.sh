#!/usr/bin/env bash
# Builds src/archive/lz4.wasm: Debian bookworm's lz4 1.9.4 (orig tarball plus
# Debian's patches) and c/lz4-glue.c, compiled to WebAssembly. The archive
# writer compresses legacy-format blocks with it on worker threads, and the
# archive reader decompresses with it: the same bytes on every Node and CPU.
#
#   scripts/build-lz4-wasm.sh [OUTPUT]    (default src/archive/lz4.wasm)
#   scripts/build-lz4-wasm.sh --fetch     (only fetch the pinned source; setup.sh)
#
# Reproducible: the source is pinned by sha256, the compiler by version, and no
# paths or timestamps reach the output. A test rebuilds it and compares.
set -euo pipefail
script_name=build-lz4-wasm
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/debian-source.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-source.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=1.9.4
orig=lz4_$version.orig.tar.gz
orig_sha256=0b0e3aa07c8c063ddf40b082bdf7e37a1562bda40a0ff5272957f3e987e0e54b
debian=lz4_$version-1.debian.tar.xz
debian_sha256=47ceec5b95f42598f7b9280b03df9659f2ee6852720ec181488e83bd643f0e5f
cache=$repo/.cache/lz4-src
cc=clang-16

debian_source "$cache" lz4 "$orig=$orig_sha256" "$debian=$debian_sha256"
[ "${1:-}" = --fetch ] && exit 0
output=${1:-$repo/src/archive/lz4.wasm}

command -v "$cc" >/dev/null 2>&1 || apt_install clang-16 lld-16
[ -f /usr/lib/wasm32-wasi/libc.a ] || apt_install wasi-libc
[ -f /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a ] || apt_install libclang-rt-16-dev-wasm32

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
debian_unpack_patched "$work" "$cache/$orig" "$cache/$debian" lz4-$version
cp "$repo/c/lz4-glue.c" "$work/"
# WebAssembly is a 32-bit target, and lz4's fast mode (levels 1-2; HC is not
# affected) picks its hash and table type by pointer width: 4-byte hashes and a
# table of pointers on 32-bit hosts, 5-byte hashes and 32-bit offsets on 64-bit
# ones, and the bytes differ. Build with the 64-bit choices (as lz4 itself does
# for x32, 64-bit registers with 32-bit pointers), so that the output is that
# of the `lz4 -l` on the x86-64 and arm64 machines that users compare with.
lz4c=$work/lz4-$version/lib/lz4.c
grep -q '^#if defined(__x86_64__)$' "$lz4c" && [ "$(grep -c '(sizeof(void\*)==4) && ((uptrval)' "$lz4c")" = 5 ] ||
  die "lz4.c is not the expected 1.9.4 source (the 64-bit choices cannot be applied)"
sed -i -e 's/^#if defined(__x86_64__)$/#if defined(__x86_64__) || defined(__wasm__)/' \
  -e 's/(sizeof(void\*)==4) && ((uptrval)/(sizeof(void*)==4 \&\& !FA_WASM) \&\& ((uptrval)/' "$lz4c"
(
  cd "$work"
  lib=lz4-$version/lib
  "$cc" --target=wasm32-wasi --sysroot=/usr -isystem /usr/include/wasm32-wasi \
    -O2 -DNDEBUG -DFA_WASM=1 -ffile-prefix-map="$work"=. -I"$lib" \
    -nostartfiles -Wl,--no-entry -Wl,-L/usr/lib/wasm32-wasi -Wl,--strip-debug \
    -o lz4.wasm lz4-glue.c "$lib/lz4.c" "$lib/lz4hc.c" 2>/dev/null
)
cp "$work/lz4.wasm" "$output"
say "wrote $output ($(stat -c %s "$output") bytes, sha256 $(sha256sum "$output" | cut -c1-16)…)"
