"""Reference ResNet family built with Debian's python3-torchvision (torch 1.13, torchvision 0.14).

torchvision provides ResNet, ResNeXt and Wide ResNet directly. timm is not packaged in Debian,
so SE-ResNeXt is torchvision's Bottleneck with a squeeze-and-excitation module exactly as timm's
`SEModule` (after bn3, before the residual add; `fc1`/`fc2` 1x1 convolutions with bias, rd
channels = make_divisible(channels / 16, 8)), under timm's key names (`layerN.M.se.fc1.weight`).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from torchvision.models.resnet import Bottleneck, ResNet


def make_divisible(v, divisor=8, min_value=None, round_limit=0.0):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


class SEModule(nn.Module):
    def __init__(self, channels, rd_ratio=1.0 / 16):
        super().__init__()
        rd = make_divisible(channels * rd_ratio, 8, round_limit=0.0)
        self.fc1 = nn.Conv2d(channels, rd, kernel_size=1, bias=True)
        self.fc2 = nn.Conv2d(rd, channels, kernel_size=1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = self.fc2(F.relu(self.fc1(s)))
        return x * torch.sigmoid(s)


class SEBottleneck(Bottleneck):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.se = SEModule(self.conv3.out_channels)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.se(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


def seresnext(layers, **kwargs):
    return ResNet(SEBottleneck, layers, groups=32, width_per_group=4, **kwargs)


BUILDERS = {
    "resnet18": tvm.resnet18,
    "resnet34": tvm.resnet34,
    "resnet50": tvm.resnet50,
    "resnet101": tvm.resnet101,
    "resnet152": tvm.resnet152,
    "resnext50_32x4d": tvm.resnext50_32x4d,
    "resnext101_32x8d": tvm.resnext101_32x8d,
    "resnext101_64x4d": tvm.resnext101_64x4d,
    "wide_resnet50_2": tvm.wide_resnet50_2,
    "wide_resnet101_2": tvm.wide_resnet101_2,
    "seresnext50_32x4d": lambda **kw: seresnext([3, 4, 6, 3], **kw),
    "seresnext101_32x4d": lambda **kw: seresnext([3, 4, 23, 3], **kw),
}


def build(name, num_classes=1000):
    return BUILDERS[name](num_classes=num_classes)
