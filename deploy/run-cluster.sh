#!/usr/bin/env bash
# Runs the built image (deploy/build-image.sh) as a cluster of containers on a private podman network, as compose.yaml
# describes it: a coordinator and two workers, mutual TLS and the join secret on, each listening on 0.0.0.0 and reached at
# its container name. Then: a worker started after the run completed (told it is over while the coordinator lingers:
# exit 0), a worker without the secret (refused: exit 2), and the embedded run of the same job in the same image, whose
# weights must be bit-identical to the cluster's. Prints one line per check; exits non-zero on the first that fails.
# Not run by .ci/run (deploy/README.md says why). Needs root, podman and runc.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
image=${IMAGE:-distclip:latest}
export PODMAN_IGNORE_CGROUPSV1_WARNING=1
podman=(podman --runtime runc --cgroup-manager cgroupfs)
# runc here cannot set RLIMIT_NPROC to the hard limit it has (EPERM), nor keep the defaults: give both limits.
run=(run --no-healthcheck "--ulimit=nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit=nproc=4096:4096
     --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges)
net=distclip-test-$$
work=$(mktemp -d)
cleanup() {
  "${podman[@]}" rm -f -t 0 "$net-coordinator" "$net-worker-a" "$net-worker-b" "$net-late" "$net-stranger" >/dev/null 2>&1 || true
  "${podman[@]}" network rm -f "$net" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
check() { echo "run-cluster: $*"; }
fail() { echo "run-cluster: FAILED: $*" >&2; exit 1; }

job=(--dataset synthetic --model mlp --steps 60 --global-batch 32 --seed 7 --log-every 20)
head -c 32 /dev/urandom | base64 > "$work/join-secret"
mkdir -p "$work/runs" "$work/embedded"
chown -R 10001:10001 "$work"   # the image's user makes the certificates, reads the secrets and writes the runs
"${podman[@]}" "${run[@]}" --rm -v "$work:/work" "$image" certs /work/tls >/dev/null
"${podman[@]}" network create "$net" >/dev/null

node() {  # name, then the container's own arguments
  local name=$1; shift
  "${podman[@]}" "${run[@]}" -d --name "$net-$name" --network "$net" --network-alias "$name" \
    -v "$work/tls/node:/secrets/tls:ro" -v "$work/join-secret:/secrets/join-secret:ro" \
    -e DISTCLIP_PUBLIC_HOSTNAME="$name" -e DISTCLIP_PORT=4053 -e DISTCLIP_BULK_PORT=4060 -e DISTCLIP_SHARED_MEMORY=off \
    -e DISTCLIP_TLS_DIR=/secrets/tls "$@" >/dev/null
}
worker() { node "$1" -e DISTCLIP_SEED_NODES=akka.tcp://distclip@coordinator:4053 -e DISTCLIP_WORKERS=1 "${@:2}" "$image" worker; }
exit_code() { "${podman[@]}" wait "$net-$1"; }

node coordinator -v "$work/runs:/runs" -e DISTCLIP_MIN_WORKERS=2 -e DISTCLIP_LINGER=300 -e DISTCLIP_SECRET_FILE=/secrets/join-secret \
  "$image" coordinator "${job[@]}" --run-dir /runs/cluster
worker worker-a -e DISTCLIP_SECRET_FILE=/secrets/join-secret
worker worker-b -e DISTCLIP_SECRET_FILE=/secrets/join-secret
for w in worker-a worker-b; do
  code=$(exit_code "$w"); [ "$code" = 0 ] || { "${podman[@]}" logs "$net-$w" >&2; fail "$w exited $code"; }
done
check "coordinator and two workers on $net (TLS, join secret, 0.0.0.0 + container names): both workers exited 0"
until "${podman[@]}" logs "$net-coordinator" 2>&1 | grep -q "workers that ask to join are told so"; do
  [ "$("${podman[@]}" inspect -f '{{.State.Running}}' "$net-coordinator")" = true ] || { "${podman[@]}" logs "$net-coordinator" >&2; fail "coordinator ended early"; }
  sleep 1
done

worker late -e DISTCLIP_SECRET_FILE=/secrets/join-secret
code=$(exit_code late); [ "$code" = 0 ] || { "${podman[@]}" logs "$net-late" >&2; fail "late worker exited $code"; }
"${podman[@]}" logs "$net-late" 2>&1 | grep -q "the run is over" || fail "the late worker did not say the run is over"
check "a worker started after the run completed: told so, exit 0"

worker stranger
code=$(exit_code stranger); [ "$code" = 2 ] || { "${podman[@]}" logs "$net-stranger" >&2; fail "worker without the secret exited $code, not 2"; }
check "a worker without the join secret: refused, exit 2"

"${podman[@]}" kill -s TERM "$net-coordinator" >/dev/null
code=$(exit_code coordinator); [ "$code" = 0 ] || { "${podman[@]}" logs "$net-coordinator" >&2; fail "coordinator exited $code"; }
check "coordinator: a SIGTERM ends its linger, exit 0"

"${podman[@]}" "${run[@]}" --rm -v "$work/embedded:/runs" "$image" train "${job[@]}" --workers 2 --run-dir /runs/embedded >/dev/null
cluster=$(sha256sum < "$work/runs/cluster/weights.safetensors"); embedded=$(sha256sum < "$work/embedded/embedded/weights.safetensors")
[ "$cluster" = "$embedded" ] || fail "the cluster's weights differ from the embedded run's"
check "weights bit-identical to the embedded run of the same job (sha256 ${cluster:0:16}…)"
echo "run-cluster: 5 passed, 0 failed"
