# Shared by the fetch scripts: messages, root, and apt installs.
# Set script_name before sourcing.

say() { printf '%s: %s\n' "${script_name:-script}" "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root to run: $* (run as root or install sudo)"
  fi
}

apt_updated=no
apt_update_once() {
  if [ "$apt_updated" = no ]; then
    say "apt-get update"
    as_root apt-get update -qq >&2
    apt_updated=yes
  fi
}

# Install packages; refresh the package lists only when the first try fails.
apt_install() {
  say "installing $*"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2; then
    apt_update_once
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
  fi
}

# Tests run the fetch scripts with FLEDGE_CACHED_ONLY=1: they may reuse what set-up left,
# never install or download. Call before any install or download.
refuse_when_cached_only() {
  if [ "${FLEDGE_CACHED_ONLY:-}" = 1 ]; then
    die "$* is missing: run scripts/setup.sh"
  fi
}
