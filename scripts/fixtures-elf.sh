#!/usr/bin/env bash
# Fetches the real-world ELF fixtures for __tests__/elf into .cache/fixtures/elf/
# (git-ignored). Idempotent: fixtures already there are kept. Needs apt-get and
# dpkg-deb; adding the arm64 architecture needs root (CI runs as root).
#   caddy:   Debian's caddy, dynamically linked against libc and libzstd
#   aarch64: Debian's busybox-static:arm64, or a tiny hand-built aarch64 ELF
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/.cache/fixtures/elf"
mkdir -p "$out"

# Two test files may run this at once.
exec 9>"$out/.lock"
flock 9

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq >&2
    apt_updated=1
  fi
}

# fetch_deb PACKAGE DEST: unpack the package's files into DEST.
fetch_deb() {
  local package="$1" dest="$2" tmp
  tmp="$(mktemp -d)"
  # apt-get download runs as the _apt user, which must be able to write here.
  chmod 0777 "$tmp"
  if ! (cd "$tmp" && apt-get download -q "$package" >/dev/null 2>&1); then
    apt_update_once
    if ! (cd "$tmp" && apt-get download -q "$package" >&2); then
      rm -rf "$tmp"
      return 1
    fi
  fi
  rm -rf "$dest.partial"
  dpkg-deb -x "$tmp"/*.deb "$dest.partial"
  rm -rf "$tmp" "$dest"
  mv "$dest.partial" "$dest"
}

# A 132-byte static aarch64 executable: exit(0) via mov x0,#0; mov x8,#93; svc #0.
write_tiny_aarch64_elf() {
  local path="$1"
  mkdir -p "$(dirname "$path")"
  {
    # ELF header: ELF64, little endian, ET_EXEC, EM_AARCH64, entry 0x400078, phoff 64
    printf '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00'
    printf '\x02\x00\xb7\x00\x01\x00\x00\x00'
    printf '\x78\x00\x40\x00\x00\x00\x00\x00'
    printf '\x40\x00\x00\x00\x00\x00\x00\x00'
    printf '\x00\x00\x00\x00\x00\x00\x00\x00'
    printf '\x00\x00\x00\x00\x40\x00\x38\x00\x01\x00\x00\x00\x00\x00\x00\x00'
    # PT_LOAD R+X: offset 0, vaddr 0x400000, 132 bytes
    printf '\x01\x00\x00\x00\x05\x00\x00\x00'
    printf '\x00\x00\x00\x00\x00\x00\x00\x00'
    printf '\x00\x00\x40\x00\x00\x00\x00\x00'
    printf '\x00\x00\x40\x00\x00\x00\x00\x00'
    printf '\x84\x00\x00\x00\x00\x00\x00\x00'
    printf '\x84\x00\x00\x00\x00\x00\x00\x00'
    printf '\x00\x10\x00\x00\x00\x00\x00\x00'
    printf '\x00\x00\x80\xd2\xa8\x0b\x80\xd2\x01\x00\x00\xd4'
  } >"$path.partial"
  chmod 0755 "$path.partial"
  mv "$path.partial" "$path"
}

caddy="$out/caddy/usr/bin/caddy"
if [ ! -f "$caddy" ]; then
  fetch_deb caddy "$out/caddy"
fi

aarch64="$out/busybox-arm64/bin/busybox"
if [ ! -f "$aarch64" ] && [ ! -f "$out/tiny-aarch64/exit0" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    if dpkg --add-architecture arm64 2>/dev/null; then apt_updated=0; fi
  fi
  if ! fetch_deb busybox-static:arm64 "$out/busybox-arm64"; then
    echo "busybox-static:arm64 unavailable; writing a hand-built aarch64 ELF instead" >&2
  fi
fi
if [ ! -f "$aarch64" ]; then
  aarch64="$out/tiny-aarch64/exit0"
  [ -f "$aarch64" ] || write_tiny_aarch64_elf "$aarch64"
fi

echo "caddy=$caddy"
echo "aarch64=$aarch64"
