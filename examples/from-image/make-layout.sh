#!/bin/sh
# Makes ./layout, an OCI image layout tagged 1.0, from this machine's busybox
# (Debian's busybox-static) and a static hello program, with no registry, no
# docker and no root: two gzip'd tar layers, a config and a manifest.
# Layer 1: busybox and a placeholder; layer 2: the payload, and a whiteout that
# deletes layer 1's placeholder (as `RUN rm` in a Dockerfile would).
# The same inputs give the same bytes (sorted tar, fixed owners and times, gzip -n).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/layout}
busybox=${BUSYBOX:-/bin/busybox}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/l1/bin" "$work/l1/etc" "$work/l2/usr/local/bin" "$work/l2/etc"
cp "$busybox" "$work/l1/bin/busybox"
ln -s busybox "$work/l1/bin/sh"
echo "removed by layer 2" > "$work/l1/etc/placeholder"
gcc -static -Os -o "$work/l2/usr/local/bin/hello" "$here/hello.c"
echo "built from a container image" > "$work/l2/etc/motd"
: > "$work/l2/etc/.wh.placeholder"
find "$work/l1" "$work/l2" -type d -exec chmod 0755 {} +
chmod 0755 "$work/l1/bin/busybox" "$work/l2/usr/local/bin/hello"
chmod 0644 "$work/l1/etc/placeholder" "$work/l2/etc/motd" "$work/l2/etc/.wh.placeholder"

rm -rf "$out"
mkdir -p "$out/blobs/sha256"
blob() { # file → digest hex, stored under blobs/sha256
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  cp "$1" "$out/blobs/sha256/$hex"
  echo "$hex"
}
layers='' diffs=''
for layer in l1 l2; do
  tar --format=pax --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1704067200 \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$work/$layer" -cf "$work/$layer.tar" .
  gzip -n -9 < "$work/$layer.tar" > "$work/$layer.tar.gz"
  diff=$(sha256sum "$work/$layer.tar" | cut -d' ' -f1)
  hex=$(blob "$work/$layer.tar.gz")
  size=$(wc -c < "$work/$layer.tar.gz")
  layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$size}"
  diffs="$diffs${diffs:+,}\"sha256:$diff\""
done
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/bin"],"Entrypoint":["/usr/local/bin/hello"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diffs" > "$work/config.json"
config=$(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$config" "$(wc -c < "$work/config.json")" "$layers" > "$work/manifest.json"
manifest=$(blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1.0"}}]}' \
  "$manifest" "$(wc -c < "$work/manifest.json")" > "$out/index.json"
echo "$out: sha256:$manifest"
