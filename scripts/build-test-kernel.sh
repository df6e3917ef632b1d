#!/usr/bin/env bash
# Build (once) the small Volant-like test kernel: Linux 6.1 from Debian's linux-source-6.1,
# tinyconfig + scripts/test-kernel/config-fragment (IP_PNP, built-in virtio-net, serial console,
# RD_GZIP/LZ4/ZSTD): the options Volant's ch_defconfig sets that a plugin guest needs.
#
#   scripts/build-test-kernel.sh            prints  bzImage=<path>
#   scripts/build-test-kernel.sh --cached   the same, but fails instead of building (for tests)
#
# The build takes ~15 minutes on 2 cores, so the result is cached outside the checkout, keyed
# by the kernel source package's version and the fragment's sha256:
#   ${FLEDGE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fledge-action-test}/kernel/<key>/bzImage
# Needs the packages scripts/setup.sh installs; installs nothing itself.
set -euo pipefail

# All in one function: bash parses it whole before running, so editing this file while a
# build runs cannot derail the build.
main() {
cached_only=no
[ "${1:-}" = --cached ] && cached_only=yes

script_name=build-test-kernel
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/test-kernel/config-fragment
source_tar=/usr/src/linux-source-6.1.tar.xz
[ -f "$source_tar" ] || die "$source_tar is missing: run scripts/setup.sh (it installs linux-source-6.1)"
for tool in make gcc flex bison bc; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/setup.sh"
done

source_version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %s "$source_tar")
key="6.1-${source_version}-$(sha256sum "$fragment" | cut -c1-16)"
cache_root=${FLEDGE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fledge-action-test}
dest=$cache_root/kernel/$key
mkdir -p "$dest"

complete() {
  [ -s "$dest/bzImage" ] && [ -f "$dest/bzImage.sha256" ] &&
    (cd "$dest" && sha256sum --quiet -c bzImage.sha256 >/dev/null 2>&1)
}
# bzImage.sha256 is written last, so a complete entry needs no lock to be read.
if complete; then
  printf 'bzImage=%s\n' "$dest/bzImage"
  return 0
fi
[ "$cached_only" = no ] || die "the test kernel is not built yet ($dest): run scripts/setup.sh"
# Several processes may ask at once: one builds, the others wait for it.
exec 9>"$dest/.lock"
flock 9
if complete; then
  printf 'bzImage=%s\n' "$dest/bzImage"
  return 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fledge-test-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "building the test kernel ($key); this takes about 15 minutes on 2 cores"
tar -xf "$source_tar" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
build=$work/build
# ARCH=x86_64 matters: plain tinyconfig on an x86_64 host yields a 32-bit kernel.
make -s -C "$src" O="$build" ARCH=x86_64 tinyconfig >&2
grep -v '^#' "$fragment" >>"$build/.config"
make -s -C "$src" O="$build" ARCH=x86_64 olddefconfig >&2
while IFS= read -r line; do
  case "$line" in '#'* | '') continue ;; esac
  grep -qx "$line" "$build/.config" || die "olddefconfig dropped '$line'"
done <"$fragment"
make -s -C "$src" O="$build" ARCH=x86_64 KBUILD_BUILD_TIMESTAMP=@0 KBUILD_BUILD_USER=fledge \
  KBUILD_BUILD_HOST=test -j"$(nproc)" bzImage >&2

cp "$build/arch/x86/boot/bzImage" "$dest/bzImage.new"
cp "$build/.config" "$dest/kernel.config"
mv "$dest/bzImage.new" "$dest/bzImage"
# Written last: its presence means the entry is complete.
(cd "$dest" && sha256sum bzImage >bzImage.sha256)
say "test kernel in $dest"
printf 'bzImage=%s\n' "$dest/bzImage"
}

main "$@"
