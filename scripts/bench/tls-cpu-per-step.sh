#!/bin/bash
# What mutual TLS costs a cnn step in CPU time, per process: a coordinator and 2 worker processes (pinned to CPU 0 and 1)
# exchange through the bulk channel (--shared-memory off), plain and with --tls, in turn (docs/BENCHMARKS.md, "Only the
# cluster's own nodes get in"). Wall-clock ratios on a shared 2-core VM vary by up to 30 % from run to run; CPU time per
# step says what TLS adds whatever the scheduler did.
# Usage: TURNS=3 scripts/bench/tls-cpu-per-step.sh   (builds only if the sources changed). ~50 s a turn on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
pids=""
trap 'kill $pids 2>/dev/null || true; rm -rf "$out"' EXIT
./distclip certs "$out/tls" > /dev/null
job=(--model cnn --global-batch 128 --steps 300 --train-samples 20000 --no-eval --log-every 1000000 --threads 1)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # user + system, in clock ticks
steps_in() { wc -l 2>/dev/null < "$1" || echo 0; }

for turn in $(seq "${TURNS:-3}"); do
  for mode in plain tls; do
    tls=(); [ $mode = tls ] && tls=(--tls "$out/tls/node")
    port=$((20000 + RANDOM % 20000)); metrics="$out/$mode-$turn.jsonl"
    # ./distclip execs the CLI, so $! is the process to measure.
    ./distclip coordinator --port $port --min-workers 2 --metrics "$metrics" --shared-memory off "${tls[@]}" "${job[@]}" > "$out/c.log" 2>&1 &
    coordinator=$!
    sleep 1
    ./distclip worker --seed-nodes "akka.tcp://distclip@127.0.0.1:$port" --cpus 0 --shared-memory off "${tls[@]}" > "$out/w0.log" 2>&1 &
    worker0=$!
    ./distclip worker --seed-nodes "akka.tcp://distclip@127.0.0.1:$port" --cpus 1 --shared-memory off "${tls[@]}" > "$out/w1.log" 2>&1 &
    worker1=$!
    pids="$coordinator $worker0 $worker1"
    until [ "$(steps_in "$metrics")" -ge 30 ]; do   # past warm-up (JIT)
      kill -0 $coordinator 2>/dev/null || { echo "turn $turn $mode: the coordinator ended before its 30th step:" >&2; tail -3 "$out/c.log" >&2; exit 1; }
      sleep 0.2
    done
    before=$(for p in $pids; do cpu_ticks $p; done); steps_before=$(steps_in "$metrics")
    sleep 10
    after=$(for p in $pids; do cpu_ticks $p; done); steps=$(( $(steps_in "$metrics") - steps_before ))
    kill $pids 2>/dev/null || true; wait 2>/dev/null || true
    hz=$(getconf CLK_TCK)
    paste <(echo "$before") <(echo "$after") | awk -v m=$mode -v t=$turn -v s=$steps -v hz=$hz \
      '{ms[NR] = ($2 - $1) * 1000 / hz / s; total += ms[NR]} END {printf "turn %d %-5s %3d steps in 10 s; CPU ms per step: coordinator %.1f, workers %.1f and %.1f, all %.1f\n", t, m, s, ms[1], ms[2], ms[3], total}'
  done
done
