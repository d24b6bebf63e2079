#!/usr/bin/python3
"""Fashion-MNIST time per epoch, DL4J against PyTorch, for the same recipe in one run.

1. Runs `./resnet train` (this project, DL4J) with the given options into OUT/dl4j.
2. Reads the recipe the run actually used from OUT/dl4j/run.json (depth table, stem, batch, Adam
   learning rate and schedule, augmentation, seed, limits) and trains the same network with the
   same recipe in PyTorch (scripts/bench_fashion_pytorch.py, torchvision's blocks), on the same
   data and the same number of CPU threads.
3. Prints, per epoch, the measured training seconds (evaluation excluded on both sides), their
   ratio and each side's test accuracy, and writes the table to OUT/summary.md and OUT/summary.csv.

The two trainings run one after the other, never at the same time: on a small machine they would
otherwise slow each other down. The random numbers differ (initialisation, data order,
augmentation), so the accuracies agree in distribution, not digit for digit.

Examples:
  /usr/bin/python3 scripts/bench_fashion.py                                  # the fashion-fast preset, full data
  /usr/bin/python3 scripts/bench_fashion.py --epochs 1 --limit 6400 --test-limit 2000   # a quick look
  /usr/bin/python3 scripts/bench_fashion.py --pytorch timed                  # PyTorch: 30 steps, extrapolated

Every option this script does not know is passed to `./resnet train` (e.g. --widths 24,48,96,192).
Needs Debian's python3-torch (the pyenv `python3` on PATH has no torch: use /usr/bin/python3).
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--preset", default="fashion-fast", help="./resnet train preset (default fashion-fast)")
    p.add_argument("--out", default=os.path.join("runs", "bench-fashion"), help="output folder (default runs/bench-fashion)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads for both (default: one per core)")
    p.add_argument("--pytorch", choices=["full", "timed"], default="full",
                   help="full: train PyTorch the same epochs (default); timed: 30 steps, extrapolated")
    a, train_args = p.parse_known_args()
    import bench_fashion_pytorch as twin  # imports torch: after --help

    out = os.path.abspath(a.out)
    dl4j_dir = os.path.join(out, "dl4j")
    os.makedirs(out, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    cmd = [os.path.join(ROOT, "resnet"), "train", "--preset", a.preset, "--threads", str(a.threads),
           "--out", dl4j_dir, "--overwrite"] + train_args
    print("== DL4J: " + " ".join(cmd), flush=True)
    rc = subprocess.call(cmd, cwd=ROOT)
    if rc != 0:
        sys.exit(f"error: ./resnet train failed with exit code {rc}")

    with open(os.path.join(dl4j_dir, "run.json")) as f:
        run = json.load(f)
    cfg = run["config"]
    with open(os.path.join(dl4j_dir, "metrics.csv")) as f:
        dl4j = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]

    targs = twin.parser().parse_args([])
    targs.data = data_dir(run["data"])
    plain = {"resnet18": "basic", "resnet34": "basic", "resnet50": "bottleneck", "resnet101": "bottleneck",
             "resnet152": "bottleneck"}
    if cfg["arch"] not in plain or cfg["depths"] is None or cfg["widths"] is None or cfg["cardinality"] \
            or cfg["base-width"] or cfg["se"]:
        sys.exit("error: the PyTorch twin builds plain ResNets (--arch resnet18..152) with explicit --depths and "
                 f"--widths, without --cardinality, --base-width or --se; this run has {cfg}")
    targs.block = cfg["block"] or plain[cfg["arch"]]
    targs.depths, targs.widths = cfg["depths"], cfg["widths"]
    targs.stem_width = cfg["stem-width"]
    targs.stem, targs.resize = cfg["stem"], cfg["resize"]
    targs.batch, targs.lr, targs.schedule = cfg["batch"], cfg["lr"], cfg["lr-schedule"]
    targs.augment, targs.seed = cfg["augment"], cfg["seed"]
    targs.limit, targs.test_limit = cfg["limit"], cfg["test-limit"]
    targs.threads = a.threads
    targs.epochs = cfg["epochs"] if a.pytorch == "full" else 0
    print("== PyTorch, the same recipe (" + ("all epochs, measured" if targs.epochs else "30 steps, extrapolated")
          + ")", flush=True)
    torch_rows = twin.run(targs, log=lambda line: print(line, flush=True))

    report(a, run, dl4j, torch_rows, out, started)


def data_dir(described):
    """The folder of the data DL4J used, from run.json's "Fashion-MNIST from DIR (why)"."""
    if "embedded sample" in described:
        return os.path.join(ROOT, "resnet-examples", "src", "main", "resources", "fashion-mnist-sample")
    path = described.removeprefix("Fashion-MNIST from ").rsplit(" (", 1)[0]
    if not os.path.isdir(path):
        sys.exit(f"error: cannot find the data DL4J used ({described})")
    return path


def report(a, run, dl4j, torch_rows, out, started):
    import torch
    timed = a.pytorch == "timed"
    lines = [f"Fashion-MNIST, {run['network']}, {run['parameters']:,} parameters; recipe "
             f"{json.dumps({k: v for k, v in run['config'].items() if v is not None})}",
             f"{run['trainExamples']:,} train / {run['testExamples']:,} test images; {a.threads} threads each; "
             f"DL4J (this project, {os.path.basename(ROOT)}) then PyTorch {torch.__version__}; started {started}",
             "",
             "| epoch | DL4J s | PyTorch s | DL4J / PyTorch | DL4J test acc | PyTorch test acc |",
             "|---|---|---|---|---|---|"]
    rows = []
    for i, d in enumerate(dl4j):
        t = torch_rows[0] if timed else torch_rows[i]
        rows.append([int(d["epoch"]), d["seconds"], t["seconds"], d["seconds"] / t["seconds"], d["test_acc"],
                     None if timed else t["test_acc"]])
        lines.append(f"| {int(d['epoch'])} | {d['seconds']:.1f} | {t['seconds']:.1f}{' (extrapolated)' if timed else ''} "
                     f"| {d['seconds'] / t['seconds']:.2f} | {d['test_acc']:.4f} | "
                     f"{'-' if timed else format(t['test_acc'], '.4f')} |")
    med_d = statistics.median(r[1] for r in rows)
    med_t = statistics.median(r[2] for r in rows)
    lines.append(f"| median | {med_d:.1f} | {med_t:.1f} | {med_d / med_t:.2f} | | |")
    text = "\n".join(lines) + "\n"
    print("\n" + text, flush=True)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "dl4j_seconds", "pytorch_seconds", "ratio", "dl4j_test_acc", "pytorch_test_acc"])
        w.writerows(rows)
    print(f"written: {os.path.join(out, 'summary.md')}, {os.path.join(out, 'summary.csv')}")


if __name__ == "__main__":
    main()
