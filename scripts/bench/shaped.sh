#!/usr/bin/env bash
# Step times on shaped links: DistClip central, DistClip sharded and PyTorch DDP (gloo) on the same namespaces.
#   sudo scripts/bench/shaped.sh [workers="2 3"] [rates="200mbit 1gbit"] [model=cnn] [steps=20] [batch per worker=32]
# Every node is a network namespace with one veth on a bridge; both ends of each veth are shaped with tbf to the rate
# (each node's link carries the rate in each direction). The coordinator has a node of its own; DDP runs on the worker
# nodes only (rank 0 on worker 1), for the models without batch norm it builds (cnn, lenet); other models run
# DistClip only. Shared memory off: every byte crosses a link. One thread per process. Per point: the
# median step after 5 warm-up steps, samples/s, and the bytes the busiest node sent and received per step over the timed
# steps (the interfaces' own counters). The DDP peer needs Debian's python3-torch: installed here if missing (a
# benchmark's reference, never a dependency of the product).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
source "$root/scripts/build.sh"
distclip_ensure_built
[ "$(id -u)" = 0 ] || { echo "shaped: needs root (network namespaces, tc)" >&2; exit 2; }
py=/usr/bin/python3   # Debian's, with python3-torch (a pyenv python earlier on PATH has no torch)
"$py" -c "import torch" 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch > /dev/null
"$py" -c "import torch" 2>/dev/null || { echo "shaped: the DDP peer needs python3-torch, which apt-get could not install" >&2; exit 2; }
worker_counts=${1:-"2 3"} rates=${2:-"200mbit 1gbit"} model=${3:-cnn} steps=${4:-20} per_worker=${5:-32}
warmup=5 out=$(mktemp -d)
case "$model" in cnn|lenet) ddp_model=yes ;; *) ddp_model=no ;; esac   # the models scripts/bench/ddp_peer.py builds
max_nodes=$(( $(tr ' ' '\n' <<< "$worker_counts" | sort -n | tail -1) + 1 ))
source "$root/scripts/bench/bridged-nodes.sh"
fabric="sh$$" net="10.79.$((20 + RANDOM % 200))"
trap 'bridged_nodes_remove "$fabric" "$max_nodes"' EXIT
bridged_nodes "$fabric" "$max_nodes" "$net"
addr() { node_addr "$net" "$1"; }
bytes() { node_bytes "$fabric" "$1" "$2"; }
shape() {   # $1 = rate or "none"
  for n in $(seq 0 $((max_nodes - 1))); do
    ip netns exec "$fabric-$n" tc qdisc del dev "v$n$fabric" root 2>/dev/null || true
    ip netns exec "$fabric-hub" tc qdisc del dev "p$n$fabric" root 2>/dev/null || true
    [ "$1" = none ] && continue
    ip netns exec "$fabric-$n" tc qdisc add dev "v$n$fabric" root tbf rate "$1" burst 256kb latency 100ms
    ip netns exec "$fabric-hub" tc qdisc add dev "p$n$fabric" root tbf rate "$1" burst 256kb latency 100ms
  done
}
# Nodes 0..$1's sent and received byte counters; then the most any node sent and received per step between two of them.
snapshot() { local n; for n in $(seq 0 "$1"); do printf '%s %s ' "$(bytes $n tx)" "$(bytes $n rx)"; done; }
busiest() {   # $1 = before, $2 = after, $3 = steps
  awk -v b="$1" -v a="$2" -v s="$3" 'BEGIN { nb = split(b, B, " "); split(a, A, " "); tx = 0; rx = 0
    for (i = 1; i <= nb; i += 2) { t = (A[i] - B[i]) / s; r = (A[i + 1] - B[i + 1]) / s; if (t > tx) tx = t; if (r > rx) rx = r }
    printf "%.1f %.1f", tx / 1e6, rx / 1e6 }'
}
median_of() { "$py" -c "import json,statistics,sys; s=[json.loads(l)['seconds'] for l in open(sys.argv[1])][int(sys.argv[2]):]; print(f'{statistics.median(s):.4f}')" "$1" "$warmup"; }

distclip() {   # $1 = exchange, $2 = workers; prints "median tx rx"
  local exchange=$1 workers=$2 metrics="$out/$1-$2.jsonl" pids=() n before after
  rm -f "$metrics"
  DISTCLIP_SHARED_MEMORY=off ip netns exec "$fabric-0" dotnet "$DISTCLIP_DLL" coordinator --hostname "$(addr 0)" --port 4053 --min-workers "$workers" \
      --exchange "$exchange" --model "$model" --dataset synthetic --global-batch $((per_worker * workers)) --micro-batch 256 --seed 3 --no-eval \
      --log-every 1000 --threads 1 --optimizer sgd --lr 0.01 --momentum 0.9 --lr-schedule constant --clip-norm 1 \
      --steps $((warmup + steps)) --metrics "$metrics" > "$out/c-$exchange-$workers.log" 2>&1 &
  local coordinator=$!
  for n in $(seq 1 "$workers"); do
    DISTCLIP_SHARED_MEMORY=off ip netns exec "$fabric-$n" dotnet "$DISTCLIP_DLL" worker --hostname "$(addr $n)" \
        --seed-nodes "akka.tcp://distclip@$(addr 0):4053" --threads 1 > "$out/w$n-$exchange-$workers.log" 2>&1 & pids+=($!)
  done
  until [ -f "$metrics" ] && [ "$(wc -l < "$metrics")" -ge "$warmup" ]; do
    kill -0 "$coordinator" 2>/dev/null || { cat "$out/c-$exchange-$workers.log" >&2; exit 1; }
    sleep 0.05
  done
  before=$(snapshot "$workers") at=$(wc -l < "$metrics")   # the poll may see a later step than the warm-up's last
  wait "$coordinator" || { cat "$out/c-$exchange-$workers.log" >&2; exit 1; }
  after=$(snapshot "$workers")
  for p in "${pids[@]}"; do wait "$p" || true; done
  local counted=$(( $(wc -l < "$metrics") - at ))
  echo "$(median_of "$metrics") $([ "$counted" -gt 0 ] && busiest "$before" "$after" "$counted" || echo "n/a n/a")"
}

ddp() {   # $1 = workers; prints "median tx rx" (the busiest worker node: DDP has no coordinator)
  local workers=$1 pids=() n port=$((29500 + RANDOM % 1000))
  rm -f "$out"/ddp-*.log   # a larger N's logs would count
  for n in $(seq 1 "$workers"); do
    GLOO_SOCKET_IFNAME="v$n$fabric" ip netns exec "$fabric-$n" "$py" "$root/scripts/bench/ddp_peer.py" --rank $((n - 1)) --world "$workers" \
        --master "$(addr 1)" --port "$port" --model "$model" --batch "$per_worker" --steps "$steps" --warmup "$warmup" --iface "v$n$fabric" \
        > "$out/ddp-$n.log" 2>&1 & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { cat "$out"/ddp-*.log >&2; exit 1; }; done
  local median tx rx
  median=$(sed -n 's/.*median_step_s=\([0-9.]*\).*/\1/p' "$out/ddp-1.log")
  tx=$(cat "$out"/ddp-*.log | sed -n 's/.*tx_per_step=\([0-9]*\).*/\1/p' | sort -n | tail -1)
  rx=$(cat "$out"/ddp-*.log | sed -n 's/.*rx_per_step=\([0-9]*\).*/\1/p' | sort -n | tail -1)
  echo "$median $(awk -v t="$tx" -v r="$rx" 'BEGIN { printf "%.1f %.1f", t / 1e6, r / 1e6 }')"
}

echo "shaped: $model, $per_worker samples per worker, $steps timed steps after $warmup, 1 thread per process; $(nproc) cores"
echo
echo "| link per node | N | exchange | median step | samples/s | busiest node MB/step sent, received | / DDP |"
echo "| --- | ---: | --- | ---: | ---: | ---: | ---: |"
for rate in $rates; do
  shape "$rate"
  for workers in $worker_counts; do
    dm=0   # DDP's step, or 0 for a model its peer does not build (batch norm: DDP broadcasts buffers DistClip averages)
    if [ "$ddp_model" = yes ]; then read -r dm dtx drx <<< "$(ddp "$workers")"; fi
    for exchange in central sharded; do
      read -r m tx rx <<< "$(distclip "$exchange" "$workers")"
      awk -v r="$rate" -v n="$workers" -v e="$exchange" -v m="$m" -v b=$((per_worker * workers)) -v tx="$tx" -v rx="$rx" -v d="$dm" \
        'BEGIN { printf "| %s | %d | DistClip %s | %.0f ms | %.0f | %s, %s | %s |\n", r, n, e, m * 1000, b / m, tx, rx, (d > 0 ? sprintf("%.2f", m / d) : "—") }'
    done
    if [ "$ddp_model" = yes ]; then
      awk -v r="$rate" -v n="$workers" -v m="$dm" -v b=$((per_worker * workers)) -v tx="$dtx" -v rx="$drx" \
        'BEGIN { printf "| %s | %d | PyTorch DDP (gloo) | %.0f ms | %.0f | %s, %s | 1 |\n", r, n, m * 1000, b / m, tx, rx }'
    fi
  done
done
