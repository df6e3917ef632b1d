#!/usr/bin/env bash
# Builds src/archive/zlib.wasm: Debian's stock zlib 1.2.13 plus c/zlib-deflate.c,
# compiled to WebAssembly. The archive writer deflates with it on worker
# threads: stock zlib's bytes (not those of the zlib compiled into whichever
# Node runs the build), at native-like speed, identical on every machine.
#
#   scripts/build-zlib-wasm.sh [OUTPUT]   (default src/archive/zlib.wasm)
#
# Reproducible: the source tarball is pinned by sha256, the compiler by
# version, and no paths or timestamps reach the output. A test rebuilds it and
# compares with the committed file.
set -euo pipefail
script_name=build-zlib-wasm
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
output=${1:-$repo/src/archive/zlib.wasm}
zlib_version=1.2.13.dfsg
zlib_orig_sha256=71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1
cc=clang-16

command -v "$cc" >/dev/null 2>&1 || apt_install clang-16 lld-16
[ -f /usr/lib/wasm32-wasi/libc.a ] || apt_install wasi-libc
[ -f /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a ] || apt_install libclang-rt-16-dev-wasm32

cache=$repo/.cache/zlib-src
mkdir -p "$cache"
tarball=$cache/zlib_$zlib_version.orig.tar.bz2
if ! echo "$zlib_orig_sha256  $tarball" | sha256sum -c --status 2>/dev/null; then
  # Debian's source package, through a private apt configuration with a deb-src entry.
  say "downloading zlib $zlib_version source from Debian"
  apt_dir=$(mktemp -d)
  mkdir -p "$apt_dir/lists/partial"
  cat >"$apt_dir/zlib.sources" <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_opts=(-o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Etc::sourcelist=$apt_dir/zlib.sources" -o "Dir::State::Lists=$apt_dir/lists")
  as_root apt-get "${apt_opts[@]}" update -qq >&2
  (cd "$apt_dir" && as_root apt-get "${apt_opts[@]}" source --download-only -qq zlib >&2)
  cp "$apt_dir/zlib_$zlib_version.orig.tar.bz2" "$tarball"
  rm -rf "$apt_dir"
  echo "$zlib_orig_sha256  $tarball" | sha256sum -c --status || die "zlib source does not match its pinned sha256"
fi

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
