"""FCI speed and agreement: zoo's ``fci`` versus causal-learn's ``fci``, on the same data in the same run.

Setup: random graphs with latent confounders from zoo's seeded generator
(``zoo_docalculus.simulate.random_admg``: each pair i < j gets i -> j with probability
degree / (n - 1) and a hidden common cause with probability bidirected / (n - 1)),
linear-Gaussian data on them (weights +-U[0.5, 1.5], unit-variance noise, each hidden cause a
standard normal column that is dropped), ``--rows`` rows. Both tools run Fisher-z at the same
alpha on the same matrix, alternated, ``--repeat`` times each; the medians are compared. Timed:
from the data matrix to the finished PAG (skeleton, Possible-D-SEP, orientation rules); not
timed: imports. Goal: zoo >= 1.0x causal-learn's speed. Reported: the skeletons' agreement, how
many edge marks differ where both have the edge, and each tool's errors against the true PAG
(the PAG of the graph's MAG, which FCI finds from exact m-separation facts).

causal-learn is a bench-only dependency: ``pip install causal-learn==0.1.4.8``.

    python bench/bench_fci.py [--vars 10 20] [--rows 5000] [--degree 2] [--bidirected 0.5] [--graphs 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _site import median  # noqa: E402


def latent_gaussian_data(n_vars: int, rows: int, degree: float, bidirected: float, seed: int) -> np.ndarray:
    """Rows over the observed variables of a random graph whose bidirected edges are hidden causes."""
    from zoo_docalculus.simulate import random_admg

    graph = random_admg(n_vars, degree=degree, bidirected=bidirected, seed=seed)
    index = {name: i for i, name in enumerate(graph.nodes)}
    rng = np.random.default_rng(seed + 10_000)
    data = rng.standard_normal((rows, n_vars))
    for a, b in sorted(graph.bidirected):
        hidden = rng.standard_normal(rows)
        for node in (a, b):
            data[:, index[node]] += rng.choice([-1, 1]) * rng.uniform(0.5, 1.5) * hidden
    weights = np.zeros((n_vars, n_vars))
    for a, b in sorted(graph.directed):
        weights[index[a], index[b]] = rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)
    for j in range(n_vars):  # topological: parents have smaller indices
        data[:, j] += data @ weights[:, j]
    return data


def true_pag(n_vars: int, degree: float, bidirected: float, seed: int) -> np.ndarray:
    """The PAG of the same graph: what FCI finds from exact m-separation facts (read off its MAG)."""
    from zoo_docalculus.pag import mag_of_admg, pag_of_mag
    from zoo_docalculus.simulate import random_admg

    return pag_of_mag(mag_of_admg(random_admg(n_vars, degree=degree, bidirected=bidirected, seed=seed)))


def errors(found: np.ndarray, truth: np.ndarray) -> str:
    """'skeleton edges wrong / marks wrong on the edges both have'."""
    both = (found != 0) & (truth != 0)
    return f"{int(((found != 0) != (truth != 0)).sum()) // 2}/{int((both & (found != truth)).sum())}"


def run_zoo(data: np.ndarray, alpha: float) -> tuple[np.ndarray, int]:
    from zoo_docalculus.citests import FisherZ
    from zoo_docalculus.fci import fci

    result = fci(FisherZ(data), [f"X{i}" for i in range(data.shape[1])], alpha=alpha)
    return result.marks, result.tests_run


def run_causal_learn(data: np.ndarray, alpha: float) -> np.ndarray:
    """causal-learn's PAG in zoo's marks: ``M[i, j]`` is the mark at j (theirs: ``graph[j, i]``)."""
    from causallearn.search.ConstraintBased.FCI import fci

    from zoo_docalculus.pag import ARROW, CIRCLE, TAIL

    with contextlib.redirect_stdout(io.StringIO()):  # it prints the visible edges it finds
        graph, _ = fci(data, "fisherz", alpha, show_progress=False)
    theirs = graph.graph
    marks = np.zeros(theirs.shape, dtype=np.int8)
    for i, j in zip(*np.nonzero(theirs)):
        marks[j, i] = {1: ARROW, -1: TAIL, 2: CIRCLE}[int(theirs[i, j])]
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vars", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--degree", type=float, default=2.0)
    parser.add_argument("--bidirected", type=float, default=0.5)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--graphs", type=int, default=3, help="random graphs per size (seeds 0..N-1)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        import causallearn  # noqa: F401
    except ImportError:
        raise SystemExit("bench_fci needs causal-learn: pip install causal-learn==0.1.4.8") from None
    warm = np.random.default_rng(0).standard_normal((100, 3))
    run_zoo(warm, 0.05)  # warm the imports
    run_causal_learn(warm, 0.05)

    print(f"FCI, fisherz, alpha={args.alpha}, {args.rows} rows, expected degree {args.degree}, "
          f"{args.bidirected} hidden confounders per node, median of {args.repeat} alternated runs each; "
          f"load {os.getloadavg()[0]:.1f}")
    print("vs truth: edges wrong in the skeleton / marks wrong on the edges shared with the true PAG")
    print(f"{'vars':>4} {'seed':>4} {'zoo s':>8} {'c-l s':>8} {'speed-up':>8} {'skeleton':>9} {'marks':>10} {'tests':>7} "
          f"{'zoo vs truth':>12} {'c-l vs truth':>12}")
    totals = {}
    for n_vars in args.vars:
        zoo_total = cl_total = 0.0
        for seed in range(args.graphs):
            data = latent_gaussian_data(n_vars, args.rows, args.degree, args.bidirected, seed)
            zoo_times, cl_times = [], []
            for _ in range(args.repeat):  # alternate, so drift in machine load hits both
                started = time.perf_counter()
                ours, tests = run_zoo(data, args.alpha)
                zoo_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                theirs = run_causal_learn(data, args.alpha)
                cl_times.append(time.perf_counter() - started)
            zoo_s, cl_s = median(zoo_times), median(cl_times)
            zoo_total, cl_total = zoo_total + zoo_s, cl_total + cl_s
            skeleton_diff = int(((ours != 0) != (theirs != 0)).sum()) // 2
            same = "same" if not skeleton_diff else f"{skeleton_diff} differ"
            both = (ours != 0) & (theirs != 0)
            marks = f"{int((both & (ours != theirs)).sum())}/{int(both.sum())} differ"
            truth = true_pag(n_vars, args.degree, args.bidirected, seed)
            print(f"{n_vars:>4} {seed:>4} {zoo_s:>8.4f} {cl_s:>8.4f} {cl_s / zoo_s:>7.1f}x {same:>9} {marks:>10} {tests:>7} "
                  f"{errors(ours, truth):>12} {errors(theirs, truth):>12}")
        totals[n_vars] = (zoo_total, cl_total)
    for n_vars, (zoo_total, cl_total) in totals.items():
        print(f"{n_vars} vars: zoo {zoo_total / args.graphs:.4f} s, causal-learn {cl_total / args.graphs:.4f} s "
              f"per graph: zoo is {cl_total / zoo_total:.1f}x causal-learn's speed (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
