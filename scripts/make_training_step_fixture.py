"""Training-step accuracy fixture: one SGD step of the fashion-fast network in PyTorch, float64 and float32.

Writes OUT/ with

  model.pth        the initial state_dict (float32; torchvision init, seed 0)
  input.npy        32 Fashion-MNIST training images, float32 [32, 1, 28, 28], scaled to [0, 1] and
                   normalised with the data set's mean 0.2860 and std 0.3530
  labels.npy       their classes, float32 [32]
  update64.pth     the float64 reference: every trainable parameter's change after one step
                   (float64 tensors: the float64 model, the float64 input, the same step)
  manifest.json    the recipe, and PyTorch float32's own error against that reference: for each
                   parameter ||update32 - update64|| / ||update64||, their median and maximum

The network is this project's fashion-fast table (basic blocks 2,2,2,2, widths 16/32/64/128, stem
width 16, 3x3 stride-1 stem without max pool, 1 input channel, 10 classes). The step: train mode
(batch statistics), mean cross-entropy, plain SGD with lr 0.01, no momentum or weight decay.

Usage: /usr/bin/python3 scripts/make_training_step_fixture.py resnet-zoo/src/test/resources/training-step
Needs python3-torchvision and dataset-fashion-mnist (apt-get install python3-torchvision dataset-fashion-mnist).
"""
import copy
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_conformance_fixtures import NarrowResNet  # noqa: E402

DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
BATCH = 32
LR = 0.01


def fashion(n):
    with gzip.open(os.path.join(DATA, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)[: n * 784].reshape(n, 1, 28, 28)
    with gzip.open(os.path.join(DATA, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    x = ((images.astype(np.float32) / 255.0) - 0.2860) / 0.3530
    return x.astype(np.float32), labels.astype(np.int64)


def step(model, x, y):
    model.train()
    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    with torch.no_grad():
        for p in model.parameters():
            p -= LR * p.grad
    return float(loss), {k: (p.detach() - before[k]) for k, p in model.named_parameters()}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = NarrowResNet(BasicBlock, [2, 2, 2, 2], [16, 32, 64, 128], stem_width=16, num_classes=10,
                         in_chans=1, small_stem=True)
    torch.save(model.state_dict(), os.path.join(out, "model.pth"))
    x, y = fashion(BATCH)
    np.save(os.path.join(out, "input.npy"), x)
    np.save(os.path.join(out, "labels.npy"), y.astype(np.float32))

    m64 = copy.deepcopy(model).double()
    loss64, u64 = step(m64, torch.from_numpy(x).double(), torch.from_numpy(y))
    m32 = copy.deepcopy(model)
    loss32, u32 = step(m32, torch.from_numpy(x), torch.from_numpy(y))
    torch.save({k: v.contiguous() for k, v in u64.items()}, os.path.join(out, "update64.pth"))
    errors = {k: float((u32[k].double() - u64[k]).norm() / u64[k].norm()) for k in u64}
    e = np.array(list(errors.values()))
    manifest = dict(
        recipe=dict(table="fashion-fast", depths=[2, 2, 2, 2], widths=[16, 32, 64, 128], stemWidth=16,
                    stem="SMALL", inputChannels=1, inputHeight=28, inputWidth=28, numClasses=10,
                    batch=BATCH, optimizer="sgd", lr=LR, torch=torch.__version__,
                    threads=torch.get_num_threads()),
        loss64=loss64, loss32=loss32,
        pytorchFloat32=dict(median=float(np.median(e)), max=float(e.max()),
                            maxParam=max(errors, key=errors.get)),
    )
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(json.dumps(manifest["pytorchFloat32"]), "loss", loss64, loss32)


if __name__ == "__main__":
    main()
