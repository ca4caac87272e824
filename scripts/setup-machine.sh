#!/usr/bin/env bash
# One-time machine set-up for DistClip: the C++ runtime TorchSharp needs, the Fashion-MNIST data, and PyTorch for the tests' reference.
# Idempotent and quiet when there is nothing to do; sourced by ./distclip and ./run-tests.
set -euo pipefail

# TorchSharp 0.107's native library links against GLIBCXX_3.4.32 (GCC >= 13). Debian 12 ships
# GLIBCXX_3.4.30; Debian 13 ("trixie") has the newer runtime, installed from a source pinned low
# (priority 100) so that nothing else on the machine is upgraded by accident.
LIBSTDCXX_NEEDED="GLIBCXX_3.4.32"
FASHION_MNIST_DIR="/usr/share/datasets/fashion-mnist"

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

libstdcxx_path() {
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64|libstdc\+\+\.so\.6 .*aarch64/ {print $NF; exit}'
}

has_cxx_runtime() {
  local lib; lib=$(libstdcxx_path)
  [ -n "$lib" ] && grep -qa "$LIBSTDCXX_NEEDED" "$lib"
}

ensure_cxx_runtime() {
  has_cxx_runtime && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "distclip set-up: this machine's C++ runtime lacks $LIBSTDCXX_NEEDED (needs GCC >= 13's libstdc++) and has no apt; install a newer libstdc++6." >&2
    return 1
  fi
  echo "distclip set-up: installing Debian 13's C++ runtime (libstdc++6 from trixie, pinned at priority 100)" >&2
  install_from_trixie libstdc++6
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
# Debian 12's kubectl (1.20) has an old kustomize: take trixie's.
ensure_kubectl() {
  kubectl kustomize --help >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || { echo "distclip set-up: kubectl is missing and there is no apt; the deployment tests need it." >&2; return 0; }
  echo "distclip set-up: installing kubectl (Debian's package), for the deployment tests" >&2
  install_from_trixie kubectl \
    || echo "distclip set-up: could not install kubectl; the deployment tests will fail." >&2
}

ensure_cxx_runtime
ensure_fashion_mnist
ensure_python_torch
ensure_kubectl
