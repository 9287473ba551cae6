"""Planned vs measured peak memory: does zoo's memory plan hold? (issue 21, build item 2)

zoo refuses a run before it allocates when its plan exceeds free memory (``zoo_core.memory.
require``). A plan below the real peak lets a run grow past what it checked; one far above
refuses runs that would fit. Goal: for every case, plan / peak between 1.0 and 1.5.

Each case runs in a fresh process: it loads what it needs and runs a small warm-up, then
records its resident memory, runs the case with ``require`` wrapped to record the largest
CPU plan it was asked about, and reports the kernel's high-water mark (ru_maxrss) above
the resident memory it started from. Cases:

  read-RGB/L/RGBA N   zoo_core.images.read_image (read_image_alpha for RGBA) of an N x N PNG
  pendulum-grid N     zoo_core.run("causal-pendulum", num=N, out=grid.png)
  pendulum-dir N      zoo_core.run("causal-pendulum", num=N, out_dir=DIR)
  data-draw N         zoo data's factor table for N images (drawn, not written)
  dcgan-grid N        zoo_core.run("dcgan-fashion", num=N, out=grid.png)

    python bench/bench_memory_plan.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, os, resource, sys, tempfile
from pathlib import Path

kind, size, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
import zoo_core.memory

planned = []
real_require = zoo_core.memory.require
def recording(nbytes, *, device, what, fix):
    if str(getattr(device, "type", device)).startswith("cpu"):
        planned.append(float(nbytes))
    return real_require(nbytes, device=device, what=what, fix=fix)
zoo_core.memory.require = recording

def rss():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

import numpy as np
from PIL import Image
import zoo_core
from zoo_core.images import read_image, read_image_alpha

def case():
    if kind.startswith("read-"):
        mode = kind[5:]
        path = folder / f"{mode}.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (size, size, len(mode)), dtype=np.uint8)
                        .squeeze()).save(path)
        small = folder / f"small-{mode}.png"
        Image.new(mode, (64, 64)).save(small)
        reader = read_image_alpha if mode == "RGBA" else read_image
        reader(small, 3)
        return lambda: reader(path, 1 if mode == "L" else 3)
    if kind.startswith("pendulum-"):
        zoo_core.run("causal-pendulum", num=8, out=folder / "warm.png", device="cpu")
        if kind == "pendulum-grid":
            return lambda: zoo_core.run("causal-pendulum", num=size, out=folder / "grid.png", device="cpu")
        return lambda: zoo_core.run("causal-pendulum", num=size, out_dir=folder / "dir", device="cpu")
    if kind == "data-draw":
        from zoo_causalgen import dataset
        dataset.draw("pendulum", 10, 0)
        def draw():
            dataset._check_memory("pendulum", size)
            return dataset.draw("pendulum", size, 0)
        return draw
    if kind == "dcgan-grid":
        zoo_core.run("dcgan-fashion", num=8, out=folder / "warm.png", device="cpu")
        return lambda: zoo_core.run("dcgan-fashion", num=size, out=folder / "grid.png", device="cpu")
    raise SystemExit(f"unknown case {kind}")

run = case()
planned.clear()
before = rss()
result = run()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
print(json.dumps({"planned": max(planned) if planned else None, "peak": peak}))
"""

CASES = [("read-RGB", [1000, 2000, 4000]), ("read-L", [2000, 4000]), ("read-RGBA", [2000, 4000]),
         ("pendulum-grid", [2000, 8000, 20000]), ("pendulum-dir", [2000, 8000]),
         ("data-draw", [1_000_000, 4_000_000]), ("dcgan-grid", [5000, 20000])]
QUICK = [("read-RGB", [2000]), ("pendulum-grid", [4000]), ("data-draw", [1_000_000])]


def measure(kind: str, size: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run([sys.executable, "-c", _CHILD, kind, str(size), folder], capture_output=True, text=True,
                              env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    if done.returncode:
        raise SystemExit(f"{kind} {size} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three cases only")
    args = parser.parse_args()
    print(f"{'case':<15} {'size':>9} {'planned MB':>11} {'peak MB':>9} {'plan/peak':>10}")
    worst = []
    for kind, sizes in QUICK if args.quick else CASES:
        for size in sizes:
            row = measure(kind, size)
            ratio = row["planned"] / row["peak"] if row["planned"] and row["peak"] > 0 else float("nan")
            worst.append(ratio)
            planned = f"{row['planned'] / 1e6:.1f}" if row["planned"] else "none"
            print(f"{kind:<15} {size:>9} {planned:>11} {row['peak'] / 1e6:>9.1f} {ratio:>10.2f}", flush=True)
    held = [r for r in worst if r == r]
    print(f"plan/peak from {min(held):.2f} to {max(held):.2f} (goal: 1.00 to 1.50)")


if __name__ == "__main__":
    main()
