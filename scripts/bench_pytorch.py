#!/usr/bin/python3
"""PyTorch side of the ResNet benchmark: images/s for inference and for a training step (Adam)
of a torchvision model on random data, with the same batch and threads as the Java side.

Prints one JSON line: {"model":..., "batch":..., "inference_img_s":..., "train_img_s":...}.
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


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


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

    t_train = timed(step, a.warmup, a.iters)
    print(json.dumps({"model": a.model, "batch": a.batch, "size": a.size, "threads": a.threads,
                      "torch": torch.__version__,
                      "inference_img_s": a.batch / t_inf, "train_img_s": a.batch / t_train}))


if __name__ == "__main__":
    main()
