#!/usr/bin/env bash
# Fetches the real binaries behind the ~50 MB benchmark payload (bench/run.mjs)
# from Debian's mirror and unpacks them, nothing installed, no maintainer scripts:
#
#   scripts/bench-fixtures.sh [DEST]     (DEST defaults to bench/work/debs)
#
# Leaves DEST/<package>/ (the dpkg-deb -x tree of each package), DEST/*.deb and
# DEST/packages.txt ("<package> <version> <sha256 of the .deb>" per line), and
# prints DEST on stdout. Running it again reuses what is there.
#
# The packages (bookworm: 36.8 + 8.8 + 2.0 + 2.9 = 50.5 MB of ELF files):
#   caddy          /usr/bin/caddy    (Go, links libzstd and glibc)
#   runc           /usr/sbin/runc    (Go with cgo, links libseccomp and glibc)
#   busybox-static /bin/busybox      (the image's busybox, through busybox_url = file://)
#   libc6, libzstd1, libseccomp2     the loader and libraries the two need, so that
#                                    the image is complete (the build refuses a
#                                    dynamic executable whose libraries are missing)
# caddy alone is under 50 MB, hence runc.
#
# Versions are pinned (BENCH_PIN=0 takes whatever the mirror has) so that the
# payload is the same bytes from run to run; when a pinned version has left the
# mirror, the current one is used and a warning says so.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/bench/work/debs}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

say() { printf 'bench-fixtures: %s\n' "$*" >&2; }

declare -A pins=(
  [caddy]='2.6.2-5'
  [runc]='1.1.5+ds1-1+deb12u1'
  [busybox-static]='1:1.35.0-4+deb12u1+b1'
  [libc6]='2.36-9+deb12u14'
  [libzstd1]='1.5.4+dfsg2-5+deb12u1'
  [libseccomp2]='2.5.4-1+deb12u1'
)
packages=(caddy runc busybox-static libc6 libzstd1 libseccomp2)

exec 9>"$dest/.lock"
flock 9

if [ -s "$dest/packages.txt" ] && [ "$(wc -l <"$dest/packages.txt")" -eq "${#packages[@]}" ]; then
  say "reusing $dest"
  echo "$dest"
  exit 0
fi

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >&2; else sudo -n apt-get update -qq >&2; fi
    apt_updated=1
  fi
}

# As root apt drops to the _apt user, which may not be able to write into DEST.
opts=(-qq)
[ "$(id -u)" -eq 0 ] && opts+=(-o APT::Sandbox::User=root)

download() { # download SPEC (name or name=version) into $tmp
  (cd "$tmp" && apt-get download "${opts[@]}" "$1" >&2 2>/dev/null) || {
    apt_update_once
    (cd "$tmp" && apt-get download "${opts[@]}" "$1" >&2)
  }
}

tmp="$(mktemp -d "$dest/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/packages.txt"
for p in "${packages[@]}"; do
  spec="$p"
  if [ "${BENCH_PIN:-1}" != 0 ] && [ -n "${pins[$p]:-}" ]; then spec="$p=${pins[$p]}"; fi
  say "downloading $spec"
  if ! download "$spec"; then
    [ "$spec" = "$p" ] && exit 1
    say "warning: $spec is not on the mirror any more; taking the current $p (results are not comparable byte for byte)"
    download "$p"
  fi
  deb="$(ls "$tmp"/"${p}"_*.deb)"
  rm -rf "$tmp/$p"
  dpkg-deb -x "$deb" "$tmp/$p"
  printf '%s %s %s\n' "$p" "$(dpkg-deb -f "$deb" Version)" "$(sha256sum "$deb" | cut -d' ' -f1)" >>"$tmp/packages.txt"
done

for p in "${packages[@]}"; do
  rm -rf "${dest:?}/$p"
  mv "$tmp/$p" "$dest/$p"
done
rm -f "$dest"/*.deb
mv "$tmp"/*.deb "$dest/"
# Written last: its presence means the rest is complete.
mv "$tmp/packages.txt" "$dest/packages.txt"
say "$(tr '\n' ';' <"$dest/packages.txt")"
echo "$dest"
