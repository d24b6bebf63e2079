#!/usr/bin/python3
"""Exports a torchvision model (random weights, eval mode) to ONNX for the ONNX Runtime side of
`./resnet bench --inference`, with dynamic batch, height and width.

Run with Debian's python3-torchvision and python3-onnx:
/usr/bin/python3 scripts/export_onnx.py resnet50 /tmp/resnet50.onnx
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import build  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--opset", type=int, default=13)
    a = p.parse_args()
    torch.manual_seed(0)
    model = build(a.model).eval()
    x = torch.randn(1, 3, a.size, a.size)
    with torch.no_grad():
        torch.onnx.export(model, x, a.out, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}},
                          opset_version=a.opset, do_constant_folding=True)
    print(a.out)


if __name__ == "__main__":
    main()
