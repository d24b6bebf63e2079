#!/usr/bin/python3
"""Writes the small test fixtures of dev.resnetzoo.zoo.io into
resnet-zoo/src/test/resources/io/ (committed, so the Java tests need no Python).

Run with Debian's interpreter, which has torch 1.13:

    /usr/bin/python3 resnet-zoo/scripts/make_io_fixtures.py

What it writes:
  * PyTorch checkpoints in the zip format and the legacy format (float32, float16,
    bfloat16, float64, int64/32/16/8, uint8, bool, scalars, an empty tensor, a
    Parameter, and views of one shared storage: transposed, sliced with an offset,
    strided, expanded), nested {"state_dict": ...} / {"model": ...} files,
    "module."-prefixed keys, a pickled nn.Module.
  * safetensors files written by hand with struct + json (the safetensors package
    is not needed), one valid and many invalid ones.
  * malicious pickles whose REDUCE would call os.system, assembled byte by byte.
    They are only written, never loaded here.
  * plain pickles of every protocol (0-5) for the pickle interpreter tests (their
    expected canonical text, see canon(), is stored as a SHA-256 to keep it small).
  * Regenerating gives the same bytes except for the legacy files, whose storage
    keys are memory addresses chosen by torch.
  * expected.json: for every valid file, its keys in order and every element of
    every tensor (float32 bit patterns after conversion, int64 values for
    integer and bool tensors), so the Java tests compare exactly.
"""
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "io")
# The command the malicious fixtures would run. The Java tests check this file never appears.
PWNED_MARKER = "/tmp/resnetzoo-io-pwned-marker"
CMD = ("touch " + PWNED_MARKER).encode()

DTYPE_NAMES = {
    torch.float32: "FLOAT32", torch.float16: "FLOAT16", torch.bfloat16: "BFLOAT16",
    torch.float64: "FLOAT64", torch.int64: "INT64", torch.int32: "INT32", torch.int16: "INT16",
    torch.int8: "INT8", torch.uint8: "UINT8", torch.bool: "BOOL",
}
ST_CODES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def path(name):
    return os.path.join(OUT, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def random_bits(gen, n, exp_mask, mant_mask, bits_dtype, float_dtype):
    """n random bit patterns of a 16-bit float type, without NaNs (their payloads are
    not what this test is about); the canonical quiet NaN is added explicitly."""
    vals = []
    while len(vals) < n:
        b = int(torch.randint(0, 1 << 16, (1,), generator=gen))
        if (b & exp_mask) == exp_mask and (b & mant_mask) != 0:
            continue
        vals.append(b - (1 << 16) if b >= 1 << 15 else b)
    return torch.tensor(vals, dtype=bits_dtype).view(float_dtype)


def all_dtypes_state_dict():
    gen = torch.Generator().manual_seed(1234)
    inf, nan = float("inf"), float("nan")
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 1.0
    half_base = (torch.arange(6, dtype=torch.float32) / 3).to(torch.float16).reshape(2, 3)
    sd = collections.OrderedDict()
    sd["f32"] = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.14159, 1e-45, 3.4028235e38, inf, -inf, nan],
                             dtype=torch.float32)
    sd["conv.weight"] = torch.randn(2, 3, 3, 3, generator=gen)
    sd["f16"] = torch.cat([
        torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0 ** -14, 2.0 ** -24, 1023 * 2.0 ** -24, 1 / 3,
                      inf, -inf, nan], dtype=torch.float16),
        random_bits(gen, 20, 0x7C00, 0x03FF, torch.int16, torch.float16)]).reshape(4, 8)
    sd["bf16"] = torch.cat([
        torch.tensor([0.0, -0.0, 1.0, -2.5, 3.0e38, 1e-40, 1 / 3, inf, -inf, nan], dtype=torch.bfloat16),
        random_bits(gen, 14, 0x7F80, 0x007F, torch.int16, torch.bfloat16)]).reshape(2, 12)
    sd["f64"] = torch.tensor([0.1, 1 / 3, 1e300, -1e-320, nan, 2.5, -0.0, 16777217.0], dtype=torch.float64)
    sd["i64"] = torch.tensor([0, -1, 1, 2 ** 62, -2 ** 63, 2 ** 63 - 1, 12345678901, 16777217], dtype=torch.int64)
    sd["i32"] = torch.tensor([0, -1, 2 ** 31 - 1, -2 ** 31, 16777217], dtype=torch.int32)
    sd["i16"] = torch.tensor([0, -1, 32767, -32768], dtype=torch.int16)
    sd["i8"] = torch.tensor([0, -1, 127, -128], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(3.25)
    sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    sd["empty"] = torch.zeros(0, 3)
    # views sharing one storage
    sd["base"] = base
    sd["transposed"] = base.t()            # stride (1, 4)
    sd["slice"] = base[1:, 1:3]            # offset 5, stride (4, 1)
    sd["row"] = base[2]                    # offset 8, contiguous
    sd["step"] = base[:, ::2]              # stride (4, 2)
    sd["expanded"] = torch.arange(3, dtype=torch.float32).expand(2, 3)   # stride (0, 1)
    sd["f16_t"] = half_base.t()            # only a view of this storage is saved
    sd["param"] = torch.nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    return sd


def small_state_dict(prefix=""):
    gen = torch.Generator().manual_seed(7)
    sd = collections.OrderedDict()
    sd[prefix + "conv.weight"] = torch.randn(2, 1, 2, 2, generator=gen)
    sd[prefix + "bn.num_batches_tracked"] = torch.tensor(3, dtype=torch.int64)
    return sd


def expected_tensors(sd):
    out = collections.OrderedDict()
    for k, t in sd.items():
        t = t.detach()
        e = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape)}
        e["bits"] = t.float().contiguous().reshape(-1).view(torch.int32).tolist()
        if not t.dtype.is_floating_point:
            e["longs"] = t.long().reshape(-1).tolist()
        out[k] = e
    return out


def save_zip_via_buffer(obj, name):
    """torch.save into memory: the archive folder is then called 'archive'."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    write(name, buf.getvalue())


# ---------------------------------------------------------------- safetensors

def st_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def st_file(header, data, header_len=None):
    h = json.dumps(header, separators=(",", ":")).encode()
    n = len(h) if header_len is None else header_len
    return struct.pack("<Q", n) + h + data


def safetensors_all(sd):
    """All tensors of sd, header in sd order but data laid out in reverse order, with a
    __metadata__ entry in the middle of the header."""
    blobs = collections.OrderedDict((k, st_bytes(v)) for k, v in sd.items())
    offsets, pos = {}, 0
    for k in reversed(list(blobs)):
        offsets[k] = [pos, pos + len(blobs[k])]
        pos += len(blobs[k])
    header = collections.OrderedDict()
    for i, (k, v) in enumerate(sd.items()):
        if i == 3:
            header["__metadata__"] = {"format": "pt", "source": "make_io_fixtures.py"}
        header[k] = {"dtype": ST_CODES[v.dtype], "shape": list(v.shape), "data_offsets": offsets[k]}
    data = b"".join(blobs[k] for k in reversed(list(blobs)))
    return st_file(header, data)


def f32(*vals):
    return struct.pack("<%df" % len(vals), *vals)


def invalid_safetensors():
    two = f32(1.0, 2.0)
    four = f32(1.0, 2.0, 3.0, 4.0)
    files = {}
    files["st_overlap.safetensors"] = st_file(
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32(1, 2, 3))
    files["st_offsets_outside.safetensors"] = st_file(
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, f32(1, 2, 3))
    files["st_bad_dtype.safetensors"] = st_file(
        {"a": {"dtype": "F31", "shape": [2], "data_offsets": [0, 8]}}, two)
    valid = st_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, two)
    files["st_header_too_long.safetensors"] = struct.pack("<Q", len(valid) + 100) + valid[8:]
    files["st_header_huge.safetensors"] = struct.pack("<Q", 200 * 1024 * 1024) + valid[8:]
    files["st_header_zero.safetensors"] = struct.pack("<Q", 0) + valid[8:]
    full = st_file({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, four)
    files["st_truncated.safetensors"] = full[:-6]
    files["st_begin_after_end.safetensors"] = st_file(
        {"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}, two)
    files["st_size_mismatch.safetensors"] = st_file(
        {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, two)
    h = b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]'   # missing closing braces
    files["st_not_json.safetensors"] = struct.pack("<Q", len(h)) + h + two
    h = b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}'
    files["st_duplicate_key.safetensors"] = struct.pack("<Q", len(h)) + h + two
    files["st_negative_dim.safetensors"] = st_file(
        {"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, two)
    files["st_bad_metadata.safetensors"] = st_file(
        {"__metadata__": {"epochs": 3}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, two)
    return files


# ---------------------------------------------------------------- malicious pickles

def binunicode(b):
    return b"X" + struct.pack("<I", len(b)) + b


def evil_pickles():
    # protocol 2: GLOBAL os.system, REDUCE with (CMD,)
    p2 = b"\x80\x02" + b"cos\nsystem\nq\x00" + binunicode(CMD) + b"q\x01\x85q\x02Rq\x03."
    # protocol 4: STACK_GLOBAL posix.system inside a frame
    body = (b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
            + b"\x8c" + bytes([len(CMD)]) + CMD + b"\x94\x85\x94R\x94.")
    p4 = b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body
    # INST opcode: MARK, argument, INST os system
    inst = b"\x80\x02(" + binunicode(CMD) + b"ios\nsystem\n."
    # a state_dict-looking OrderedDict whose value is os.system(CMD)
    od = (b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01"
          + binunicode(b"weight") + b"q\x02cos\nsystem\nq\x03" + binunicode(CMD) + b"q\x04\x85q\x05Rq\x06s.")
    return p2, p4, inst, od


def write_zip(name, entries):
    """A zip with fixed timestamps, so regenerating gives the same bytes."""
    with zipfile.ZipFile(path(name), "w", zipfile.ZIP_STORED) as z:
        for entry, data in entries:
            z.writestr(zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0)), data)


def legacy_header():
    sys_info = dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4))
    return (pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) + pickle.dumps(1001, protocol=2)
            + pickle.dumps(sys_info, protocol=2))


# ---------------------------------------------------------------- plain pickles

def canon(v):
    """Canonical text of a plain value; UnpicklerTest computes the same from the Java side."""
    if v is None:
        return "N"
    if v is True:
        return "T"
    if v is False:
        return "F"
    if isinstance(v, int):
        return "i" + str(v)
    if isinstance(v, float):
        return "f" + str(struct.unpack("<q", struct.pack("<d", v))[0])
    if isinstance(v, str):
        return "s" + v.encode("utf-8").hex()
    if isinstance(v, (bytes, bytearray)):
        return "b" + bytes(v).hex()
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + ",".join(canon(x) for x in v) + ")"
    if isinstance(v, (set, frozenset)):
        return "<" + ",".join(canon(x) for x in v) + ">"
    if isinstance(v, dict):
        return "{" + ",".join(canon(k) + ":" + canon(x) for k, x in v.items()) + "}"
    raise TypeError(type(v))


def plain_data(protocol):
    shared = [1, 2]
    d = {
        "small": 1, "neg": -5, "byte": 255, "two_bytes": 300, "four_bytes": 70000, "neg_big": -2 ** 40,
        "int64_max": 2 ** 63 - 1, "big": 2 ** 70, "negbig": -2 ** 65,
        "float": 1.5, "tiny": 5e-324, "ninf": float("-inf"), "negzero": -0.0,
        "str": "h\u00e9llo \u2603 \U0001F600 \\ \n 'quote' \"dq\"", "empty_str": "",
        "none": None, "true": True, "false": False,
        "list": [1, [2, 3], ()], "t1": (1,), "t2": (1, "a"), "t3": (1, 2, 3), "t4": (1, 2, 3, 4),
        "shared_a": shared, "shared_b": shared,
        "keys": {1: "int key", (1, 2): "tuple key", None: "none key"},
        "empty_dict": {}, "long_list": [None] * 1001, "long_str": "x" * 300,
    }
    if protocol >= 3:
        d["bytes"] = b"\x00\xff\x10"
        d["bytes300"] = bytes(range(256)) + bytes(44)
    if protocol >= 4:
        d["set"] = {1, 2, 3}
        d["frozenset"] = frozenset({4})
    if protocol >= 5:
        d["bytearray"] = bytearray(b"xy")
    return d


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(path(f))
    # fixtures are byte-exact: no end-of-line conversion on any checkout (plain_p0.pkl is text)
    write(".gitattributes", b"* -text\n")
    expected = {"sets": collections.OrderedDict(), "files": collections.OrderedDict()}

    sd = all_dtypes_state_dict()
    expected["sets"]["all"] = {"keys": list(sd.keys()), "tensors": expected_tensors(sd)}
    small = small_state_dict()
    expected["sets"]["small"] = {"keys": list(small.keys()), "tensors": expected_tensors(small)}

    torch.save(sd, path("zip_all.pth"))
    expected["files"]["zip_all.pth"] = "all"
    torch.save(sd, path("legacy_all.pth"), _use_new_zipfile_serialization=False)
    expected["files"]["legacy_all.pth"] = "all"
    torch.save(sd, path("zip_all_proto4.pth"), pickle_protocol=4)
    expected["files"]["zip_all_proto4.pth"] = "all"
    torch.save(sd, path("legacy_all_proto5.pth"), pickle_protocol=5, _use_new_zipfile_serialization=False)
    expected["files"]["legacy_all_proto5.pth"] = "all"
    write("st_all.safetensors", safetensors_all(sd))
    expected["files"]["st_all.safetensors"] = "all"

    save_zip_via_buffer({"epoch": 3, "arch": "resnet18", "state_dict": small}, "zip_nested_state_dict.pth")
    expected["files"]["zip_nested_state_dict.pth"] = "small"
    torch.save({"model": small, "epoch": 3}, path("legacy_nested_model.pth"), _use_new_zipfile_serialization=False)
    expected["files"]["legacy_nested_model.pth"] = "small"
    torch.save(small_state_dict("module."), path("zip_module_prefix.pth"))
    expected["files"]["zip_module_prefix.pth"] = "small"
    partial = small_state_dict()
    partial["module.extra"] = torch.tensor([1.0])
    expected["sets"]["partial"] = {"keys": list(partial.keys()), "tensors": expected_tensors(partial)}
    torch.save(partial, path("zip_partial_prefix.pth"))
    expected["files"]["zip_partial_prefix.pth"] = "partial"
    torch.manual_seed(0)
    torch.save(torch.nn.Linear(1, 1), path("zip_full_module.pth"))

    for name, data in invalid_safetensors().items():
        write(name, data)

    p2, p4, inst, od = evil_pickles()
    write("evil_p2.pkl", p2)
    write("evil_p4.pkl", p4)
    write("evil_inst.pkl", inst)
    write("evil_legacy.pth", legacy_header() + od + pickle.dumps([], protocol=2))
    write_zip("evil_zip.pth", [("evil_zip/data.pkl", od), ("evil_zip/version", b"3\n")])

    write("not_a_checkpoint.txt", b"hello, I am not a checkpoint\n")
    write("empty.bin", b"")
    write("pickle_not_torch.pkl", pickle.dumps({"a": 1}, protocol=2))
    write_zip("plain.zip", [("readme.txt", b"not a checkpoint\n")])

    pickles = collections.OrderedDict()
    for proto in range(6):
        d = plain_data(proto)
        name = "plain_p%d.pkl" % proto
        write(name, pickle.dumps(d, protocol=proto))
        c = canon(d).encode("utf-8")
        pickles[name] = {"sha256": hashlib.sha256(c).hexdigest(), "length": len(c)}
    expected["pickles"] = pickles

    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=None, separators=(",", ":"))
        f.write("\n")
    total = sum(os.path.getsize(path(f)) for f in os.listdir(OUT))
    print("wrote %d files, %d bytes, into %s (torch %s, python %s)"
          % (len(os.listdir(OUT)), total, os.path.normpath(OUT), torch.__version__, sys.version.split()[0]))


if __name__ == "__main__":
    main()
