# PyTorch DDP (gloo, CPU) as the peer of scripts/bench/shaped.sh: the same cnn (or lenet) shape, per-worker batch,
# SGD with momentum and clip_grad_norm_ as the DistClip runs beside it. A benchmark's reference, never a dependency.
#   python3 ddp_peer.py --rank R --world N --master ADDR --port P --model cnn --batch 32 --steps 25 --warmup 5 --iface IF
# Rank 0 prints one line: "ddp median_step_s=… samples_per_s=…"; every rank prints its interface's bytes per step.
import argparse
import statistics
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):  # Models/Zoo/MnistCnn.cs
    def __init__(self, channels=1, size=28, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc1 = nn.Linear(64 * (size // 4) ** 2, 1024)
        self.fc2 = nn.Linear(1024, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class LeNet(nn.Module):  # Models/Zoo/LeNet.cs
    def __init__(self, channels=1, size=28, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        side = ((size // 2) - 4) // 2
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


def interface_bytes(iface):
    read = lambda d: int(open(f"/sys/class/net/{iface}/statistics/{d}_bytes").read())
    return read("tx"), read("rx")


def main():
    a = argparse.ArgumentParser()
    for name, kind in [("rank", int), ("world", int), ("master", str), ("port", int), ("model", str), ("batch", int),
                       ("steps", int), ("warmup", int), ("iface", str), ("clip", float)]:
        a.add_argument("--" + name, type=kind, default=1.0 if name == "clip" else None)
    args = a.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.rank)
    dist.init_process_group("gloo", init_method=f"tcp://{args.master}:{args.port}", rank=args.rank, world_size=args.world)
    model = nn.parallel.DistributedDataParallel({"cnn": Cnn, "lenet": LeNet}[args.model]())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,))
    times = []
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            dist.barrier()
            before = interface_bytes(args.iface)
        start = time.perf_counter()
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()   # DDP all-reduces the gradient buckets during the backward
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        times.append(time.perf_counter() - start)
    dist.barrier()
    after = interface_bytes(args.iface)
    timed = times[args.warmup:]
    print(f"ddp rank={args.rank} tx_per_step={(after[0] - before[0]) / args.steps:.0f} rx_per_step={(after[1] - before[1]) / args.steps:.0f}")
    if args.rank == 0:
        median = statistics.median(timed)
        print(f"ddp median_step_s={median:.4f} samples_per_s={args.batch * args.world / median:.1f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
