#!/bin/bash
# What 200 connections from one address (127.0.0.2) that each hold 990 KB of a 1 MiB frame on the coordinator's Akka port
# cost it, plaintext and with mutual TLS (docs/BENCHMARKS.md, "Only the cluster's own nodes get in"): how many the
# coordinator closes at once, its resident memory before, while they are held, and after they close; whether the run goes on.
# Usage: scripts/bench/akka-port-flood.sh   (builds nothing: run ./distclip once first). Takes ~2 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'pkill -f "distclip.dll (coordinator|worker)" || true; rm -rf "$out"' EXIT
./distclip certs "$out/tls" > /dev/null
job=(--model lenet --train-samples 4000 --global-batch 32 --seed 3 --log-every 100 --no-eval --steps 100000)
wait_for() { for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timed out waiting for '$2' in $1" >&2; return 1; }

for mode in ${MODES:-plain tls}; do
  port=$([ $mode = plain ] && echo 4741 || echo 4742)
  tls=(); [ $mode = tls ] && tls=(--tls "$out/tls/node")
  ./distclip coordinator --port $port --min-workers 1 "${job[@]}" "${tls[@]}" > "$out/c-$mode.log" 2>&1 &
  ./distclip worker --seed-nodes "akka.tcp://distclip@127.0.0.1:$port" "${tls[@]}" > "$out/w-$mode.log" 2>&1 &
  wait_for "$out/c-$mode.log" "step  *500/"
  pid=$(pgrep -f "distclip.dll coordinator --port $port")
  python3 - "$port" "$pid" "$mode" "$out/c-$mode.log" "${CONNECTIONS:-200}" <<'PY'
import socket, struct, sys, time, re
port, pid, mode, log, connections = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def rss(): return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1)) // 1024
def step():
    steps = re.findall(r"step\s+(\d+)/", open(log).read())
    return int(steps[-1]) if steps else 0
before, step0 = rss(), step()
held = []
failed = 0
for _ in range(connections):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
    try:  # Akka's length field (little-endian; the frame with it is 1 MiB, the largest Akka reads), then most of the frame
        s.sendall(struct.pack("<i", (1 << 20) - 4) + b"\0" * 990_000)
    except OSError:
        failed += 1  # refused at once
    held.append(s)
time.sleep(1)
def closed_by_peer(s):
    s.setblocking(False)
    try: return s.recv(1) == b""
    except BlockingIOError: return False
    except OSError: return True
closed = sum(closed_by_peer(s) for s in held)
time.sleep(9)
during, step1 = rss(), step()
for s in held: s.close()
time.sleep(10)
after, step2 = rss(), step()
print(f"{mode}: {closed} of {connections} connections closed by the coordinator within 1 s ({failed} writes failed); "
      f"coordinator RSS {before} MB before, {during} MB with them held 10 s, {after} MB 10 s after they closed; "
      f"steps while held: {step1 - step0} (before them: at {step0}), after: {step2 - step1}")
PY
  pkill -f "distclip.dll (coordinator|worker) .*$port" || true
  pkill -f "distclip.dll worker" || true
  sleep 2
done
