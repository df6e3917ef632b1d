#!/usr/bin/env bash
# Everything the tests and the demo need, in one command:
#
#   bash scripts/setup.sh
#
# 1. Debian/Ubuntu packages (with sudo when not root; as root without sudo);
# 2. npm ci;
# 3. the cached fixtures: Debian's cloud kernel (fast boots), ELF fixtures, Node 20/24 runtimes,
#    Debian's zlib, libzstd and lz4 sources (rebuilding the committed .wasm);
# 4. the real Volant parts: kestrel built from volant's pinned source, and the Volant-like test
#    kernel (about 15 minutes once on 2 cores, then cached outside the checkout).
#
# Running it again reuses everything that is already there. The tests themselves install and
# download nothing: a missing part fails them with a hint to run this script.
set -euo pipefail

main() {
  repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  script_name=setup
  # shellcheck source=lib/common.sh
  source "$repo_root/scripts/lib/common.sh"
  cd "$repo_root"

  # gcc + libc6-dev: the C init; busybox-static: test images; qemu: boot tests; cpio +
  # libarchive-tools: independent readers; python3: stock-zlib reference; util-linux: setpriv;
  # clang-16 + wasi-libc: rebuilding zlib.wasm; linux-source-6.1 + build tools: the test kernel;
  # golang + Debian's Go modules: kestrel and volant's pluginspec, offline.
  # chromium-headless-shell + an emoji font: screenshots of the job summary.
  # docker-registry + skopeo: a real registry for the container image tests.
  local packages=(
    gcc libc6-dev make busybox-static qemu-system-x86 qemu-user-static cpio libarchive-tools
    python3 util-linux ca-certificates curl xz-utils zstd file docker-registry skopeo
    clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32
    linux-source-6.1 bc flex bison libelf-dev libssl-dev
    golang-go golang-github-creack-pty-dev golang-github-go-chi-chi-dev
    golang-github-mdlayher-vsock-dev golang-github-mdlayher-socket-dev
    golang-github-google-go-cmp-dev golang-golang-x-sys-dev golang-golang-x-net-dev
    golang-golang-x-sync-dev
    chromium-headless-shell fonts-noto-color-emoji
  )
  local missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt_update_once
    apt_install "${missing[@]}"
  fi

  say "npm ci"
  npm ci --no-audit --no-fund >&2

  say "fixtures: Debian's cloud kernel, ELF fixtures, Node runtimes"
  bash scripts/fetch-kernel.sh >/dev/null
  bash scripts/fixtures-elf.sh >/dev/null
  bash scripts/fetch-nodes.sh >/dev/null
  # Debian's zlib, libzstd and lz4 sources: the tests rebuild the committed .wasm from them.
  bash scripts/build-zlib-wasm.sh --fetch
  bash scripts/build-zstd-wasm.sh --fetch
  bash scripts/build-lz4-wasm.sh --fetch

  say "the real Volant parts: kestrel and the Volant-like test kernel"
  bash scripts/build-kestrel.sh >/dev/null
  bash scripts/build-test-kernel.sh >/dev/null
  say "done: run npm test"
}

main "$@"
