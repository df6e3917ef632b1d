#!/usr/bin/env bash
# Build (once) the real kestrel agent, Volant's PID 1, for the boot tests: a static x86-64
# binary built offline with Debian's Go packages from volant's source at the pinned commit.
#
#   scripts/build-kestrel.sh           prints  kestrel=<path>  pluginspec=<folder with spec.go>
#   scripts/build-kestrel.sh --cached  the same, but fails instead of building (for tests)
#
# The source comes from the team's vendored copy (../shared/vendor/volant-agent beside the
# checkout, or $FLEDGE_VOLANT_SOURCE); without one, volant's source archive at the pinned commit
# is downloaded. Either way every file used is checked against scripts/volant/sources.sha256.
# Volant is BSL 1.1: this binary is for tests only and is never bundled or published.
# Cached outside the checkout:
#   ${FLEDGE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fledge-action-test}/kestrel/<key>/
set -euo pipefail

# All in one function: bash parses it whole before running, so editing this file while a
# build runs cannot derail the build.
main() {
cached_only=no
[ "${1:-}" = --cached ] && cached_only=yes

script_name=build-kestrel
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/.." && pwd)
commit=f289af92543c3e74faa0ce10bb19308a0fe77ed9
sums=$here/volant/sources.sha256
gocode=/usr/share/gocode/src
command -v go >/dev/null 2>&1 || die "go is missing: run scripts/setup.sh"
for dep in github.com/creack/pty github.com/go-chi/chi github.com/mdlayher/vsock github.com/mdlayher/socket \
  github.com/google/go-cmp golang.org/x/sys golang.org/x/net golang.org/x/sync; do
  [ -d "$gocode/$dep" ] || die "$gocode/$dep is missing: run scripts/setup.sh"
done

# Bump recipe when the build below changes in a way that changes the binary.
recipe=1
key="$commit-$(go version | awk '{print $3}')-r$recipe-$(sha256sum <"$sums" | cut -c1-12)"
cache_root=${FLEDGE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fledge-action-test}
dest=$cache_root/kestrel/$key
mkdir -p "$dest"
print_paths() {
  printf 'kestrel=%s\n' "$dest/kestrel"
  printf 'pluginspec=%s\n' "$dest/pluginspec"
}
complete() {
  [ -x "$dest/kestrel" ] && [ -f "$dest/kestrel.sha256" ] && [ -f "$dest/pluginspec/spec.go" ] &&
    (cd "$dest" && sha256sum --quiet -c kestrel.sha256 >/dev/null 2>&1)
}
# kestrel.sha256 is written last, so a complete entry needs no lock to be read.
if complete; then
  print_paths
  return 0
fi
[ "$cached_only" = no ] || die "kestrel is not built yet ($dest): run scripts/setup.sh"
exec 9>"$dest/.lock"
flock 9
if complete; then
  print_paths
  return 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fledge-kestrel.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=${FLEDGE_VOLANT_SOURCE:-$repo_root/../shared/vendor/volant-agent}
if [ ! -d "$src/cmd/kestrel" ]; then
  url=https://codeload.github.com/volantvm/volant/tar.gz/$commit
  say "no vendored volant source; downloading $url"
  command -v curl >/dev/null 2>&1 || die "curl is missing: run scripts/setup.sh"
  curl -fsSL --retry 3 -o "$work/volant.tar.gz" "$url" || die "could not download $url"
  mkdir "$work/archive"
  tar -xzf "$work/volant.tar.gz" -C "$work/archive" --strip-components=1
  src=$work/archive
fi
(cd "$src" && sha256sum --quiet -c "$sums") >&2 || die "volant's source in $src does not match scripts/volant/sources.sha256"

mkdir -p "$work/src" "$work/gocache" "$work/gopath"
cp -r "$src/cmd" "$src/internal" "$work/src/"
chmod -R u+w "$work/src"
# Debian 12's packaged module versions; every dependency is replaced by its packaged source,
# so nothing is downloaded (upstream's go.mod wants Go 1.24 and newer modules).
cat >"$work/src/go.mod" <<GOMOD
module github.com/volantvm/volant

go 1.19

require (
	github.com/creack/pty v1.1.18
	github.com/go-chi/chi/v5 v5.0.7
	github.com/mdlayher/vsock v1.2.0
	golang.org/x/sys v0.3.0
)

require (
	github.com/mdlayher/socket v0.4.0 // indirect
	golang.org/x/net v0.2.0 // indirect
	golang.org/x/sync v0.1.0 // indirect
)

replace (
	github.com/creack/pty => $gocode/github.com/creack/pty
	github.com/go-chi/chi/v5 => $gocode/github.com/go-chi/chi
	github.com/google/go-cmp => $gocode/github.com/google/go-cmp
	github.com/mdlayher/socket => $gocode/github.com/mdlayher/socket
	github.com/mdlayher/vsock => $gocode/github.com/mdlayher/vsock
	golang.org/x/net => $gocode/golang.org/x/net
	golang.org/x/sync => $gocode/golang.org/x/sync
	golang.org/x/sys => $gocode/golang.org/x/sys
)
GOMOD
say "building kestrel from volant $commit"
(
  cd "$work/src"
  export GOPROXY=off GOFLAGS=-mod=mod GOSUMDB=off GOTOOLCHAIN=local \
    GOCACHE="$work/gocache" GOPATH="$work/gopath" CGO_ENABLED=0 GOOS=linux GOARCH=amd64
  go build -trimpath -buildvcs=false -ldflags "-s -w -buildid=" -o "$work/kestrel" ./cmd/kestrel
) >&2
rm -rf "$dest/pluginspec"
mkdir -p "$dest/pluginspec"
cp "$src/internal/pluginspec/spec.go" "$dest/pluginspec/spec.go"
install -m 0755 "$work/kestrel" "$dest/kestrel"
# Written last: its presence means the entry is complete.
(cd "$dest" && sha256sum kestrel >kestrel.sha256)
print_paths
}

main "$@"
