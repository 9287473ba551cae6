"""PC-stable speed and agreement: zoo's ``pc`` versus causal-learn's ``pc(stable=True)``.

Setup: random DAGs from zoo's seeded generator (``zoo_docalculus.simulate.random_admg`` with
no bidirected edges: each pair i < j gets i -> j with probability degree / (n - 1), so a node
has ``--degree`` neighbours on average), linear-Gaussian data on them (weights +-U[0.5, 1.5],
unit-variance noise), ``--rows`` rows. Both tools run Fisher-z at the same alpha on the same
matrix, alternated, ``--repeat`` times each; the medians are compared. Timed: from the data
matrix to the finished graph (correlation matrix, skeleton, orientation, Meek's rules); not
timed: imports. Goal: zoo >= 1.0x causal-learn's speed, with the same skeleton.

``--test gsq`` runs the discrete variant instead: the same graphs with random conditional
tables (``zoo_docalculus.simulate.DiscreteModel``, binary variables), G-test on both sides.

causal-learn is a bench-only dependency: ``pip install causal-learn==0.1.4.8``.

    python bench/bench_pc.py [--vars 20 50] [--rows 10000] [--degree 3] [--graphs 3] [--repeat 3] [--test gsq]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _site import median  # noqa: E402


def linear_gaussian_data(n_vars: int, rows: int, degree: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(data, true adjacency) for a random DAG whose nodes are already in causal order."""
    from zoo_docalculus.simulate import random_admg

    graph = random_admg(n_vars, degree=degree, bidirected=0, seed=seed)
    index = {name: i for i, name in enumerate(graph.nodes)}
    rng = np.random.default_rng(seed + 10_000)
    weights = np.zeros((n_vars, n_vars))
    for a, b in sorted(graph.directed):
        weights[index[a], index[b]] = rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)
    data = rng.standard_normal((rows, n_vars))
    for j in range(n_vars):  # topological: parents have smaller indices
        data[:, j] += data @ weights[:, j]
    return data, (weights != 0) | (weights != 0).T


def discrete_data(n_vars: int, rows: int, degree: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(integer codes, true adjacency): the same graphs with random binary conditional tables."""
    from zoo_docalculus.simulate import DiscreteModel, random_admg

    graph = random_admg(n_vars, degree=degree, bidirected=0, seed=seed)
    sample = DiscreteModel.random(graph, seed=seed).sample(rows, seed=seed + 10_000)
    truth = np.zeros((n_vars, n_vars), dtype=bool)
    index = {name: i for i, name in enumerate(graph.nodes)}
    for a, b in graph.directed:
        truth[index[a], index[b]] = truth[index[b], index[a]] = True
    return np.column_stack([sample[name] for name in graph.nodes]), truth


def run_zoo(data: np.ndarray, alpha: float, test: str = "fisherz"):
    from zoo_docalculus.citests import FisherZ, GTest
    from zoo_docalculus.pc import pc

    names = [f"X{i}" for i in range(data.shape[1])]
    ci = FisherZ(data) if test == "fisherz" else GTest(data, data.max(axis=0) + 1, kind=test)
    result = pc(ci, names, alpha=alpha, orientation="majority")
    adjacency = np.zeros((len(names),) * 2, dtype=bool)
    position = {n: i for i, n in enumerate(names)}
    for a, b in [*result.directed, *result.undirected]:
        adjacency[position[a], position[b]] = adjacency[position[b], position[a]] = True
    return adjacency, result.tests_run


def run_causal_learn(data: np.ndarray, alpha: float, test: str = "fisherz"):
    from causallearn.search.ConstraintBased.PC import pc

    graph = pc(data, alpha, test, stable=True, show_progress=False)
    return graph.G.graph != 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vars", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--degree", type=float, default=3.0)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--graphs", type=int, default=3, help="random graphs per size (seeds 0..N-1)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--test", choices=("fisherz", "gsq"), default="fisherz")
    args = parser.parse_args()
    try:
        import causallearn  # noqa: F401
    except ImportError:
        raise SystemExit("bench_pc needs causal-learn: pip install causal-learn==0.1.4.8") from None
    run_zoo(np.random.default_rng(0).standard_normal((100, 3)), 0.05)  # warm the imports
    run_causal_learn(np.random.default_rng(0).standard_normal((100, 3)), 0.05)

    print(f"PC-stable, {args.test}, alpha={args.alpha}, {args.rows} rows, expected degree {args.degree}, "
          f"median of {args.repeat} alternated runs each; load {os.getloadavg()[0]:.1f}")
    print(f"{'vars':>4} {'seed':>4} {'zoo s':>8} {'c-l s':>8} {'speed-up':>8} {'skeleton':>9} {'tests':>7} "
          f"{'true edges':>10} {'missed':>6} {'extra':>5}")
    totals = {}
    for n_vars in args.vars:
        zoo_total = cl_total = 0.0
        for seed in range(args.graphs):
            make = linear_gaussian_data if args.test == "fisherz" else discrete_data
            data, truth = make(n_vars, args.rows, args.degree, seed)
            zoo_times, cl_times = [], []
            for _ in range(args.repeat):  # alternate, so drift in machine load hits both
                started = time.perf_counter()
                ours, tests = run_zoo(data, args.alpha, args.test)
                zoo_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                theirs = run_causal_learn(data, args.alpha, args.test)
                cl_times.append(time.perf_counter() - started)
            zoo_s, cl_s = median(zoo_times), median(cl_times)
            zoo_total, cl_total = zoo_total + zoo_s, cl_total + cl_s
            same = "same" if np.array_equal(ours, theirs) else f"{int((ours != theirs).sum()) // 2} differ"
            missed = int((truth & ~ours).sum()) // 2
            extra = int((ours & ~truth).sum()) // 2
            print(f"{n_vars:>4} {seed:>4} {zoo_s:>8.4f} {cl_s:>8.4f} {cl_s / zoo_s:>7.1f}x {same:>9} {tests:>7} "
                  f"{int(truth.sum()) // 2:>10} {missed:>6} {extra:>5}")
        totals[n_vars] = (zoo_total, cl_total)
    for n_vars, (zoo_total, cl_total) in totals.items():
        print(f"{n_vars} vars: zoo {zoo_total / args.graphs:.4f} s, causal-learn {cl_total / args.graphs:.4f} s "
              f"per graph: zoo is {cl_total / zoo_total:.1f}x causal-learn's speed (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
