#!/usr/bin/python3
"""Writes the pretrained-weights registry of resnet-zoo from installed metadata, so that no figure
is typed by hand:

  resnet-zoo/src/main/resources/dev/resnetzoo/zoo/registry/weights.json
  resnet-zoo/src/main/resources/dev/resnetzoo/zoo/registry/imagenet1k-labels.txt

Sources
- torchvision (Debian's python3-torchvision 0.14.1): every weights enum of the ResNet family
  (`ResNet50_Weights.IMAGENET1K_V2`, ...): URL, num_params, ImageNet-1K acc@1/acc@5, transforms
  (`ImageClassification` crop/resize size, mean, std, interpolation), categories and DEFAULT.
  torchvision publishes no full SHA-256: the file name carries its first hex digits, which is what
  `torch.hub.load_state_dict_from_url(check_hash=True)` checks (torch.hub.HASH_REGEX
  `-([a-f0-9]*)\\.`, compared with `digest[:len(hash_prefix)]`). The registry stores that prefix.
  File sizes are not published in the metadata and are left unknown (-1).
- timm (not packaged in Debian): a small table below, each figure with its source.
- GMACs: counted here for every architecture (convolutions and the classifier, multiply-accumulates
  for one 3x224x224 image) on scripts/reference_models.py, the same definition as
  dev.resnetzoo.core.Summary (which the Java tests compare with).

The Java side binds weights.json to records that mirror it field for field
(resnet-zoo .../registry/RegistryData.java) and refuses unknown fields: change both together.

Run: /usr/bin/python3 scripts/make_registry.py   (Debian: apt-get install python3-torchvision)
"""
import json
import os
import re
import sys

import torch
import torchvision
import torchvision.models as tvm
from torchvision.models._meta import _IMAGENET_CATEGORIES
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from reference_models import BUILDERS, build  # noqa: E402

OUT_DIR = os.path.join(HERE, "..", "resnet-zoo", "src", "main", "resources", "dev", "resnetzoo", "zoo", "registry")
LABELS_FILE = "imagenet1k-labels.txt"

# torchvision builder name -> weights enum
TORCHVISION = {
    "resnet18": tvm.ResNet18_Weights,
    "resnet34": tvm.ResNet34_Weights,
    "resnet50": tvm.ResNet50_Weights,
    "resnet101": tvm.ResNet101_Weights,
    "resnet152": tvm.ResNet152_Weights,
    "resnext50_32x4d": tvm.ResNeXt50_32X4D_Weights,
    "resnext101_32x8d": tvm.ResNeXt101_32X8D_Weights,
    "resnext101_64x4d": tvm.ResNeXt101_64X4D_Weights,
    "wide_resnet50_2": tvm.Wide_ResNet50_2_Weights,
    "wide_resnet101_2": tvm.Wide_ResNet101_2_Weights,
}
# timm's tag suffix for torchvision's enum members (timm names them so in its results tables:
# resnet50.tv_in1k, resnet50.tv2_in1k, resnext101_64x4d.tv_in1k).
TV_SUFFIX = {"IMAGENET1K_V1": "tv_in1k", "IMAGENET1K_V2": "tv2_in1k"}
TV_LICENSE = "BSD-3-Clause"
TV_LICENSE_NOTE = ("torchvision's license (github.com/pytorch/vision, LICENSE); torchvision's README adds that "
                   "pretrained weights may carry terms of the data they were trained on (ImageNet)")

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]

# timm weights, written by hand. Source for every figure below: github.com/huggingface/pytorch-image-models
# at commit aa4b5850c1543fa488abf260f18390eda46cf85d:
#   timm/models/resnet.py default_cfgs: 'seresnext50_32x4d.racm_in1k' is _ttcfg (crop_pct 0.875,
#     interpolation bicubic, ImageNet mean/std, input 224; test_input_size 288 is not used here),
#     'seresnext101_32x4d.gluon_in1k' is _gcfg (crop_pct 0.875, bicubic); both hf_hub_id 'timm/', and
#     _cfg sets 'license': 'apache-2.0'.
#   timm/data/transforms_factory.py transforms_imagenet_eval: Resize(floor(224 / 0.875) = 256) of the
#     shorter side, CenterCrop(224).
#   results/results-imagenet.csv (ImageNet-1k val at img_size 224):
#     seresnext50_32x4d.racm_in1k,224,81.268,18.732,95.624,4.376,27.56,0.875,bicubic
#     seresnext101_32x4d.gluon_in1k,224,80.886,19.114,95.268,4.732,48.96,0.875,bicubic
#   timm/models/_hub.py: HF_SAFE_WEIGHTS_NAME = "model.safetensors" (the file name timm loads from a
#     hub repository first).
# Not verified here (no access to the hub from this machine): that each hub repository holds
# model.safetensors under that name, its size, and its SHA-256. No hash is recorded, so the Java
# registry refuses to download these files unless the user supplies a SHA-256.
TIMM_SOURCE = ("timm (github.com/huggingface/pytorch-image-models @ aa4b5850): timm/models/resnet.py default_cfgs, "
               "results/results-imagenet.csv")
TIMM = [
    {
        "tag": "seresnext50_32x4d.racm_in1k",
        "architecture": "seresnext50_32x4d",
        "aliases": ["timm/seresnext50_32x4d.racm_in1k"],
        "url": "https://huggingface.co/timm/seresnext50_32x4d.racm_in1k/resolve/main/model.safetensors",
        "acc1": 81.268, "acc5": 95.624,
        "resize_size": 256, "crop_size": 224, "interpolation": "BICUBIC",
        "recipe": "timm RandAugment + cosine LR ('racm'), trained by timm",
        "notes": ("hub file name from timm's HF_SAFE_WEIGHTS_NAME, not checked against the hub listing; "
                  "size and SHA-256 unknown (pass a SHA-256 or place the file in the cache by hand)"),
    },
    {
        "tag": "seresnext101_32x4d.gluon_in1k",
        "architecture": "seresnext101_32x4d",
        "aliases": ["timm/seresnext101_32x4d.gluon_in1k", "gluon_seresnext101_32x4d"],
        "url": "https://huggingface.co/timm/seresnext101_32x4d.gluon_in1k/resolve/main/model.safetensors",
        "acc1": 80.886, "acc5": 95.268,
        "resize_size": 256, "crop_size": 224, "interpolation": "BICUBIC",
        "recipe": "GluonCV weights (cv.gluon.ai model zoo) ported by timm",
        "notes": ("hub file name from timm's HF_SAFE_WEIGHTS_NAME, not checked against the hub listing; "
                  "size and SHA-256 unknown (pass a SHA-256 or place the file in the cache by hand)"),
    },
]


def count_macs(model):
    """Multiply-accumulates of Conv2d and Linear layers for one 3x224x224 image."""
    total = [0]

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total[0] += out.numel() // out.shape[0] * k

    def linear_hook(m, inp, out):
        total[0] += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, torch.nn.Linear):
            m.register_forward_hook(linear_hook)
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 224, 224))
    return total[0]


def interpolation_name(mode):
    return {InterpolationMode.BILINEAR: "BILINEAR", InterpolationMode.BICUBIC: "BICUBIC"}[mode]


def hash_prefix(url):
    name = url.rsplit("/", 1)[1]
    m = torch.hub.HASH_REGEX.search(name)
    if not m or len(m.group(1)) < 8:
        raise SystemExit("no hash prefix of 8+ hex digits in " + url)
    return m.group(1)


def torchvision_entries(arch, enum, macs, params):
    default = enum.DEFAULT
    entries = []
    for w in enum:  # unique members only: DEFAULT is an alias
        meta = w.meta
        if meta["categories"] != _IMAGENET_CATEGORIES:
            raise SystemExit("%s.%s has other categories than ImageNet-1K" % (enum.__name__, w.name))
        if meta["num_params"] != params:
            raise SystemExit("%s.%s: num_params %d but the architecture has %d"
                             % (enum.__name__, w.name, meta["num_params"], params))
        t = w.transforms()
        metrics = meta["_metrics"]["ImageNet-1K"]
        aliases = ["%s.%s" % (enum.__name__, w.name)]
        if w is default:
            aliases.append("%s.DEFAULT" % enum.__name__)
        entries.append({
            "tag": "%s.%s" % (arch, TV_SUFFIX[w.name]),
            "aliases": aliases,
            "architecture": arch,
            "url": w.url,
            "file_name": w.url.rsplit("/", 1)[1],
            "sha256": hash_prefix(w.url),
            "size": -1,
            "format": "PYTORCH",
            "num_classes": len(meta["categories"]),
            "labels": "imagenet-1k",
            "preprocessing": {
                "resize_size": t.resize_size[0],
                "crop_size": t.crop_size[0],
                "interpolation": interpolation_name(t.interpolation),
                "mean": list(t.mean),
                "std": list(t.std),
            },
            "acc1": metrics["acc@1"],
            "acc5": metrics["acc@5"],
            "params": meta["num_params"],
            "gmacs": round(macs / 1e9, 3),
            "license": TV_LICENSE,
            "license_note": TV_LICENSE_NOTE,
            "default": w is default,
            "source": "torchvision %s %s.%s" % (torchvision.__version__.split("+")[0], enum.__name__, w.name),
            "recipe": meta["recipe"],
            "notes": "SHA-256 prefix from the file name (as torch.hub check_hash); full hash and size not published",
        })
    return entries


def timm_entries(row, macs, params):
    return {
        "tag": row["tag"],
        "aliases": row["aliases"],
        "architecture": row["architecture"],
        "url": row["url"],
        "file_name": row["tag"] + ".safetensors",   # the hub's name (model.safetensors) is the same for every model
        "sha256": None,
        "size": -1,
        "format": "SAFETENSORS",
        "num_classes": 1000,
        "labels": "imagenet-1k",
        "preprocessing": {
            "resize_size": row["resize_size"],
            "crop_size": row["crop_size"],
            "interpolation": row["interpolation"],
            "mean": IMAGENET_MEAN,
            "std": IMAGENET_STD,
        },
        "acc1": row["acc1"],
        "acc5": row["acc5"],
        "params": params,
        "gmacs": round(macs / 1e9, 3),
        "license": "Apache-2.0",
        "license_note": "timm's pretrained config for this model ('license': 'apache-2.0')",
        "default": True,
        "source": TIMM_SOURCE,
        "recipe": row["recipe"],
        "notes": row["notes"],
    }


def main():
    torch.manual_seed(0)
    entries = []
    for arch in BUILDERS:
        model = build(arch)
        params = sum(p.numel() for p in model.parameters())
        macs = count_macs(model)
        print("%-20s params %11d GMACs %.3f" % (arch, params, macs / 1e9), file=sys.stderr)
        if arch in TORCHVISION:
            entries.extend(torchvision_entries(arch, TORCHVISION[arch], macs, params))
        for row in TIMM:
            if row["architecture"] == arch:
                entries.append(timm_entries(row, macs, params))
    for arch in BUILDERS:
        defaults = [e["tag"] for e in entries if e["architecture"] == arch and e["default"]]
        if len(defaults) != 1:
            raise SystemExit("%s: expected exactly one default, got %s" % (arch, defaults))

    doc = {
        "generator": "scripts/make_registry.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "labels": {"imagenet-1k": LABELS_FILE},
        "entries": entries,
    }
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "weights.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(OUT_DIR, LABELS_FILE), "w", encoding="utf-8") as f:
        for name in _IMAGENET_CATEGORIES:
            if "\n" in name or name != name.strip():
                raise SystemExit("unexpected category name %r" % name)
            f.write(name + "\n")
    print("%d entries" % len(entries), file=sys.stderr)


if __name__ == "__main__":
    main()
