#!/usr/bin/env bash
# Builds the distclip image (distclip:latest; distclip:cuda with TORCH_BACKEND=cuda) with docker or podman, whichever is
# present. Where no registry is reachable — the development machines — the base is made here from Debian's packages
# (mmdebstrap, then `podman import`) and the application is published on the host (Debian has no .NET SDK image to
# build it in), then the Dockerfile's `from-host` stage puts the two together. Usage:
#   deploy/build-image.sh              # local base and host publish (the default; needs root for mmdebstrap)
#   deploy/build-image.sh --registry   # the Dockerfile's own stages: the public .NET images as bases
# Environment: TORCH_BACKEND (cpu), IMAGE (distclip:latest or distclip:cuda), SUITE (trixie).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
backend=${TORCH_BACKEND:-cpu}
image=${IMAGE:-distclip:$([ "$backend" = cpu ] && echo latest || echo "$backend")}
suite=${SUITE:-trixie}
work="$root/deploy/.build"
say() { echo "build-image: $*" >&2; }

if command -v podman >/dev/null 2>&1; then
  engine=podman
  export PODMAN_IGNORE_CGROUPSV1_WARNING=1
  # crun does not start containers on the development machines, and runc cannot raise rlimits there: give the current
  # ones, and the cgroupfs manager (no systemd in the machine).
  engine_flags=(--runtime runc --cgroup-manager cgroupfs)
  # runc here cannot set RLIMIT_NPROC to the hard limit it has (EPERM): 4096 threads per container user is plenty.
  build_flags=(--format docker "--ulimit=nofile=$(ulimit -Hn):$(ulimit -Hn)" "--ulimit=nproc=4096:4096")
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  engine=docker; engine_flags=(); build_flags=()
else
  say "neither podman nor a running Docker engine; install one (Debian: apt-get install podman runc)."; exit 2
fi

if [ "${1:-}" = "--registry" ]; then
  say "building $image with $engine from the public .NET images"
  "$engine" "${engine_flags[@]}" build "${build_flags[@]}" -f "$root/deploy/Dockerfile" --build-arg "TORCH_BACKEND=$backend" -t "$image" "$root"
  exit 0
fi

[ "$engine" = podman ] || { say "the local base needs podman (podman import); with Docker and a registry use --registry."; exit 2; }
command -v mmdebstrap >/dev/null 2>&1 || { say "mmdebstrap is missing (apt-get install mmdebstrap)."; exit 2; }
mkdir -p "$work"

# 1. The base: Debian's minbase with what a self-contained .NET program and libtorch load.
base="localhost/distclip-base:$suite"
if ! podman "${engine_flags[@]}" image exists "$base"; then
  say "making the $suite base with mmdebstrap"
  rm -f "$work/rootfs.tar"
  mmdebstrap --quiet --variant=minbase --include=libstdc++6,ca-certificates,libssl3t64,libicu76,zlib1g \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' "$suite" "$work/rootfs.tar"
  podman "${engine_flags[@]}" import --change 'CMD ["/bin/sh"]' "$work/rootfs.tar" "$base" >/dev/null
  rm -f "$work/rootfs.tar"
fi

# 2. The application, published self-contained on the host (the runtime packs restore from NuGet).
say "publishing the CLI (self-contained, linux-x64, TorchBackend=$backend)"
rm -rf "$work/context"; mkdir -p "$work/context/deploy"
dotnet publish "$root/Cli/DistClip.Cli.csproj" -c Release -r linux-x64 --self-contained -p:TorchBackend="$backend" \
  -o "$work/context/deploy/.publish" -v quiet -nologo
cp "$root/deploy/Dockerfile" "$work/context/deploy/Dockerfile"

# 3. The image: the Dockerfile's from-host stage on that base (a small context: the publish and the Dockerfile).
say "building $image with podman on $base"
podman "${engine_flags[@]}" build "${build_flags[@]}" --pull=never --target from-host --build-arg "BASE_IMAGE=$base" \
  -f "$work/context/deploy/Dockerfile" -t "$image" "$work/context"
rm -rf "$work/context"
size=$(podman "${engine_flags[@]}" image inspect --format '{{.Size}}' "$image")
say "built $image: $((size / 1000000)) MB"
