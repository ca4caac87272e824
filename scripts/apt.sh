#!/usr/bin/env bash
# apt for DistClip's set-up scripts (sourced): root when needed, one update per run, and Debian 13 ("trixie") as a
# second source pinned low, for the packages Debian 12 has too old (the C++ runtime, podman) — wherever this runs.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else echo "distclip set-up: '$*' needs root; run it as root once, then retry." >&2; return 1; fi
}

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
}

# Debian 13 ("trixie") as a second source on Debian 12, pinned at priority 100 so that nothing else is upgraded by accident.
ensure_trixie_source() {
  if [ ! -f /etc/apt/sources.list.d/distclip-trixie.sources ]; then
    as_root tee /etc/apt/sources.list.d/distclip-trixie.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    as_root tee /etc/apt/preferences.d/distclip-trixie >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    apt_updated=0
  fi
  apt_update_once
}

# Installs packages at Debian 13's version on Debian: on Debian 12 the trixie source is the only place they are; on a
# machine whose base files already say trixie (the C++ runtime upgrade can bring them) the default release may still be
# bookworm, so the codename in /etc/os-release decides nothing: the target release is always named. Elsewhere (another
# apt distribution) from the system's own sources: a Debian source would not be signed by a key it has.
install_from_trixie() {
  local id; id=$(. /etc/os-release 2>/dev/null && echo "${ID:-}")
  if [ "$id" = debian ]; then
    ensure_trixie_source
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie "$@" >/dev/null
  else
    apt_update_once
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}
