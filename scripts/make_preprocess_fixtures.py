#!/usr/bin/python3
"""Writes the image-preprocessing fixtures of resnet-zoo (resnet-zoo/src/test/resources/preprocess/):
small synthetic test images, and what PIL + torchvision make of them, so that
dev.resnetzoo.zoo.preprocess.ImagePreprocessor can be compared with the reference pipeline.

For each case the reference is exactly what torchvision 0.14's weights transforms do to an image opened
with PIL and converted with .convert("RGB") (or .convert("L") for the one-channel cases, mode L in CASES,
normalised with a single mean and std as a Fashion-MNIST model is):
  ImageClassification(crop_size, resize_size, interpolation=...)  # resize shorter side (PIL, antialiased),
                                                                  # center crop, /255, normalise
The normalised tensor is a function of the 8-bit crop, so each case stores the 8-bit RGB crop as a
PNG (lossless, small) and this script checks that torchvision's float output equals
(crop / 255 - mean) / std to float rounding. One small case also stores torchvision's float32 output
itself (little-endian, C order [3, H, W]) to check the normalisation directly. cases.json lists the
cases with the sum and max |x| of torchvision's output.

Run: /usr/bin/python3 scripts/make_preprocess_fixtures.py   (Debian: python3-torchvision, python3-pil)
"""
import json
import os

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms._presets import ImageClassification

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resnet-zoo", "src", "test", "resources",
                   "preprocess")
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
GREY_MEAN = (0.2860,)
GREY_STD = (0.3530,)


def scene(w=320, h=240):
    """Gradients, hard edges, a fine checkerboard (aliasing), thin lines and a disc: no noise, so it compresses."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / (w - 1)
    g = 255 * y / (h - 1)
    b = 127.5 + 127.5 * np.sin(x / 9.0) * np.cos(y / 13.0)
    img = np.stack([r, g, b], axis=-1)
    # 2x2 checkerboard, a 1-pixel grid and stripes: the content antialiasing must average away
    cb = (((x // 2) + (y // 2)) % 2 == 0)
    img[20:100, 20:120][cb[20:100, 20:120]] = (250, 250, 250)
    img[20:100, 20:120][~cb[20:100, 20:120]] = (5, 10, 15)
    grid = (x % 7 == 0) | (y % 5 == 0)
    region = (slice(130, 220), slice(30, 140))
    img[region][grid[region]] = (255, 0, 0)
    img[150:230, 180:300, :] = np.where(((x[150:230, 180:300] + y[150:230, 180:300]) % 6 < 3)[..., None],
                                        (0, 0, 255), (255, 255, 0))
    disc = (x - 230) ** 2 + (y - 60) ** 2 < 40 ** 2
    img[disc] = (30, 200, 60)
    img[:, 317:, :] = 0          # dark right border: edge handling
    img[0, :, :] = 255           # white top line
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def write_images():
    s = scene()
    Image.fromarray(s, "RGB").save(os.path.join(OUT, "scene.png"), optimize=True)
    Image.fromarray(s, "RGB").save(os.path.join(OUT, "scene.jpg"), quality=90)
    # grey, odd sizes, smaller than the crops below: upscaling
    y, x = np.mgrid[0:77, 0:101].astype(np.float64)
    grey = 128 + 100 * np.sin(x / 5.0) * np.sin(y / 7.0)
    grey[30:50, 40:60] = 255
    grey[:, :3] = 0
    Image.fromarray(np.clip(np.round(grey), 0, 255).astype(np.uint8), "L").save(
        os.path.join(OUT, "grey.png"), optimize=True)
    # RGBA, portrait: convert("RGB") drops alpha without compositing
    y, x = np.mgrid[0:150, 0:100].astype(np.float64)
    rgba = np.stack([255 * x / 99, 255 - 255 * y / 149, 128 + 0 * x, 255 * ((x + y) % 50) / 49], axis=-1)
    rgba[60:90, 20:80, :3] = (200, 30, 90)
    Image.fromarray(np.clip(np.round(rgba), 0, 255).astype(np.uint8), "RGBA").save(
        os.path.join(OUT, "rgba.png"), optimize=True)
    # palette image
    p = Image.fromarray(s[::5, ::5].copy(), "RGB").quantize(colors=16, method=Image.Quantize.MEDIANCUT)
    p.save(os.path.join(OUT, "palette.png"), optimize=True)
    # 16-bit grey: PIL opens it as mode I, and convert("RGB") / convert("L") clip every value to 255
    # (no scaling to the high byte). Levels below 256 in the left half, up to 65535 in the right.
    y, x = np.mgrid[0:60, 0:90].astype(np.float64)
    g16 = np.where(x < 45, 255 * (x / 44) * (0.5 + 0.5 * np.cos(y / 6.0)), 200 + 65335 * ((x - 45) / 44) ** 2)
    g16[10:20, 50:70] = 256
    g16[40:50, 60:80] = 255
    g16 = np.clip(np.round(g16), 0, 65535)
    Image.fromarray(g16.astype(np.uint16)).save(os.path.join(OUT, "grey16.png"), optimize=True)
    # the same with a tRNS chunk: ImageIO adds an alpha band for it, PIL keeps mode I (transparency in info)
    Image.fromarray(g16.astype(np.int32), "I").save(os.path.join(OUT, "grey16-trns.png"), transparency=300)
    # random colours, every channel value: PIL's convert("L") rounding, pixel by pixel
    rng = np.random.default_rng(601)
    Image.fromarray(rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8), "RGB").save(
        os.path.join(OUT, "colours.png"))


CASES = [
    # name, image, resize, crop, interpolation, PIL mode converted to (RGB: three channels, L: one)
    ("tv_v2_scene", "scene.png", 232, 224, "BILINEAR", "RGB"),
    ("timm_scene", "scene.png", 256, 224, "BICUBIC", "RGB"),
    ("small_bilinear", "scene.png", 64, 56, "BILINEAR", "RGB"),
    ("small_bicubic", "scene.png", 64, 56, "BICUBIC", "RGB"),
    ("round_half_even", "scene.png", 99, 50, "BILINEAR", "RGB"),      # crop top (99-50)/2 = 24.5 -> 24
    ("round_half_up", "scene.png", 101, 50, "BICUBIC", "RGB"),        # crop top (101-50)/2 = 25.5 -> 26
    ("pad", "scene.png", 48, 56, "BILINEAR", "RGB"),                  # crop larger than the resized image
    ("grey_up_bilinear", "grey.png", 160, 144, "BILINEAR", "RGB"),
    ("grey_up_bicubic", "grey.png", 160, 144, "BICUBIC", "RGB"),      # overshoot clipped to [0, 255]
    ("rgba_portrait", "rgba.png", 80, 64, "BILINEAR", "RGB"),
    ("palette", "palette.png", 40, 32, "BICUBIC", "RGB"),
    ("jpeg", "scene.jpg", 116, 112, "BILINEAR", "RGB"),               # JPEG decoders differ: compared with a tolerance
    ("grey16", "grey16.png", 60, 48, "BILINEAR", "RGB"),
    ("grey16_trns", "grey16-trns.png", 60, 48, "BICUBIC", "RGB"),
    # one channel (convert("L")), one mean and std
    ("grey_colours", "colours.png", 64, 64, "BILINEAR", "L"),       # no resampling: the conversion alone
    ("grey_scene", "scene.png", 32, 28, "BILINEAR", "L"),
    ("grey_scene_bicubic", "scene.png", 99, 50, "BICUBIC", "L"),
    ("grey_grey", "grey.png", 160, 144, "BICUBIC", "L"),
    ("grey_rgba", "rgba.png", 80, 64, "BILINEAR", "L"),
    ("grey_palette", "palette.png", 40, 32, "BICUBIC", "L"),
    ("grey_grey16", "grey16-trns.png", 60, 48, "BILINEAR", "L"),
    ("grey_pad", "grey.png", 40, 48, "BILINEAR", "L"),
    ("grey_jpeg", "scene.jpg", 116, 112, "BILINEAR", "L"),
]
FLOAT_CASE = "small_bilinear"


def luma(rgb):
    """ITU-R 601-2 luma as Pillow computes it (Convert.c, L24): 16-bit fixed point, rounded."""
    r, g, b = (rgb[..., c].astype(np.int64) for c in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


def check_luma():
    """convert("L") of all 2^24 colours is the formula the Java code implements."""
    every = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([every >> 16, (every >> 8) & 255, every & 255], axis=-1).astype(np.uint8).reshape(4096, 4096, 3)
    pil = np.asarray(Image.fromarray(rgb, "RGB").convert("L"))
    assert np.array_equal(pil, luma(rgb)), "PIL's convert('L') is not L24"


def run_case(name, image, resize, crop, interp, pil_mode):
    mode = {"BILINEAR": InterpolationMode.BILINEAR, "BICUBIC": InterpolationMode.BICUBIC}[interp]
    grey = pil_mode == "L"
    mean, std = (GREY_MEAN, GREY_STD) if grey else (MEAN, STD)
    pil = Image.open(os.path.join(OUT, image)).convert(pil_mode)
    transform = ImageClassification(crop_size=crop, resize_size=resize, mean=mean, std=std, interpolation=mode)
    out = transform(pil)  # [channels, crop, crop] float32
    # The same resize + crop on the PIL image, kept as 8 bits.
    resized = torchvision.transforms.functional.resize(pil, [resize], interpolation=mode)
    small = torchvision.transforms.functional.center_crop(resized, [crop])
    u8 = np.asarray(small, dtype=np.uint8).reshape(crop, crop, -1)
    channels = len(mean)
    again = (torch.from_numpy(u8.astype(np.float32) / 255.0).permute(2, 0, 1)
             - torch.tensor(mean).view(channels, 1, 1)) / torch.tensor(std).view(channels, 1, 1)
    diff = (again - out).abs().max().item()
    assert diff < 1e-5, (name, diff)
    expected = "expected-" + name + ".png"
    Image.fromarray(u8.squeeze(-1) if grey else u8, pil_mode).save(os.path.join(OUT, expected), optimize=True)
    case = {"name": name, "image": image, "resize_size": resize, "crop_size": crop, "interpolation": interp,
            "mode": pil_mode, "mean": mean, "std": std, "resized_width": resized.size[0], "resized_height": resized.size[1],
            "expected": expected, "sum": float(out.double().sum()), "abs_max": float(out.abs().max())}
    if name == FLOAT_CASE:
        raw = "expected-" + name + ".f32"
        out.numpy().astype("<f4").tofile(os.path.join(OUT, raw))
        case["expected_float32"] = raw
    return case


def main():
    os.makedirs(OUT, exist_ok=True)
    write_images()
    check_luma()
    cases = [run_case(*c) for c in CASES]
    doc = {"generator": "scripts/make_preprocess_fixtures.py", "pillow": PIL.__version__,
           "torchvision": torchvision.__version__, "mean": MEAN, "std": STD, "cases": cases}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("%d cases, %d bytes in %s" % (len(cases), total, os.path.normpath(OUT)))


if __name__ == "__main__":
    main()
