#!/usr/bin/env bash
# Fetch a small distribution kernel for the boot smoke test.
#
#   scripts/fetch-kernel.sh [DEST]     (DEST defaults to .kernel/ in the repository)
#
# Leaves DEST/vmlinuz and DEST/modules/ (the virtio NIC modules the kernel does not
# have built in, uncompressed, with DEST/modules/load-order listing them in insmod
# order), installs qemu-system-x86 and busybox-static when missing, and prints
#   vmlinuz=<path>  modules=<path>  qemu=<path>  busybox=<path>
# on stdout (progress goes to stderr). Running it again reuses what is there.
#
# The kernel comes from the distribution's own apt mirror with `apt-get download`
# and is unpacked with `dpkg-deb -x`: nothing is installed, no maintainer scripts run.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$repo_root/.kernel}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

# Test runners call this from several processes at once: one fetches, the others wait and reuse.
exec 9>"$dest/.lock"
flock 9

# insmod order matters: each module needs the ones before it.
virtio_net_modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net)

script_name=fetch-kernel
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

command -v qemu-system-x86_64 >/dev/null 2>&1 || apt_install qemu-system-x86
[ -x /bin/busybox ] || apt_install busybox-static
command -v cpio >/dev/null 2>&1 || apt_install cpio
# A static busybox is what the test images need: a dynamic one has no libc in the guest.
if command -v file >/dev/null 2>&1 && ! file -L /bin/busybox | grep -q 'statically linked'; then
  apt_install busybox-static
fi

print_paths() {
  printf 'vmlinuz=%s\n' "$dest/vmlinuz"
  printf 'modules=%s\n' "$dest/modules"
  printf 'qemu=%s\n' "$(command -v qemu-system-x86_64)"
  printf 'busybox=%s\n' /bin/busybox
}

if [ -s "$dest/vmlinuz" ] && [ -f "$dest/modules/load-order" ] && [ -f "$dest/package" ]; then
  say "reusing $(cat "$dest/package") in $dest"
  print_paths
  exit 0
fi

# The versioned image package behind a flavour metapackage, e.g.
# linux-image-cloud-amd64 -> linux-image-6.1.0-57-cloud-amd64.
resolve_image_package() {
  apt-cache depends --important "$1" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# Debian's cloud flavour boots fastest (few drivers); Ubuntu has no cloud flavour,
# its smallest generic kernel is behind linux-image-virtual.
metapackages=(linux-image-cloud-amd64 linux-image-virtual)
image_package=
for meta in "${metapackages[@]}"; do
  image_package=$(resolve_image_package "$meta")
  [ -n "$image_package" ] && break
done
if [ -z "$image_package" ]; then
  apt_update_once
  for meta in "${metapackages[@]}"; do
    image_package=$(resolve_image_package "$meta")
    [ -n "$image_package" ] && break
  done
fi
[ -n "$image_package" ] || die "no kernel package found (tried ${metapackages[*]}); pass a kernel to the smoke test instead"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# As root apt would drop to the _apt user, which cannot write to our private temp dir.
apt_download_opts=()
[ "$(id -u)" -eq 0 ] && apt_download_opts=(-o APT::Sandbox::User=root)
download() {
  (cd "$work" && apt-get download -qq "${apt_download_opts[@]}" "$1" >&2) || {
    apt_update_once
    (cd "$work" && apt-get download -qq "${apt_download_opts[@]}" "$1" >&2)
  }
}

say "downloading $image_package"
download "$image_package"
# Ubuntu ships vmlinuz and the modules in separate packages.
modules_package=${image_package/linux-image-/linux-modules-}
if apt-cache show "$modules_package" >/dev/null 2>&1; then
  say "downloading $modules_package"
  download "$modules_package"
fi

mkdir "$work/root"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done

vmlinuz=$(find "$work/root/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n 1)
[ -n "$vmlinuz" ] || die "$image_package contains no /boot/vmlinuz-*"
release=${vmlinuz##*/vmlinuz-}
moddir=$(find "$work/root" -type d -path "*/modules/$release" | head -n 1)
[ -n "$moddir" ] || die "$image_package contains no lib/modules/$release"

rm -rf "$dest/modules.new"
mkdir -p "$dest/modules.new"
: >"$dest/modules.new/load-order"
for name in "${virtio_net_modules[@]}"; do
  if grep -qE "/$name\.ko$" "$moddir/modules.builtin" 2>/dev/null; then
    continue # built into this kernel: nothing to load
  fi
  found=$(find "$moddir" -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" -o -name "$name.ko.gz" | head -n 1)
  [ -n "$found" ] || die "module $name is neither built into $release nor shipped with it"
  out="$dest/modules.new/$name.ko"
  # busybox insmod hands the bytes to init_module(), which wants an uncompressed ELF.
  case "$found" in
    *.ko.xz) xz -dc "$found" >"$out" ;;
    *.ko.zst)
      command -v zstd >/dev/null 2>&1 || apt_install zstd
      zstd -qdc "$found" >"$out"
      ;;
    *.ko.gz) gzip -dc "$found" >"$out" ;;
    *) cp "$found" "$out" ;;
  esac
  echo "$name" >>"$dest/modules.new/load-order"
done

cp "$vmlinuz" "$dest/vmlinuz.new"
chmod 0644 "$dest/vmlinuz.new"
rm -rf "$dest/modules"
mv "$dest/modules.new" "$dest/modules"
mv "$dest/vmlinuz.new" "$dest/vmlinuz"
# Written last: its presence means the rest is complete.
image_deb=$(ls "$work/$image_package"_*.deb)
echo "$(dpkg-deb -f "$image_deb" Package) $(dpkg-deb -f "$image_deb" Version)" >"$dest/package"

say "kernel $release in $dest"
print_paths
