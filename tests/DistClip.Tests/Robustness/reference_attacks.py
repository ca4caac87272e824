#!/usr/bin/env python3
# PyTorch reference of DistClip's FGSM and PGD (RobustnessSpecs): the same LeNet, weights, images and PGD start, the textbook attacks.
# Usage: reference_attacks.py WEIGHTS.safetensors INPUTS.safetensors EPS PGD_STEPS MEAN STD
#   INPUTS holds "images" (N, 1, 28, 28) in [0, 1], "labels" (N) as float32, "start" (N, 1, 28, 28) uniform in [-1, 1).
# Prints one JSON object: the number of samples correct clean, under FGSM and under PGD.
import json
import struct
import sys

import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        begin, end = info["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(info["shape"])
    return tensors


class LeNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(16 * 5 * 5, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main():
    weights, inputs, eps, steps, mean, std = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    torch.set_num_threads(1)
    model = LeNet()
    model.load_state_dict(read_safetensors(weights))
    model.eval()
    t = read_safetensors(inputs)
    images, labels, start = t["images"], t["labels"].long(), t["start"]

    def loss(x, y):  # the attack is in pixel space: normalisation is part of the model
        return F.cross_entropy(model((x - mean) / std), y, reduction="sum")

    def grad_sign(x, y):
        x = x.detach().requires_grad_(True)
        return torch.autograd.grad(loss(x, y), x)[0].sign()

    def fgsm(x, y):  # Goodfellow et al. 2015
        return (x + eps * grad_sign(x, y)).clamp(0, 1)

    def pgd(x, y, u):  # Madry et al. 2018: random start, step eps/4, projection onto the eps-ball and the valid range
        adv = (x + eps * u).clamp(0, 1)
        for _ in range(steps):
            adv = adv + eps / 4 * grad_sign(adv, y)
            adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1)
        return adv

    def correct(x, y):
        with torch.no_grad():
            return int((model((x - mean) / std).argmax(1) == y).sum())

    counts = {"clean": 0, "fgsm": 0, "pgd": 0}
    for b in range(0, len(labels), 1000):
        x, y, u = images[b:b + 1000], labels[b:b + 1000], start[b:b + 1000]
        counts["clean"] += correct(x, y)
        counts["fgsm"] += correct(fgsm(x, y), y)
        counts["pgd"] += correct(pgd(x, y, u), y)
    counts["samples"] = len(labels)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
