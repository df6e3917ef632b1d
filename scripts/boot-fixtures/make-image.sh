#!/bin/sh
# Test images for the boot smoke test, made with GNU cpio (test fixtures only;
# fledge's own archive writer makes the real ones).
#
#   make-image.sh [--init FILE] [--modules DIR] [--touch PATH]... OUT.cpio.gz
#
# The image holds a static busybox at /bin/busybox (/bin/sh links to it), FILE as
# /init (no /init without --init), the *.ko and load-order of DIR under
# /lib/modules, and an empty file at each --touch PATH (flags for the init script).
set -eu

init=
modules=
touches=
while [ $# -gt 1 ]; do
  case $1 in
    --init) init=$2; shift 2 ;;
    --modules) modules=$2; shift 2 ;;
    --touch) touches="$touches $2"; shift 2 ;;
    *) echo "make-image.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -eq 1 ] || { echo "usage: make-image.sh [--init FILE] [--modules DIR] [--touch PATH]... OUT.cpio.gz" >&2; exit 2; }
out=$1

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/etc" "$root/proc" "$root/sys" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
if [ -n "$init" ]; then
  cp "$init" "$root/init"
  chmod 0755 "$root/init"
fi
if [ -n "$modules" ]; then
  mkdir -p "$root/lib/modules"
  cp "$modules/load-order" "$root/lib/modules/"
  for ko in "$modules"/*.ko; do
    [ -e "$ko" ] && cp "$ko" "$root/lib/modules/"
  done
fi
for path in $touches; do
  mkdir -p "$root/$(dirname "$path")"
  : >"$root/$path"
done
# Sorted so every directory comes before what it holds (the kernel needs that).
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$out"
