#!/usr/bin/python3
"""Writes resnet-core/src/test/resources/reference/architectures.json: for every variant, the
parameter count, the state_dict keys with shapes, and each stage's output shape at 3x224x224,
as produced by the reference implementation (see reference_models.py).

Run: /usr/bin/python3 scripts/make_architecture_reference.py   (Debian: apt-get install python3-torchvision)
"""
import json
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import BUILDERS, build  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resnet-core", "src", "test",
                   "resources", "reference", "architectures.json")


def stage_shapes(model):
    x = torch.zeros(1, 3, 224, 224)
    shapes = {}
    with torch.no_grad():
        x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        shapes["stem"] = list(x.shape[1:])
        for i in range(1, 5):
            x = getattr(model, "layer%d" % i)(x)
            shapes["layer%d" % i] = list(x.shape[1:])
    return shapes


def main():
    torch.manual_seed(0)
    models = {}
    for name in BUILDERS:
        m = build(name).eval()
        models[name] = {
            "params": sum(p.numel() for p in m.parameters()),
            "state_dict": [[k, list(v.shape)] for k, v in m.state_dict().items()],
            "stages": stage_shapes(m),
        }
        print(name, models[name]["params"], file=sys.stderr)
    doc = {"generator": "scripts/make_architecture_reference.py", "torch": torch.__version__,
           "torchvision": torchvision.__version__, "models": models}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
