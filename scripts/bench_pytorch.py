#!/usr/bin/python3
"""PyTorch side of the ResNet benchmark: images/s for inference and for a training step (Adam)
of a torchvision model on random data, with the same batch and threads as the Java side.

Prints one JSON line: {"model":..., "batch":..., "inference_img_s":..., "train_img_s":...,
"peak_rss_bytes":..., "steady_rss_bytes":...}: the process's peak resident memory over both
measurements, and over the timed training steps only.
Run with Debian's python3-torchvision: /usr/bin/python3 scripts/bench_pytorch.py resnet50 --batch 8
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import build  # noqa: E402


def timed(fn, warmup, iters, after_warmup=lambda: None):
    for _ in range(warmup):
        fn()
    after_warmup()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def peak_rss_bytes():
    """VmHWM of this process (getrusage's ru_maxrss would include the parent JVM's, inherited at fork)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def reset_peak():
    """Starts a new VmHWM from the current resident size (Linux: 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--no-train", action="store_true", help="inference only (train_img_s is null)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(a.model)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, 1000, (a.batch,))

    model.eval()

    def infer():
        with torch.no_grad():
            model(x)

    t_inf = timed(infer, a.warmup, a.iters)
    if a.no_train:
        print(json.dumps({"model": a.model, "batch": a.batch, "size": a.size, "threads": a.threads,
                          "torch": torch.__version__, "inference_img_s": a.batch / t_inf, "train_img_s": None}))
        return

    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    peak = [0]

    def steady_from_here():
        peak[0] = peak_rss_bytes()
        reset_peak()

    t_train = timed(step, a.warmup, a.iters, steady_from_here)
    steady = peak_rss_bytes()
    print(json.dumps({"model": a.model, "batch": a.batch, "size": a.size, "threads": a.threads,
                      "torch": torch.__version__,
                      "inference_img_s": a.batch / t_inf, "train_img_s": a.batch / t_train,
                      "peak_rss_bytes": max(peak[0], steady), "steady_rss_bytes": steady}))


if __name__ == "__main__":
    main()
