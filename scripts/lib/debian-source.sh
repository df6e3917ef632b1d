# Fetches files of a Debian bookworm source package into a cache folder, each
# checked against its pinned sha256, through a private apt configuration with a
# deb-src entry (nothing is added to the system's apt sources).
#
#   debian_source CACHE_DIR SOURCE_PACKAGE FILE=SHA256 [FILE=SHA256 ...]
#
# Files already in CACHE_DIR with the right sha256 are reused; with
# FLEDGE_CACHED_ONLY=1 (tests) a missing file is an error, never a download.
# Needs common.sh sourced first.
debian_source() {
  local cache=$1 package=$2
  shift 2
  local missing=() pair file sum
  mkdir -p "$cache"
  for pair in "$@"; do
    file=${pair%%=*}
    sum=${pair#*=}
    echo "$sum  $cache/$file" | sha256sum -c --status 2>/dev/null || missing+=("$pair")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  refuse_when_cached_only "the $package source ($cache)"
  say "downloading the $package source package from Debian"
  local apt_dir
  apt_dir=$(mktemp -d)
  mkdir -p "$apt_dir/lists/partial"
  cat >"$apt_dir/debian.sources" <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  local apt_opts=(-o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Etc::sourcelist=$apt_dir/debian.sources" -o "Dir::State::Lists=$apt_dir/lists")
  as_root apt-get "${apt_opts[@]}" update -qq >&2
  (cd "$apt_dir" && as_root apt-get "${apt_opts[@]}" source --download-only -qq "$package" >&2)
  for pair in "${missing[@]}"; do
    file=${pair%%=*}
    sum=${pair#*=}
    echo "$sum  $apt_dir/$file" | sha256sum -c --status || {
      rm -rf "$apt_dir"
      die "$file does not match its pinned sha256 (the mirror has another version?)"
    }
    cp "$apt_dir/$file" "$cache/$file"
  done
  rm -rf "$apt_dir"
}

# Unpacks an orig tarball and applies the Debian patches (debian/patches/series) in WORK.
debian_unpack_patched() {
  local work=$1 orig=$2 debian=$3 dir=$4
  tar -xf "$orig" -C "$work"
  tar -xf "$debian" -C "$work/$dir"
  if [ -f "$work/$dir/debian/patches/series" ]; then
    local patch
    while read -r patch; do
      case $patch in '' | '#'*) continue ;; esac
      patch -d "$work/$dir" -p1 -s -F0 <"$work/$dir/debian/patches/$patch" >&2 || die "Debian patch $patch does not apply"
    done <"$work/$dir/debian/patches/series"
  fi
}
