#!/usr/bin/env bash
# Bytes each node's link carries per step, central vs sharded exchange, read from the interfaces' own counters.
#   sudo scripts/bench/exchange-bytes.sh [workers=3] [model=cnn] [steps=20]
# Every node is a network namespace with one veth on a bridge (no shaping); shared memory off, so every byte crosses a
# link. Each exchange runs twice, with 5 and 5+steps steps: the difference over `steps` is the per-step traffic, without
# the admission and the state a worker gets at its first step. Prints a Markdown table and the design's bound.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
source "$root/scripts/build.sh"
distclip_ensure_built
[ "$(id -u)" = 0 ] || { echo "exchange-bytes: needs root (network namespaces)" >&2; exit 2; }
workers=${1:-3} model=${2:-cnn} steps=${3:-20}
source "$root/scripts/bench/bridged-nodes.sh"
fabric="xb$$" net="10.78.$((20 + RANDOM % 200))"
trap 'bridged_nodes_remove "$fabric" $((workers + 1))' EXIT
bridged_nodes "$fabric" $((workers + 1)) "$net"
addr() { node_addr "$net" "$1"; }
bytes() { node_bytes "$fabric" "$1" "$2"; }
job=(--model "$model" --dataset synthetic --global-batch $((8 * workers)) --micro-batch 64 --seed 3 --no-eval --log-every 1000 --threads 1)
# Runs one exchange for $2 steps; prints "tx0 rx0 tx1 rx1 ..." (node 0 is the coordinator).
run() {
  local before=() after=() n
  for n in $(seq 0 $workers); do before+=("$(bytes $n tx) $(bytes $n rx)"); done
  DISTCLIP_SHARED_MEMORY=off ip netns exec "$fabric-0" dotnet "$DISTCLIP_DLL" coordinator --hostname "$(addr 0)" --port 4053 --min-workers "$workers" \
      --exchange "$1" --steps "$2" "${job[@]}" > "/tmp/exchange-bytes-$$.log" 2>&1 &
  local coordinator=$! pids=()
  for n in $(seq 1 $workers); do
    DISTCLIP_SHARED_MEMORY=off ip netns exec "$fabric-$n" dotnet "$DISTCLIP_DLL" worker --hostname "$(addr $n)" --seed-nodes "akka.tcp://distclip@$(addr 0):4053" \
        --threads 1 > /dev/null 2>&1 & pids+=($!)
  done
  wait "$coordinator" || { cat "/tmp/exchange-bytes-$$.log" >&2; exit 1; }
  for p in "${pids[@]}"; do wait "$p" || true; done
  for n in $(seq 0 $workers); do after+=("$(bytes $n tx) $(bytes $n rx)"); done
  for n in $(seq 0 $workers); do
    read -r t0 r0 <<< "${before[$n]}"; read -r t1 r1 <<< "${after[$n]}"
    printf '%s %s ' $((t1 - t0)) $((r1 - r0))
  done
  echo
}
elements=$(DISTCLIP_SHARED_MEMORY=off dotnet "$DISTCLIP_DLL" train "${job[@]}" --workers 1 --steps 1 --exchange central 2>&1 | sed -n 's/.* \([0-9,][0-9,]*\) parameters,.*/\1/p' | head -1 | tr -d ,)
echo "exchange-bytes: $model, $workers workers + the coordinator, each its own namespace; per step over $steps steps (interface counters)"
echo
echo "| exchange | node | sent MB/step | received MB/step |"
echo "| --- | --- | ---: | ---: |"
for exchange in central sharded; do
  short=($(run "$exchange" 5)); long=($(run "$exchange" $((5 + steps))))
  for n in $(seq 0 $workers); do
    node=$([ "$n" = 0 ] && echo coordinator || echo "worker $n")
    awk -v e="$exchange" -v name="$node" -v t=$((long[2*n] - short[2*n])) -v r=$((long[2*n+1] - short[2*n+1])) -v s="$steps" \
      'BEGIN { printf "| %s | %s | %.2f | %.2f |\n", e, name, t / s / 1e6, r / s / 1e6 }'
  done
done
echo
if [ -n "$elements" ]; then
  awk -v p="$elements" -v n="$workers" 'BEGIN { b = 4 * p; printf "4P = %.2f MB (%d parameters); the sharded bound 1.1 x (2N-1)/N x 4P = %.2f MB per node and direction; ring 2(N-1)/N x 4P = %.2f MB\n", b / 1e6, p, 1.1 * (2 * n - 1) / n * b / 1e6, 2 * (n - 1) / n * b / 1e6 }'
fi
