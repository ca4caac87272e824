#!/usr/bin/env bash
# Does gradient clipping make LeNet more robust? One sweep per seed over the clip policies, judged on Fashion-MNIST's
# test split clean, under Gaussian noise σ = 0.1 and under FGSM ε = 0.03 (pixel units), then mean ± sd over the seeds.
# Run: scripts/bench/robustness.sh [OUT]   (docs/BENCHMARKS.md, "Robustness and clipping"; ~3 min per seed on 2 cores)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
out=${1:-robustness-bench}
clips=${CLIPS:-none,norm:0.1,norm:0.3,norm:1,value:0.01,agc:0.01}
for seed in 1 2 3; do
  "$root/distclip" sweep --model lenet --epochs 1 --seed "$seed" --clips "$clips" \
    --eval-robustness gauss:0.1,fgsm:0.03 --select robust-acc:fgsm:0.03 --out "$out/seed-$seed" | grep -E '^(clip|none|norm|value|agc|layer|auto|selected)'
done
python3 - "$out" <<'PY'
import csv, statistics, sys, glob
rows = {}
for path in sorted(glob.glob(f"{sys.argv[1]}/seed-*/sweep.csv")):
    for r in csv.DictReader(open(path)):
        rows.setdefault(r["clip"], []).append(r)
cols = ["test accuracy", "gauss:0.1 accuracy", "fgsm:0.03 accuracy", "gauss:0.1 output change", "fgsm:0.03 output change", "clip rate"]
print("| clip | " + " | ".join(cols) + " |")
print("| --- |" + " --- |" * len(cols))
for clip, rs in rows.items():
    cells = []
    for c in cols:
        v = [float(r[c]) for r in rs]
        cells.append(f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}" if len(v) > 1 else f"{v[0]:.4f}")
    print(f"| `{clip}` | " + " | ".join(cells) + " |")
print(f"({len(next(iter(rows.values())))} seeds)")
PY
