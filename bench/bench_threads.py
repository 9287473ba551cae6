"""Torch threads on a quiet and on a busy machine: zoo's default against fixed counts, same run.

    python bench/bench_threads.py [--busy N] [--repeats 7] [--threads 1,2,4]

Times one RRDBNet (Real-ESRGAN x4plus, random weights) pass over a 32x32 image, and one
DCGAN decode of 256 latents, with torch given each thread count in turn (alternated: 1, 2,
..., default, 1, 2, ...; one warm-up each) and prints the median with min-max, GFLOP/s where
counted, and the 1-minute load before and after. ``default`` is what ``zoo run`` picks
(``zoo_core.default_threads()``: one thread per core not busy), decided once at the start as
a run does. ``--busy N`` first starts N processes that spin on a core each for the length of
the bench (a loaded machine made on purpose; they are stopped at the end). ``--after-busy N``
instead spins N processes for 60 s and stops them before the bench starts: the machine is
idle, but the 1-minute load average still counts them, as it counts a command that has just
ended (what the default read before it also sampled the run queue; both decisions are printed). Equality: every
thread count's output equals the 1-thread output to 1e-4 (float32 summation order differs).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "bench"), str(REPO / "plugins" / "zoo-gan")]

from _site import median  # noqa: E402

from zoo_core import default_threads  # noqa: E402
from zoo_core.threads import busy_cores  # noqa: E402


def _spin() -> None:
    while True:
        pass


def _workloads():  # type: ignore[no-untyped-def]
    from zoo_gan.dcgan import DCGAN
    from zoo_gan.rrdbnet import RRDBNet

    torch.manual_seed(0)
    rrdb = RRDBNet.from_config({}).eval()
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    dcgan = DCGAN.from_config({}).eval()
    latents = torch.randn(256, 100)
    return {"rrdbnet 32px x4": lambda: rrdb(image), "dcgan decode 256": lambda: dcgan.decode(latents)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--busy", type=int, default=0, help="spinning processes to start first")
    parser.add_argument("--after-busy", type=int, default=0,
                        help="spinning processes to run for 60 s and stop before the bench (an idle machine "
                             "whose 1-minute load still counts them)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", default=None, help="counts to compare (default: 1, 2 and all cores)")
    args = parser.parse_args()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for process in spinners:
        process.start()
    try:
        if spinners:
            time.sleep(20)  # let the 1-minute load average see them, as a run starting now would
        if args.after_busy:
            earlier = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.after_busy)]
            for process in earlier:
                process.start()
            time.sleep(60)
            for process in earlier:
                process.terminate()
                process.join()
            time.sleep(1)
        cores = len(os.sched_getaffinity(0))
        chosen = default_threads()
        average_only = max(1, min(cores, int(cores - os.getloadavg()[0] + 0.5)))
        print(f"default decided from the 1-minute load alone: {average_only} thread(s); with the run queue "
              f"(busy cores {busy_cores():.1f}): {chosen}", flush=True)
        counts = sorted({int(c) for c in args.threads.split(",")} if args.threads else {1, 2, cores})
        settings = [(str(c), c) for c in counts] + [(f"default={chosen}", chosen)]
        print(f"torch {torch.__version__}, {cores} cores, {args.busy} spinning processes, load "
              f"{os.getloadavg()[0]:.1f}; zoo's default: {chosen} thread(s); medians of {args.repeats} (min-max)",
              flush=True)
        with torch.inference_mode():
            for name, work in _workloads().items():
                torch.set_num_threads(1)
                expected = work()
                times: dict[str, list[float]] = {label: [] for label, _ in settings}
                worst = 0.0
                before = os.getloadavg()[0]
                for repeat in range(args.repeats + 1):
                    for label, count in settings:
                        torch.set_num_threads(count)
                        start = time.perf_counter()
                        output = work()
                        elapsed = time.perf_counter() - start
                        if repeat:  # the first round warms up every count
                            times[label].append(elapsed)
                        worst = max(worst, float((output - expected).abs().max()))
                after = os.getloadavg()[0]
                fastest = min(median(t) for t in times.values())
                print(f"{name}  (outputs agree to {worst:.1e}; load {before:.1f}->{after:.1f})")
                for label, values in times.items():
                    m = median(values)
                    print(f"  threads {label:>10s}: {m * 1e3:8.1f} ms ({min(values) * 1e3:.1f}-{max(values) * 1e3:.1f})"
                          f"  {m / fastest:5.2f}x the fastest", flush=True)
                assert worst < 1e-4, f"{name}: outputs differ by {worst}"
    finally:
        for process in spinners:
            process.terminate()


if __name__ == "__main__":
    main()
