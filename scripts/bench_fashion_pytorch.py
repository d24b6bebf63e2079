#!/usr/bin/python3
"""PyTorch twin of `./resnet train` on Fashion-MNIST, to compare time per epoch (and accuracy).

Builds the same depth table as the Java spec (torchvision's BasicBlock/Bottleneck, the small stem:
3x3 stride-1 conv + BN + ReLU and no max pool, or the ImageNet stem), reads the same IDX files,
normalises with the same mean/std, trains with Adam (constant or cosine per step) at the same
batch size with the same augmentation (none, flip, flip-shift: mirror with p=1/2 and shift by up
to S/14 px filling with the background value), with torch.set_num_threads(2) by default. The random
numbers differ from the Java side (another generator), so accuracies agree in distribution, not
digit for digit.

Two modes:
  --measure-batches N  (default 30) time N training steps after 3 warm-up steps and extrapolate
                       to one epoch: seconds/epoch = median step time x steps per epoch. Stated
                       as "extrapolated" in the output.
  --epochs E           train E full epochs and evaluate the test split after each (the real,
                       measured time per epoch and the test accuracy).

Examples (the defaults are the fashion-fast preset of ./resnet train):
  /usr/bin/python3 scripts/bench_fashion_pytorch.py                 # time per epoch, extrapolated
  /usr/bin/python3 scripts/bench_fashion_pytorch.py --epochs 8      # the full recipe, measured

scripts/bench_fashion.py runs this and `./resnet train` one after the other for the same recipe and
prints both times per epoch side by side.

Needs Debian's python3-torch (the pyenv `python3` on PATH has no torch: use /usr/bin/python3).
"""
import argparse
import gzip
import math
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck

MEAN, STD = 0.2860, 0.3530  # same as dev.resnetzoo.examples.data.FashionMnist


def read_idx(directory, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            magic, = struct.unpack(">i", data[:4])
            ndim = magic & 0xFF
            dims = struct.unpack(">" + "i" * ndim, data[4:4 + 4 * ndim])
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    sys.exit(f"error: {directory} has no {name}[.gz]")


def load(directory, split, limit, resize):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(directory, f"{prefix}-images-idx3-ubyte")
    labels = read_idx(directory, f"{prefix}-labels-idx1-ubyte")
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - MEAN) / STD
    if resize and resize != x.shape[-1]:
        # Bilinear, half-pixel centres, no anti-aliasing: as FashionMnistIterator.resize.
        x = F.interpolate(x, size=(resize, resize), mode="bilinear", align_corners=False)
    return x.contiguous(), torch.from_numpy(labels.astype(np.int64))


class SpecResNet(nn.Module):
    """ResNet from a depth table, mirroring dev.resnetzoo.core.ResNets (torchvision blocks, ResNet v1.5)."""

    def __init__(self, block, depths, widths, stem_width, stem, in_channels=1, num_classes=10):
        super().__init__()
        if stem == "small":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_width, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(stem_width), nn.ReLU(inplace=True))
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_width, 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(stem_width), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(3, 2, 1))
        layers, inplanes = [], stem_width
        for i, (d, w) in enumerate(zip(depths, widths)):
            for j in range(d):
                stride = 2 if i > 0 and j == 0 else 1
                downsample = None
                if stride != 1 or inplanes != w * block.expansion:
                    downsample = nn.Sequential(nn.Conv2d(inplanes, w * block.expansion, 1, stride, bias=False),
                                               nn.BatchNorm2d(w * block.expansion))
                layers.append(block(inplanes, w, stride, downsample))
                inplanes = w * block.expansion
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(inplanes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def augment(x, kind, gen):
    """Mirror-and-shift as dev.resnetzoo.examples.train.Augmentation (on normalised images)."""
    if kind == "none":
        return x
    n, _, size, _ = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if kind == "flip-shift":
        m = max(1, round(size / 14))
        background = -MEAN / STD
        padded = F.pad(x, (m, m, m, m), value=background)
        shifts = torch.randint(-m, m + 1, (n, 2), generator=gen)
        out = torch.empty_like(x)
        for i in range(n):
            dy, dx = shifts[i].tolist()
            out[i] = padded[i, :, m - dy:m - dy + size, m - dx:m - dx + size]
        x = out
    return x


def ints(s):
    return [int(v) for v in s.split(",")]


def default_data_dir():
    """Where ./resnet train looks: $FASHION_MNIST_DIR, Debian's package, then the embedded sample."""
    env = os.environ.get("FASHION_MNIST_DIR")
    if env:
        return env
    if os.path.isdir("/usr/share/datasets/fashion-mnist"):
        return "/usr/share/datasets/fashion-mnist"
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resnet-examples", "src", "main",
                        "resources", "fashion-mnist-sample")


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=None, help="IDX folder (default: as ./resnet train)")
    p.add_argument("--block", choices=["basic", "bottleneck"], default="basic")
    p.add_argument("--depths", type=ints, default=[2, 2, 2, 2])
    p.add_argument("--widths", type=ints, default=[16, 32, 64, 128])
    p.add_argument("--stem-width", type=int, default=None, help="default: the first width")
    p.add_argument("--stem", choices=["small", "imagenet"], default="small")
    p.add_argument("--resize", type=int, default=0)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--schedule", choices=["constant", "cosine"], default="cosine")
    p.add_argument("--augment", choices=["none", "flip", "flip-shift"], default="flip")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--test-limit", type=int, default=0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--measure-batches", type=int, default=30)
    p.add_argument("--epochs", type=int, default=0, help="train full epochs instead of extrapolating")
    return p


def run(a, log=print):
    """Trains as `a` (the parsed arguments) says. Returns one dict per epoch (epoch, seconds,
    images_per_sec, train_loss, train_acc, test_acc), or for --measure-batches a one-element list
    with the extrapolated seconds per epoch."""
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = a.data or default_data_dir()
    block = BasicBlock if a.block == "basic" else Bottleneck
    stem_width = a.stem_width or a.widths[0]
    model = SpecResNet(block, a.depths, a.widths, stem_width, a.stem)
    params = sum(t.numel() for t in model.parameters())
    x_train, y_train = load(data, "train", a.limit, a.resize)
    x_test, y_test = load(data, "test", a.test_limit, a.resize)
    n = len(y_train)
    steps_per_epoch = math.ceil(n / a.batch)
    epochs = a.epochs or 1
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sched = None
    if a.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch, eta_min=0.0)
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {a.block} {a.depths} x {a.widths}, "
        f"{a.stem} stem {stem_width}, input 1x{x_train.shape[-1]}x{x_train.shape[-1]}, {params:,} parameters; "
        f"batch {a.batch}, Adam {a.lr} {a.schedule}, augment {a.augment}; {n:,} train / {len(y_test):,} test "
        f"images from {data}")

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = F.cross_entropy(out, yb)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss.item(), (out.argmax(1) == yb).sum().item()

    def evaluate():
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(y_test), a.batch):
                correct += (model(x_test[i:i + a.batch]).argmax(1) == y_test[i:i + a.batch]).sum().item()
        model.train()
        return correct / len(y_test)

    model.train()
    if not a.epochs:
        g = torch.Generator().manual_seed(a.seed)
        order = torch.randperm(n, generator=g)
        times = []
        for i in range(3 + a.measure_batches):
            idx = order[(i * a.batch) % n:][:a.batch]
            t0 = time.perf_counter()
            step(augment(x_train[idx], a.augment, g), y_train[idx])
            if i >= 3:
                times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        log(f"measured {a.measure_batches} training steps (after 3 warm-up steps): median {med * 1000:.1f} ms/step, "
            f"{a.batch / med:.1f} img/s")
        log(f"seconds per epoch (extrapolated: {steps_per_epoch} steps x median step time): "
            f"{steps_per_epoch * med:.1f}")
        return [dict(epoch=0, seconds=steps_per_epoch * med, images_per_sec=a.batch / med)]

    results = []
    for epoch in range(1, a.epochs + 1):
        g = torch.Generator().manual_seed(a.seed * 1000 + epoch)
        order = torch.randperm(n, generator=g)
        t0 = time.perf_counter()
        loss_sum, correct = 0.0, 0
        for i in range(0, n, a.batch):
            idx = order[i:i + a.batch]
            loss, c = step(augment(x_train[idx], a.augment, g), y_train[idx])
            loss_sum += loss * len(idx)
            correct += c
        seconds = time.perf_counter() - t0
        test_acc = evaluate()
        r = dict(epoch=epoch, seconds=seconds, images_per_sec=n / seconds, train_loss=loss_sum / n,
                 train_acc=correct / n, test_acc=test_acc)
        results.append(r)
        log(f"epoch {epoch}/{a.epochs}: train loss {r['train_loss']:.4f} acc {100 * r['train_acc']:.2f}% | "
            f"test acc {100 * test_acc:.2f}% | {r['images_per_sec']:.0f} img/s, {seconds:.1f} s (measured)")
    return results


def main():
    run(parser().parse_args(), log=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
