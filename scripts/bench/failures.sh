#!/bin/bash
# Measures what failures cost a cluster run on loopback (docs/BENCHMARKS.md, "Failures and checkpoints"):
#   1. the longest step around a kill -9 or a SIGSTOP of one of two worker processes, with either exchange,
#   2. the time from restarting a killed coordinator (--resume auto) to its first step,
#   3. checkpoint write time and size for cnn and resnet18, and their share of training time at the default interval.
# Usage: scripts/bench/failures.sh   (builds nothing: run ./distclip once first). Takes ~5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'pkill -f "distclip.dll (coordinator|worker)" || true; rm -rf "$out"' EXIT
job=(--model lenet --train-samples 4000 --global-batch 32 --seed 3 --log-every 100 --no-eval)
port=4731
seed="akka.tcp://distclip@127.0.0.1:$port"
wait_for() { for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timed out waiting for '$2' in $1" >&2; return 1; }

echo "== 1. one of two worker processes killed (kill -9) or frozen (SIGSTOP, SIGCONT once it is given up on), each exchange"
lost_worker() {   # $1 exchange, $2 KILL or STOP
  ./distclip coordinator --port $port --min-workers 2 "${job[@]}" --steps 1500 --exchange "$1" --metrics "$out/steps.jsonl" > "$out/c.log" 2>&1 &
  ./distclip worker --seed-nodes "$seed" > "$out/w1.log" 2>&1 &
  ./distclip worker --seed-nodes "$seed" > "$out/w2.log" 2>&1 &
  wait_for "$out/c.log" "step    500"
  local victim; victim=$(pgrep -f 'distclip.dll worker' | tail -1)
  kill -"$2" "$victim"
  if [ "$2" = STOP ]; then wait_for "$out/c.log" "is unreachable"; kill -CONT "$victim"; fi
  wait_for "$out/c.log" "^done"
  python3 - "$out/steps.jsonl" "$1" "$2" <<'PY'
import json, sys
steps = [json.loads(l) for l in open(sys.argv[1])]
seconds = sorted(s["seconds"] for s in steps)
longest = max(steps, key=lambda s: s["seconds"])
print(f"{sys.argv[2]}, SIG{sys.argv[3]}: longest step {longest['step']}: {longest['seconds']:.2f} s; median step {seconds[len(seconds)//2]*1000:.1f} ms")
PY
  sleep 3; pkill -f "distclip.dll worker" || true; sleep 1
}
for exchange in central sharded; do for signal in KILL STOP; do lost_worker $exchange $signal; done; done

echo "== 2. kill -9 of the coordinator, restart with --resume auto"
coordinator=(./distclip coordinator --port $port --min-workers 2 "${job[@]}" --steps 3000 --run-dir "$out/run" --checkpoint-every 200 --resume auto)
"${coordinator[@]}" > "$out/c1.log" 2>&1 &
./distclip worker --seed-nodes "$seed" > "$out/w3.log" 2>&1 &
./distclip worker --seed-nodes "$seed" > "$out/w4.log" 2>&1 &
wait_for "$out/c1.log" "step-00000600"
pkill -9 -f 'distclip.dll coordinator'
start=$(date +%s.%N)
"${coordinator[@]}" > "$out/c2.log" 2>&1 &
wait_for "$out/c2.log" "admitted .*worker-0" && admitted=$(date +%s.%N)
wait_for "$out/c2.log" "^step " && stepped=$(date +%s.%N)
python3 -c "print(f'restart to both workers admitted: {$admitted-$start:.1f} s (incl. ~1.5 s of process start); to the first progress line (100 steps later): {$stepped-$start:.1f} s')"
wait_for "$out/c2.log" "^done"
sleep 3

echo "== 3. checkpoints: write time and size (embedded, 2 workers, default interval 500 steps)"
for model in cnn resnet18; do
  dataset=fashion-mnist; [ "$model" = resnet18 ] && dataset=synthetic
  ./distclip train --model "$model" --dataset "$dataset" --steps 60 --checkpoint-every 20 --checkpoint-dir "$out/ck-$model" \
    --no-eval --log-every 20 --metrics "$out/$model.jsonl" > "$out/$model.log" 2>&1
  python3 - "$model" "$out/$model.log" "$out/$model.jsonl" <<'PY'
import json, re, sys
model, log, metrics = sys.argv[1:]
writes = [(float(m.group(1)), float(m.group(2))) for m in re.finditer(r"\(([\d.]+) MB, ([\d.]+) s\)", open(log).read())]
steps = sorted(json.loads(l)["seconds"] for l in open(metrics))
step = steps[len(steps)//2]
mb = writes[-1][0]; seconds = sorted(w[1] for w in writes)[len(writes)//2]
print(f"{model}: checkpoint {mb:.1f} MB written in {seconds:.3f} s (median of {len(writes)}); median step {step*1000:.0f} ms; "
      f"share of training time at one checkpoint per 500 steps: {seconds/(seconds+500*step)*100:.3f} %")
PY
done
