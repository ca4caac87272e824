#!/usr/bin/env bash
# Runs the built image (deploy/build-image.sh) as a cluster of containers on a private podman network, as compose.yaml
# describes it: a coordinator and two workers, mutual TLS and the join secret on, each listening on 0.0.0.0 and reached at
# its container name, the run folder on a volume. Four runs of one job, each of whose weights must be bit-identical to
# the embedded run of the same job in the same image:
#   1. undisturbed; then a worker started after the run completed (told it is over while the coordinator lingers:
#      exit 0) and a worker without the join secret (refused: exit 2);
#   2. with the sharded exchange (the workers send each other their ranges, container to container), a worker container
#      killed (SIGKILL) mid-run: the step is planned again over the survivor, which finishes the run;
#   3. the coordinator container killed (SIGKILL) after a checkpoint, and a new one started on the same volume with
#      --resume auto: the workers join it again by themselves and it finishes the run.
# Prints one line per check; exits non-zero on the first that fails. Run by deploy/test-containers.sh (which installs
# podman and builds the image); needs root, podman and runc.
set -euo pipefail
image=${IMAGE:-distclip:latest}
export PODMAN_IGNORE_CGROUPSV1_WARNING=1
podman=(podman --runtime runc --cgroup-manager cgroupfs)
# runc here cannot set RLIMIT_NPROC to the hard limit it has (EPERM), nor keep the defaults: give both limits.
run=(run --no-healthcheck "--ulimit=nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit=nproc=4096:4096
     --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges)
net=distclip-test-$$
work=$(mktemp -d)
containers=(coordinator worker-a worker-b late stranger)
remove_containers() { for c in "${containers[@]}"; do "${podman[@]}" rm -f -t 0 "$net-$c" >/dev/null 2>&1 || true; done; }
cleanup() {
  remove_containers
  "${podman[@]}" network rm -f "$net" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
passed=0
check() { echo "run-cluster: $*"; passed=$((passed + 1)); }
fail() { echo "run-cluster: FAILED: $*" >&2; exit 1; }
logs() { "${podman[@]}" logs "$net-$1" 2>&1; }
# Whether the container's log has the extended regex (not `logs | grep -q`: grep's early exit fails the pipe).
log_has() { grep -qE "$2" <<< "$(logs "$1")"; }
running() { [ "$("${podman[@]}" inspect -f '{{.State.Running}}' "$net-$1" 2>/dev/null)" = true ]; }
# Every wait is bounded: a node that waits for a peer which died would otherwise hold CI until its own limit.
patience=600
dump_logs() { for c in "${containers[@]}"; do "${podman[@]}" container exists "$net-$c" 2>/dev/null && { echo "--- $c" >&2; logs "$c" | tail -40 >&2; }; done; }
expect_exit() {  # container, expected code, what it is
  local code
  code=$(timeout "$patience" "${podman[@]}" wait "$net-$1") || { dump_logs; fail "$3 did not exit within $patience s"; }
  [ "$code" = "$2" ] || { logs "$1" >&2; fail "$3 exited $code, not $2"; }
}
# Waits until the container's log has the pattern at least n times (while it runs).
wait_for_log() {  # container, extended regex, n
  local deadline=$((SECONDS + patience))
  until [ "$(grep -cE "$2" <<< "$(logs "$1")" || true)" -ge "$3" ]; do
    running "$1" || { dump_logs; fail "$1 ended before its log showed '$2' $3 times"; }
    [ "$SECONDS" -lt "$deadline" ] || { dump_logs; fail "$1's log did not show '$2' $3 times within $patience s"; }
    sleep 0.2
  done
}

# Long enough (a few seconds of steps) that a container killed a third of the way in dies mid-run.
job=(--dataset synthetic --model mlp --steps 1500 --global-batch 32 --seed 7 --log-every 100 --checkpoint-every 250)
head -c 32 /dev/urandom | base64 > "$work/join-secret"
mkdir -p "$work/runs" "$work/embedded"
chown -R 10001:10001 "$work"   # the image's user makes the certificates, reads the secrets and writes the runs
"${podman[@]}" "${run[@]}" --rm -v "$work:/work" "$image" certs /work/tls >/dev/null
"${podman[@]}" network create "$net" >/dev/null

"${podman[@]}" "${run[@]}" --rm -v "$work/embedded:/runs" "$image" train "${job[@]}" --workers 2 --run-dir /runs/embedded >/dev/null
embedded=$(sha256sum < "$work/embedded/embedded/weights.safetensors")
same_as_embedded() {  # scenario
  local cluster; cluster=$(sha256sum < "$work/runs/$1/weights.safetensors")
  [ "$cluster" = "$embedded" ] || fail "$1: the cluster's weights differ from the embedded run's"
}

node() {  # name, then the container's own arguments
  local name=$1; shift
  "${podman[@]}" "${run[@]}" -d --name "$net-$name" --network "$net" --network-alias "$name" \
    -v "$work/tls/node:/secrets/tls:ro" -v "$work/join-secret:/secrets/join-secret:ro" \
    -e DISTCLIP_PUBLIC_HOSTNAME="$name" -e DISTCLIP_PORT=4053 -e DISTCLIP_BULK_PORT=4060 -e DISTCLIP_SHARED_MEMORY=off \
    -e DISTCLIP_TLS_DIR=/secrets/tls "$@" >/dev/null
}
coordinator() {  # scenario, linger seconds, extra arguments
  node coordinator -v "$work/runs:/runs" -e DISTCLIP_MIN_WORKERS=2 -e DISTCLIP_LINGER="$2" -e DISTCLIP_SECRET_FILE=/secrets/join-secret \
    "$image" coordinator "${job[@]}" --run-dir "/runs/$1" "${@:3}"
}
worker() { node "$1" -e DISTCLIP_SEED_NODES=akka.tcp://distclip@coordinator:4053 -e DISTCLIP_WORKERS=1 "${@:2}" "$image" worker; }
workers() { for w in worker-a worker-b; do worker "$w" -e DISTCLIP_SECRET_FILE=/secrets/join-secret; done; }
steps_logged='^step +[0-9]+/'

# 1. Undisturbed, then a late worker and a stranger while the coordinator lingers.
coordinator undisturbed 300
workers
expect_exit worker-a 0 worker-a; expect_exit worker-b 0 worker-b
check "coordinator and two workers on $net (TLS, join secret, 0.0.0.0 + container names): both workers exited 0"
wait_for_log coordinator "workers that ask to join are told so" 1

worker late -e DISTCLIP_SECRET_FILE=/secrets/join-secret
expect_exit late 0 "the late worker"
log_has late "the run is over" || fail "the late worker did not say the run is over"
check "a worker started after the run completed: told so, exit 0"

worker stranger
expect_exit stranger 2 "a worker without the secret"
log_has stranger "requires the cluster's join secret" || { logs stranger >&2; fail "the worker without the secret exited 2, but not for the secret"; }
check "a worker without the join secret: refused, exit 2"

"${podman[@]}" kill -s TERM "$net-coordinator" >/dev/null
expect_exit coordinator 0 "the lingering coordinator"
check "coordinator: a SIGTERM ends its linger, exit 0"
same_as_embedded undisturbed   # read once the coordinator has ended: its linger begins before the weights are written
check "weights bit-identical to the embedded run of the same job (sha256 ${embedded:0:16}…)"
remove_containers

# 2. The sharded exchange, and a worker container killed mid-run.
coordinator worker-killed 0 --exchange sharded
workers
wait_for_log coordinator "$steps_logged" 5
"${podman[@]}" kill "$net-worker-b" >/dev/null
expect_exit coordinator 0 "the coordinator that lost a worker"
log_has coordinator "done: 1500 steps" || { logs coordinator >&2; fail "worker-killed: the run did not take every step"; }
log_has coordinator "planning the step again over 1 worker" || { logs coordinator >&2; fail "worker-killed: the coordinator never saw the worker go (killed after the run?)"; }
expect_exit worker-a 0 "the surviving worker"
same_as_embedded worker-killed
check "the sharded exchange between worker containers, one killed (SIGKILL) mid-run: the step planned again, the survivor finished it, weights bit-identical"
remove_containers

# 3. The coordinator container killed after a checkpoint; a new one on the same volume resumes.
coordinator coordinator-killed 0 --resume auto
workers
wait_for_log coordinator "checkpoint after step [0-9]+ written to" 2
"${podman[@]}" kill "$net-coordinator" >/dev/null
expect_exit coordinator 137 "the killed coordinator"
resumed_from=$(grep -cE "$steps_logged" <<< "$(logs coordinator)")
"${podman[@]}" rm -f -t 0 "$net-coordinator" >/dev/null
coordinator coordinator-killed 0 --resume auto
expect_exit coordinator 0 "the restarted coordinator"
log_has coordinator "resuming from " || { logs coordinator >&2; fail "coordinator-killed: the new coordinator did not resume"; }
log_has coordinator "done: 1500 steps" || fail "coordinator-killed: the run did not take every step"
for w in worker-a worker-b; do
  expect_exit "$w" 0 "$w"
  log_has "$w" "lost the coordinator; joining again" || fail "coordinator-killed: $w did not join again"
done
same_as_embedded coordinator-killed
check "the coordinator container killed (SIGKILL) after $resumed_from step lines and started again on its volume: resumed, both workers joined it again, weights bit-identical"

echo "run-cluster: $passed passed, 0 failed"
