#!/usr/bin/python3
"""Numeric conformance fixtures: PyTorch checkpoints with the logits PyTorch computes from them.

For every model named on the command line this writes a directory OUT/<model>/ holding

  model.pth       the state_dict, torch.save (zip format), float32, num_batches_tracked included
  input.npy       a fixed random input batch, float32 NCHW
  logits.npy      the model's output on it in eval mode, float32 [batch, classes]
  manifest.json   the Java ResNetSpec parameters, the batch shape, the tolerance and the seed

with weights that are random but reproducible (torch.manual_seed): convolution and linear layers
keep torchvision's initialisation, and every BatchNorm gets a random weight (U(0.5, 1.5), or
U(0.1, 0.4) at the end of a residual branch), bias N(0, 0.1), and running statistics that are
randomly perturbed real ones (mean + N(0, 0.1) * std, variance * U(0.5, 2); see
randomise_batch_norms), so that the eval-mode BN arithmetic (mean, variance, eps) is really
exercised and a swapped gamma/beta or mean/var shows in the logits, while the logits of even the
deepest variants stay of order 1 and well conditioned.

Models are the twelve reference variants of reference_models.py (resnet18 ... seresnext101_32x4d,
full ImageNet width, 1000 classes) or the SMALL fixtures below (tiny_*: narrow stages, few blocks,
small inputs, committed to the repository so the Java tests need no Python). `small` stands for all
of the SMALL fixtures. With --extras MODEL that model also gets

  model.safetensors        the same tensors as safetensors (written here with struct + json)
  model_module.pth         the same tensors under DataParallel's "module." prefix
  model_mixed.safetensors  the float tensors stored in turn as F64, F16, BF16 and F32
  logits_mixed.npy         PyTorch's logits with the weights rounded exactly as in that file

OUT/index.json lists the fixture directories present (merged with an existing index).

Usage:
  /usr/bin/python3 scripts/make_conformance_fixtures.py --extras tiny_resnext \
      resnet-zoo/src/test/resources/conformance small          # the committed fixtures
  /usr/bin/python3 scripts/make_conformance_fixtures.py --size 128 /tmp/conf resnet50 ...

Needs Debian's python3-torchvision (torch 1.13, torchvision 0.14): apt-get install python3-torchvision
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import BUILDERS, SEBottleneck, build  # noqa: E402

#: Java tolerance: max |dl4j - torch| <= RELATIVE * max |torch| + ABSOLUTE
RELATIVE = 1e-4
ABSOLUTE = 1e-5


class NarrowResNet(ResNet):
    """torchvision's ResNet with free stage widths, stem width, stage count, input channels and stem.

    The blocks, _make_layer (and so the downsample rule, groups and width_per_group) are
    torchvision's own; only the hard-coded 3 -> 64 stem and the 64/128/256/512 widths of
    ResNet.__init__ are parameters here. small_stem: 3x3 stride-1 conv + BN + ReLU, no max pool.
    """

    def __init__(self, block, layers, widths, stem_width=64, groups=1, width_per_group=64,
                 num_classes=10, in_chans=3, small_stem=False):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = stem_width
        self.dilation = 1
        self.groups = groups
        self.base_width = width_per_group
        if small_stem:
            self.conv1 = nn.Conv2d(in_chans, stem_width, kernel_size=3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_chans, stem_width, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.num_stages = len(layers)
        for i, (w, d) in enumerate(zip(widths, layers)):
            setattr(self, "layer%d" % (i + 1), self._make_layer(block, w, d, stride=1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.num_stages):
            x = getattr(self, "layer%d" % (i + 1))(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


BLOCKS = {"BASIC": BasicBlock, "BOTTLENECK": Bottleneck}

#: The committed fixtures: together they cover every feature of ResNetSpec. Each entry is the Java
#: spec (ResNetSpec field names) and the batch size; the Python model is built from the same values.
SMALL = {
    # BASIC blocks, ImageNet stem (7x7/2 conv, 3x3/2 max pool), identity and downsample shortcuts,
    # narrow stem, odd non-square input (padding and floor division in every stride-2 layer)
    "tiny_basic": dict(block="BASIC", depths=[2, 1, 1, 1], widths=[8, 16, 24, 32], stemWidth=8,
                       inputChannels=3, inputHeight=45, inputWidth=38, numClasses=10),
    # plain bottleneck (expansion 4): the first block of stage 1 needs a projection shortcut
    "tiny_bottleneck": dict(block="BOTTLENECK", depths=[2, 1, 1, 1], widths=[8, 8, 16, 16], stemWidth=16,
                            inputChannels=3, inputHeight=40, inputWidth=48, numClasses=10),
    # ResNeXt: grouped 3x3 convolution, cardinality 4, width per group 8 (inner width = planes/2)
    "tiny_resnext": dict(block="BOTTLENECK", depths=[1, 2, 1, 1], widths=[8, 16, 16, 16], stemWidth=16,
                         cardinality=4, baseWidth=16, inputChannels=3, inputHeight=33, inputWidth=33,
                         numClasses=10),
    # Wide ResNet: width per group 128 (inner width = 2 x planes)
    "tiny_wide": dict(block="BOTTLENECK", depths=[1, 1, 2, 1], widths=[4, 8, 8, 8], stemWidth=16,
                      baseWidth=128, inputChannels=3, inputHeight=32, inputWidth=32, numClasses=10),
    # SE-ResNeXt: grouped conv + timm squeeze-and-excitation (rd = make_divisible(c / 16, 8))
    "tiny_seresnext": dict(block="BOTTLENECK", depths=[2, 1, 1, 1], widths=[8, 16, 16, 32], stemWidth=16,
                           cardinality=8, baseWidth=8, seReduction=16, inputChannels=3, inputHeight=32,
                           inputWidth=36, numClasses=10),
    # small stem (3x3/1 conv, BN, ReLU, no max pool), 1 input channel, 3 stages, Fashion-MNIST size
    "tiny_small_stem": dict(block="BASIC", depths=[1, 1, 2], widths=[8, 16, 16], stemWidth=8, stem="SMALL",
                            inputChannels=1, inputHeight=28, inputWidth=28, numClasses=10),
}

SPEC_DEFAULTS = dict(cardinality=1, baseWidth=64, seReduction=0, stem="IMAGENET")


def small_spec(name):
    spec = dict(SPEC_DEFAULTS)
    spec.update(SMALL[name])
    return spec


def build_small(spec):
    block = BLOCKS[spec["block"]]
    if spec["seReduction"]:
        if spec["seReduction"] != 16 or block is not Bottleneck:
            raise ValueError("SE is available as timm's SE bottleneck with reduction 16 only")
        block = SEBottleneck
    return NarrowResNet(block, spec["depths"], spec["widths"], stem_width=spec["stemWidth"],
                        groups=spec["cardinality"], width_per_group=spec["baseWidth"],
                        num_classes=spec["numClasses"], in_chans=spec["inputChannels"],
                        small_stem=spec["stem"] == "SMALL")


def self_check():
    """NarrowResNet with torchvision's widths must be torchvision's ResNet, key for key."""
    ours = NarrowResNet(Bottleneck, [3, 4, 6, 3], [64, 128, 256, 512], groups=32, width_per_group=4,
                        num_classes=1000).state_dict()
    theirs = torchvision.models.resnext50_32x4d().state_dict()
    a = [(k, tuple(v.shape)) for k, v in ours.items()]
    b = [(k, tuple(v.shape)) for k, v in theirs.items()]
    if a != b:
        raise AssertionError("NarrowResNet does not reproduce torchvision's resnext50_32x4d state_dict")


def randomise_batch_norms(model, calibration, gen):
    """Random BN weight, bias, running mean and variance, at a scale that keeps deep nets tame.

    Running statistics drawn independently of the activations make plain ResNet-152's logits grow
    to ~1e8 through 50 residual additions (a relative tolerance then no longer sees small terms such
    as the classifier bias). Statistics that match the activations, with BN weights around 1, make
    a random 50-block network so sensitive that PyTorch's own float32 logits are off by 7e-5
    relative to float64 (measured at 2x3x128x128). So, as in trained networks, each residual branch
    ends in a BN with a small weight, U(0.1, 0.4) (float32 error then ~3e-6; every other BN weight
    is U(0.5, 1.5)); biases are N(0, 0.1); the running statistics start from the real ones (one
    train-mode pass over a calibration batch) and are then perturbed at random: running_var is
    floored at a quarter of the layer's mean (no division by sqrt(eps) for dead channels), then
    running_mean += N(0, 0.1) * std and running_var *= U(0.5, 2). Every BN thus normalises with
    statistics that are not the batch's, and logits stay of order 1.
    """
    last = set()
    for m in model.modules():
        if isinstance(m, Bottleneck):
            last.add(id(m.bn3))
        elif isinstance(m, BasicBlock):
            last.add(id(m.bn2))
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            n = m.num_features
            if id(m) in last:
                m.weight.copy_(torch.rand(n, generator=gen) * 0.3 + 0.1)
            else:
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(n, generator=gen) * 0.1)
            m.reset_running_stats()
            m.momentum = None            # cumulative average: after one batch, exactly its statistics
        model.train()
        model(calibration)
        model.eval()
        for m in bns:
            n = m.num_features
            m.running_var.clamp_(min=0.25 * float(m.running_var.mean()))
            m.running_mean.add_(torch.randn(n, generator=gen) * 0.1 * m.running_var.sqrt())
            m.running_var.mul_(torch.rand(n, generator=gen) * 1.5 + 0.5)
            m.momentum = 0.1
            m.num_batches_tracked.fill_(int(torch.randint(1, 10000, (1,), generator=gen)))


# ---------------------------------------------------------------------------- safetensors


ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
             torch.int64: "I64"}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors):
    """The safetensors layout: u64 LE header length, JSON header (padded to 8 bytes), data."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------- fixtures


def forward(model, x):
    with torch.no_grad():
        return model(x)


def make(name, out_root, batch, size, seed, extras, fp64_check):
    started = time.time()
    if name in SMALL:
        spec = small_spec(name)
        java = {"spec": spec}
        shape = [batch, spec["inputChannels"], spec["inputHeight"], spec["inputWidth"]]
    elif name in BUILDERS:
        java = {"variant": name, "inputChannels": 3, "inputHeight": size[0], "inputWidth": size[1],
                "numClasses": 1000}
        shape = [batch, 3, size[0], size[1]]
    else:
        raise SystemExit("unknown model '%s'; expected 'small', one of %s or one of %s"
                         % (name, ", ".join(SMALL), ", ".join(BUILDERS)))
    torch.manual_seed(seed)
    model = build_small(java["spec"]) if name in SMALL else build(name)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(*shape, generator=gen)
    randomise_batch_norms(model, torch.randn(*shape, generator=gen), gen)
    logits = forward(model, x)

    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    sd = model.state_dict()
    torch.save(sd, os.path.join(d, "model.pth"))
    np.save(os.path.join(d, "input.npy"), x.numpy().astype("<f4"))
    np.save(os.path.join(d, "logits.npy"), logits.numpy().astype("<f4"))

    manifest = dict(java)
    manifest.update({
        "name": name,
        "batch": shape,
        "seed": seed,
        "tolerance": {"relative": RELATIVE, "absolute": ABSOLUTE,
                      "rule": "max|java - logits| <= relative * max|logits| + absolute"},
        "maxAbsLogit": float(logits.abs().max()),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "generator": "scripts/make_conformance_fixtures.py",
        "files": ["model.pth", "input.npy", "logits.npy"],
    })
    if fp64_check:
        # PyTorch's own float32 rounding error, for scale: the same model in float64
        ref = forward(model.double(), x.double())
        model.float()
        manifest["torchFloat32Error"] = float((logits.double() - ref).abs().max() / ref.abs().max())

    if extras:
        write_safetensors(os.path.join(d, "model.safetensors"), sd)
        torch.save({"module." + k: v for k, v in sd.items()}, os.path.join(d, "model_module.pth"))
        cycle = [torch.float64, torch.float16, torch.bfloat16, torch.float32]
        mixed = {}
        i = 0
        for k, v in sd.items():
            if v.is_floating_point():
                mixed[k] = v.to(cycle[i % len(cycle)])
                i += 1
            else:
                mixed[k] = v
        write_safetensors(os.path.join(d, "model_mixed.safetensors"), mixed)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in mixed.items()})
        np.save(os.path.join(d, "logits_mixed.npy"), forward(model, x).numpy().astype("<f4"))
        manifest["files"] += ["model.safetensors", "model_module.pth", "model_mixed.safetensors",
                              "logits_mixed.npy"]

    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("%s: %d tensors, max|logit| %.4g, %.1f s%s" % (
        name, len(sd), manifest["maxAbsLogit"], time.time() - started,
        ", torch fp32 vs fp64 %.2g" % manifest["torchFloat32Error"] if fp64_check else ""), file=sys.stderr)


def update_index(out_root, names):
    path = os.path.join(out_root, "index.json")
    present = []
    if os.path.exists(path):
        with open(path) as f:
            present = json.load(f).get("fixtures", [])
    for n in names:
        if n not in present:
            present.append(n)
    with open(path, "w") as f:
        json.dump({"fixtures": present}, f, indent=2)
        f.write("\n")


def parse_size(text):
    parts = text.lower().split("x")
    if len(parts) == 1:
        parts = parts * 2
    return int(parts[0]), int(parts[1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="output directory (one sub-directory per model)")
    p.add_argument("models", nargs="+", help="'small', tiny_* fixture names or reference variant names")
    p.add_argument("--batch", type=int, default=2, help="batch size (default 2)")
    p.add_argument("--size", type=parse_size, default=(224, 224),
                   help="input HxW of the reference variants (default 224x224; tiny_* fix their own)")
    p.add_argument("--seed", type=int, default=1234, help="torch.manual_seed (default 1234)")
    p.add_argument("--extras", action="append", default=[], metavar="MODEL",
                   help="also write safetensors, module.-prefixed and mixed-precision copies for MODEL "
                        "(repeatable; 'all' for every model)")
    p.add_argument("--no-fp64", action="store_true", help="skip the float64 rerun that measures torch's own error")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's choice)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = []
    for m in args.models:
        names.extend(SMALL) if m == "small" else names.append(m)
    if any(n in SMALL for n in names):
        self_check()
    os.makedirs(args.out, exist_ok=True)
    for n in names:
        make(n, args.out, args.batch, args.size, args.seed, n in args.extras or "all" in args.extras,
             not args.no_fp64)
    update_index(args.out, names)


if __name__ == "__main__":
    main()
