#!/usr/bin/env bash
# The container tests, run by .ci/run after the test suite: installs what they need (podman, runc, mmdebstrap; trixie's
# podman, whose `kube play` runs Jobs), builds the image (deploy/build-image.sh), runs a cluster of containers trained,
# killed and resumed (deploy/run-cluster.sh), then the rendered Kubernetes manifests under `podman kube play`
# (deploy/kube-play.sh). Skipped with one line only where no container engine can be installed (no apt, or not root
# and no sudo); any other failure fails.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
source "$root/scripts/apt.sh"
say() { echo "test-containers: $*"; }

# Rootful podman: the tests give volumes to the image's user (chown) and fixed addresses to pods.
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { say "SKIPPED: the container tests need root (or sudo)."; exit 0; }
  exec sudo --preserve-env=PATH bash "$0" "$@"
fi

podman_is_new_enough() {  # podman 5's kube play runs Jobs; Debian 12's 4.3 does not
  command -v podman >/dev/null 2>&1 && [ "$(podman --version | awk '{split($3, v, "."); print v[1]}')" -ge 5 ]
}
if ! podman_is_new_enough || ! command -v runc >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then say "SKIPPED: no podman 5, runc and mmdebstrap here, and no apt to install them."; exit 0; fi
  say "installing podman, runc and mmdebstrap (Debian 13's)"
  install_from_trixie podman runc mmdebstrap
fi
podman_is_new_enough || { say "FAILED: podman is still older than 5 after the install: $(podman --version)"; exit 1; }

bash "$root/deploy/build-image.sh"
bash "$root/deploy/run-cluster.sh"
bash "$root/deploy/kube-play.sh"
say "passed"
