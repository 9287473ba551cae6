"""Peak memory while loading a float32 safetensors file (>= 500 MB) into a float16 model.

Each way runs in a fresh process, which reports its peak resident memory (the kernel's
high-water mark VmHWM, reset just before loading; mapped file pages included) above what it
held just before loading, and on a GPU the peak of torch's allocator:

  zoo          zoo_core.build (meta device) + zoo_core.load_weights(..., dtype=float16): streams
               one tensor at a time, reads it, moves it, casts it, drops the float32 copy
  load_file    safetensors.torch.load_file (the whole file, mapped and touched) then cast each
               tensor and assign them: what zoo did before core v2
  construct    build the float16 model normally (random init), load_file, load_state_dict:
               the usual PyTorch recipe

The floor is the float16 model itself plus its largest tensor in float32 (the one in flight).

    python bench/bench_load_memory.py [--layers 8] [--width 4096] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, os, resource, sys, time
import torch
from torch import nn
from safetensors.torch import load_file
import zoo_core

method, path, layers, width, device = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


class Net(nn.Module):
    def __init__(self, side=None):
        super().__init__()
        side = side or width
        self.layers = nn.Sequential(*[nn.Linear(side, side) for _ in range(layers)])


def rss():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


from dataclasses import dataclass


@dataclass
class BenchConfig:
    pass


class Bench(zoo_core.Model):
    config_class = BenchConfig
    side = None

    def __init__(self, config):
        super().__init__(config)
        self.net = Net(self.side)


class Small(Bench):
    side = 8


def load(cls, file):
    if method == "zoo":
        return zoo_core.load_weights(zoo_core.build(cls, {}), file, device=device, dtype="float16")
    if method == "load_file":
        with torch.device("meta"):
            model = cls.from_config({})
        state = {k: v.to(device).to(torch.float16) for k, v in load_file(file).items()}
        model.load_state_dict(state, assign=True)
        return model
    model = cls.from_config({}).to(device=device, dtype=torch.float16)
    model.load_state_dict(load_file(file, device=device))
    return model


# warm up on a tiny file the same way: torch's first operations allocate pools that are not the load's
from safetensors.torch import save_file
save_file(Small.from_config({}).state_dict(), path + ".small")
load(Small, path + ".small")
if device == "cuda":
    torch.zeros(1, device="cuda")
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
def high_water():
    with open("/proc/self/status") as handle:
        return next(int(row.split()[1]) * 1024 for row in handle if row.startswith("VmHWM:"))


# The peak is the kernel's high-water mark, reset here: ru_maxrss keeps the high-water mark of the
# memory the process had before exec, the parent's, which after the parent wrote the file was
# larger than the load's (a fresh file showed 508 MiB for zoo where every later run showed 320).
try:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    peak_now = high_water
except OSError:  # no /proc (not Linux): the process's ru_maxrss, as before
    peak_now = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # noqa: E731
before = rss()
started = time.perf_counter()
model = load(Bench, path)
if device == "cuda":
    torch.cuda.synchronize()
seconds = time.perf_counter() - started
peak = peak_now()
result = {"cpu_peak_above_start": peak - before, "seconds": seconds,
          "dtype": str(next(model.parameters()).dtype)}
if device == "cuda":
    result["gpu_peak"] = torch.cuda.max_memory_allocated()
print("RESULT " + json.dumps(result))
"""


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--file", type=Path, help="reuse this weights file (made if missing)")
    args = parser.parse_args()

    import torch
    from safetensors.torch import save_file

    path = args.file or Path(tempfile.gettempdir()) / f"zoo-bench-load-{args.layers}x{args.width}.safetensors"
    tensor_bytes = args.width * args.width * 4
    if not path.exists():
        generator = torch.Generator().manual_seed(0)
        state = {}
        for i in range(args.layers):
            state[f"net.layers.{i}.weight"] = torch.randn(args.width, args.width, generator=generator)
            state[f"net.layers.{i}.bias"] = torch.randn(args.width, generator=generator)
        save_file(state, str(path))
        del state
    file_bytes = path.stat().st_size
    model_fp16 = (args.width * args.width + args.width) * args.layers * 2
    floor = model_fp16 + tensor_bytes
    print(f"file {path} ({_mib(file_bytes)}, float32), model at float16 {_mib(model_fp16)}, largest tensor "
          f"{_mib(tensor_bytes)} (float32); floor {_mib(floor)}; device {args.device}")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    results = {}
    for method in ("zoo", "load_file", "construct"):
        os.system("sync")  # noqa: S605 - let the page cache settle between runs
        done = subprocess.run([sys.executable, "-c", _CHILD, method, str(path), str(args.layers), str(args.width),
                               args.device], capture_output=True, text=True, env=env)
        line = next((row for row in done.stdout.splitlines() if row.startswith("RESULT ")), None)
        if line is None:
            print(f"{method}: failed\n{done.stderr}")
            continue
        results[method] = json.loads(line[len("RESULT "):])
    zoo = results.get("zoo", {})
    for method, result in results.items():
        ratio = result["cpu_peak_above_start"] / zoo["cpu_peak_above_start"] if zoo else float("nan")
        text = (f"{method:10} CPU peak above start {_mib(result['cpu_peak_above_start']):>10} "
                f"({result['cpu_peak_above_start'] / floor:.2f}x the floor, {ratio:.2f}x zoo's)  "
                f"{result['seconds']:.2f} s  {result['dtype']}")
        if "gpu_peak" in result:
            text += f"  GPU peak {_mib(result['gpu_peak'])} ({result['gpu_peak'] / floor:.2f}x the floor)"
        print(text)


if __name__ == "__main__":
    main()
