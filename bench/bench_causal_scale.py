"""Causal questions on long and large graphs: time and peak memory, and the CLI's start-up.

Each case runs in a fresh process, which builds the graph, then answers one question and
reports the seconds of the answer and the process's peak resident memory; a process that
builds the same graph and asks nothing is the reference measured in the same run (so the
extra memory of the question is the difference). Questions:

- ``id``: P(Y | do(X)) (ID with pruning), Y the last node, X the first (chains, trees) or Y a
  random node of the upper half and X its earliest ancestor (random graphs);
- ``dsep``: X _||_ Y | the node in the middle of the order;
- ``adjust``: the first 10 minimal back-door sets of X on Y.

Graphs: ``chain`` V0 -> V1 -> ... ; ``tree`` a random recursive tree (each node's parent
uniform among the earlier ones); ``random`` a sparse random ADMG (1.5 directed and 0.5
bidirected edges per node, between uniformly random pairs, oriented by index).

Start-up: ``zoo run do-calculus`` answering a front-door query versus ``zoo list``, both as
fresh processes, alternated; the medians and their ratio (goal: within 1.5x).

    python bench/bench_causal_scale.py [--sizes chain:1000,10000,100000 tree:10000 random:1000,10000]
                                       [--questions id dsep adjust] [--startup-runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASE = r"""
import json, random, resource, sys, time
from zoo_docalculus.graph import ADMG

kind, n, question = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(n)
names = [f"V{i}" for i in range(n)]
bidirected = []
if kind == "chain":
    directed = [(names[i], names[i + 1]) for i in range(n - 1)]
elif kind == "tree":
    directed = [(names[rng.randrange(i)], names[i]) for i in range(1, n)]
else:
    def pairs(count):
        found = set()
        while len(found) < count:
            a, b = rng.randrange(n), rng.randrange(n)
            if a != b:
                found.add((min(a, b), max(a, b)))
        return [(names[a], names[b]) for a, b in sorted(found)]
    directed, bidirected = pairs(3 * n // 2), pairs(n // 2)
graph = ADMG(names, directed, bidirected)
if kind == "random":
    y = names[rng.randrange(n // 2, n)]
    x = min(graph.ancestors([y]) - {y} or {names[0]}, key=graph.rank.__getitem__)
else:
    y, x = names[-1], names[0]
started = time.perf_counter()
if question == "id":
    from zoo_docalculus.identify import identify
    answer = identify(graph, [y], [x])
    shown = answer.text() if answer.identifiable else "not identifiable"
elif question == "dsep":
    from zoo_docalculus.separation import m_separated
    middle = graph.topological_order[n // 2]
    given = [middle] if middle not in (x, y) else []
    shown = str(m_separated(graph, [x], [y], given))
elif question == "adjust":
    from zoo_docalculus.adjustment import minimal_backdoor_sets
    shown = str(list(minimal_backdoor_sets(graph, [x], [y], limit=10)))
else:
    shown = "-"
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "answer": shown[:60], "x": x, "y": y}))
"""


def run_case(kind: str, n: int, question: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CASE, kind, str(n), question], capture_output=True, text=True)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"}
    return json.loads(result.stdout)


def bench_scale(sizes: dict[str, list[int]], questions: list[str]) -> None:
    print("one question per fresh process; peak = the process's peak resident memory, "
          "reference = the same process building the graph and asking nothing")
    print(f"{'graph':>14} {'question':>8} {'seconds':>9} {'peak MB':>8} {'reference MB':>13} {'extra MB':>9}  answer")
    for kind, ns in sizes.items():
        for n in ns:
            reference = run_case(kind, n, "none")
            for question in questions:
                case = run_case(kind, n, question)
                label = f"{kind} {n:,}"
                if "error" in case:
                    print(f"{label:>14} {question:>8}  failed: {case['error']}")
                    continue
                extra = case["peak_mb"] - reference["peak_mb"]
                print(f"{label:>14} {question:>8} {case['seconds']:>9.3f} {case['peak_mb']:>8.0f} "
                      f"{reference['peak_mb']:>13.0f} {extra:>9.0f}  {case['answer']}")


def bench_startup(runs: int) -> None:
    zoo = Path(sys.executable).with_name("zoo")
    if not zoo.exists():
        print(f"\nstart-up: {zoo} not found (pip install -e . first)")
        return
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python caches bytecode
    commands = {
        "zoo list": [str(zoo), "list"],
        "zoo run do-calculus": [str(zoo), "run", "do-calculus", "--graph", "X -> M; M -> Y; X <-> Y",
                                "--query", "P(Y | do(X))"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - started)
    listed = statistics.median(times["zoo list"])
    answered = statistics.median(times["zoo run do-calculus"])
    print(f"\nstart-up, {runs} alternated runs, medians: zoo list {listed * 1000:.0f} ms, "
          f"zoo run do-calculus (front-door query) {answered * 1000:.0f} ms: {answered / listed:.2f}x (goal <= 1.5x); "
          f"load {os.getloadavg()[0]:.1f}")


def parse_sizes(items: list[str]) -> dict[str, list[int]]:
    sizes: dict[str, list[int]] = {}
    for item in items:
        kind, _, numbers = item.partition(":")
        if kind not in ("chain", "tree", "random") or not numbers:
            raise SystemExit(f"--sizes {item}: write KIND:N,N with KIND chain, tree or random")
        sizes[kind] = [int(v) for v in numbers.split(",")]
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["chain:1000,10000,100000", "tree:10000,100000",
                                                        "random:1000,10000"])
    parser.add_argument("--questions", nargs="+", default=["id", "dsep", "adjust"])
    parser.add_argument("--startup-runs", type=int, default=15)
    args = parser.parse_args()
    bench_scale(parse_sizes(args.sizes), args.questions)
    if args.startup_runs:
        bench_startup(args.startup_runs)


if __name__ == "__main__":
    main()
