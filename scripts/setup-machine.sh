#!/usr/bin/env bash
# One-time machine set-up for DistClip: the C++ runtime TorchSharp needs, the Fashion-MNIST data, and PyTorch for the tests' reference.
# Idempotent and quiet when there is nothing to do; sourced by ./distclip and ./run-tests.
set -euo pipefail

# TorchSharp 0.107's native library links against GLIBCXX_3.4.32 (GCC >= 13). Debian 12 ships
# GLIBCXX_3.4.30; Debian 13 ("trixie") has the newer runtime, installed from a source pinned low
# (priority 100) so that nothing else on the machine is upgraded by accident.
LIBSTDCXX_NEEDED="GLIBCXX_3.4.32"
FASHION_MNIST_DIR="/usr/share/datasets/fashion-mnist"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else echo "distclip set-up: '$*' needs root; run it as root once, then retry." >&2; return 1; fi
}

libstdcxx_path() {
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64|libstdc\+\+\.so\.6 .*aarch64/ {print $NF; exit}'
}

has_cxx_runtime() {
  local lib; lib=$(libstdcxx_path)
  [ -n "$lib" ] && grep -qa "$LIBSTDCXX_NEEDED" "$lib"
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

ensure_cxx_runtime() {
  has_cxx_runtime && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "distclip set-up: this machine's C++ runtime lacks $LIBSTDCXX_NEEDED (needs GCC >= 13's libstdc++) and has no apt; install a newer libstdc++6." >&2
    return 1
  fi
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
    echo "distclip set-up: installing Debian 13's C++ runtime (libstdc++6 from trixie, pinned at priority 100)" >&2
    ensure_trixie_source
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  else
    apt_update_once
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libstdc++6 >/dev/null
  fi
  has_cxx_runtime || { echo "distclip set-up: libstdc++6 still lacks $LIBSTDCXX_NEEDED after the upgrade." >&2; return 1; }
}

ensure_fashion_mnist() {
  [ -d "$FASHION_MNIST_DIR" ] && return 0
  command -v apt-get >/dev/null 2>&1 || return 0   # not fatal: --data-dir can point elsewhere
  echo "distclip set-up: installing the Fashion-MNIST data set (dataset-fashion-mnist)" >&2
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null \
    || echo "distclip set-up: could not install dataset-fashion-mnist; pass --data-dir to use your own copy." >&2
}

# The robustness tests check DistClip's FGSM and PGD against PyTorch's: Debian's python3-torch (1.13 on Debian 12),
# for Debian's own interpreter (/usr/bin/python3; a pyenv or venv python3 earlier on PATH does not see it).
ensure_python_torch() {
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import torch" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || { echo "distclip set-up: no apt to install python3-torch; the robustness reference test will fail." >&2; return 0; }
  echo "distclip set-up: installing PyTorch for the tests' reference (python3-torch)" >&2
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch >/dev/null \
    || echo "distclip set-up: could not install python3-torch; the robustness reference test will fail." >&2
}

# kubectl renders the kustomize manifests for the deployment tests (tests/DistClip.Tests/Deploy/KustomizeRenderSpecs.cs).
# Debian 12's kubectl (1.20) has an old kustomize: take trixie's there.
ensure_kubectl() {
  kubectl kustomize --help >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || { echo "distclip set-up: kubectl is missing and there is no apt; the deployment tests need it." >&2; return 0; }
  echo "distclip set-up: installing kubectl (Debian's package), for the deployment tests" >&2
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
    ensure_trixie_source
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie kubectl >/dev/null
  else
    apt_update_once
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl >/dev/null
  fi
}

ensure_cxx_runtime
ensure_fashion_mnist
ensure_python_torch
ensure_kubectl
