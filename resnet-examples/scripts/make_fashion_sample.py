#!/usr/bin/python3
"""Build the small Fashion-MNIST sample that resnet-examples embeds on its classpath.

Reads the full Fashion-MNIST IDX files (by default from Debian's
``dataset-fashion-mnist`` package, /usr/share/datasets/fashion-mnist) and writes a
balanced, deterministic subset as gzip'd IDX files to
``resnet-examples/src/main/resources/fashion-mnist-sample/``.

Selection: for each split, the first N images of every class in file order
(N = --train-per-class / --test-per-class), kept in their original relative
order. No randomness, and the gzip header carries no timestamp or file name,
so re-running the script reproduces the committed files byte for byte.

Standard library only:  /usr/bin/python3 resnet-examples/scripts/make_fashion_sample.py
"""

import argparse
import gzip
import io
import os
import struct
import sys

NUM_CLASSES = 10
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

SPLITS = (
    # (prefix, default examples per class)
    ("train", 100),
    ("t10k", 50),
)


def read_idx(path, expected_magic):
    """Return (dims, payload bytes) of a plain or gzip'd IDX file."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4:
        sys.exit(f"{path}: too short for an IDX header")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        sys.exit(f"{path}: magic 0x{magic:08x}, expected 0x{expected_magic:08x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    payload = raw[4 + 4 * ndim:]
    size = 1
    for d in dims:
        size *= d
    if len(payload) != size:
        sys.exit(f"{path}: payload is {len(payload)} bytes, header says {size}")
    return dims, payload


def write_idx_gz(path, magic, dims, payload):
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * len(dims), *dims)
    buf = io.BytesIO()
    # mtime=0 and no file name in the header: reproducible output.
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(header)
        gz.write(payload)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


def make_split(src, out, prefix, per_class):
    img_name = f"{prefix}-images-idx3-ubyte.gz"
    lbl_name = f"{prefix}-labels-idx1-ubyte.gz"
    (n_img, rows, cols), pixels = read_idx(os.path.join(src, img_name), IMAGES_MAGIC)
    (n_lbl,), labels = read_idx(os.path.join(src, lbl_name), LABELS_MAGIC)
    if n_img != n_lbl:
        sys.exit(f"{prefix}: {n_img} images but {n_lbl} labels")

    taken = [0] * NUM_CLASSES
    chosen = []
    for i, label in enumerate(labels):
        if label >= NUM_CLASSES:
            sys.exit(f"{prefix}: label {label} at index {i} out of range")
        if taken[label] < per_class:
            taken[label] += 1
            chosen.append(i)
            if len(chosen) == per_class * NUM_CLASSES:
                break
    if any(t < per_class for t in taken):
        sys.exit(f"{prefix}: not enough examples per class: {taken}")

    image_bytes = rows * cols
    out_pixels = b"".join(pixels[i * image_bytes:(i + 1) * image_bytes] for i in chosen)
    out_labels = bytes(labels[i] for i in chosen)
    n = len(chosen)
    write_idx_gz(os.path.join(out, img_name), IMAGES_MAGIC, (n, rows, cols), out_pixels)
    write_idx_gz(os.path.join(out, lbl_name), LABELS_MAGIC, (n,), out_labels)
    print(f"{prefix}: {n} examples ({per_class} per class), last source index {chosen[-1]}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "src", "main", "resources", "fashion-mnist-sample")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--src", default="/usr/share/datasets/fashion-mnist",
                   help="directory holding the four full Fashion-MNIST .gz IDX files")
    p.add_argument("--out", default=os.path.normpath(default_out), help="output directory")
    p.add_argument("--train-per-class", type=int, default=SPLITS[0][1])
    p.add_argument("--test-per-class", type=int, default=SPLITS[1][1])
    args = p.parse_args()

    os.makedirs(args.out, exist_ok=True)
    make_split(args.src, args.out, "train", args.train_per_class)
    make_split(args.src, args.out, "t10k", args.test_per_class)
    total = 0
    for name in sorted(os.listdir(args.out)):
        if name.endswith(".gz"):
            size = os.path.getsize(os.path.join(args.out, name))
            total += size
            print(f"  {name}: {size} bytes")
    print(f"  total: {total} bytes")


if __name__ == "__main__":
    main()
