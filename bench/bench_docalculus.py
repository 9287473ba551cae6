"""Identification and adjustment-set speed: zoo-docalculus versus y0, same graphs, same queries.

Graphs come from one seeded generator (``zoo_docalculus.simulate.random_admg``): nodes
V0..V{n-1} in topological order, each pair joined by a directed edge with probability
degree/(n-1) and by a bidirected edge with probability bidirected/(n-1) (defaults: degree 3,
bidirected 1 per node). A query is P(Vj | do(Vi)) for a random ancestor Vi of a random Vj.
Both tools answer every query (y0 is a bench-only dependency: ``pip install y0``); times are
medians per query, and the verdicts (identifiable or not) must agree.

Minimal adjustment sets: every minimal back-door set (capped at --max-sets) on 40- and
100-node graphs, with a per-query time limit counted as a timeout.

    python bench/bench_docalculus.py [--queries 30] [--sizes 10 20 40 200] [--adjustment-degree 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from zoo_docalculus.adjustment import minimal_backdoor_sets
from zoo_docalculus.identify import identify
from zoo_docalculus.simulate import random_admg


def queries(n: int, count: int, degree: float, bidirected: float, seed: int):
    """(graph, outcome, treatment) triples; the treatment is an ancestor of the outcome when one exists."""
    made = 0
    attempt = 0
    while made < count:
        graph = random_admg(n, degree=degree, bidirected=bidirected, seed=seed * 100_000 + attempt)
        rng = np.random.default_rng(seed * 100_000 + attempt)
        attempt += 1
        outcome = graph.nodes[int(rng.integers(n // 2, n))]
        ancestors = sorted(graph.ancestors([outcome]) - {outcome}, key=graph.rank.__getitem__)
        if not ancestors:
            continue
        treatment = ancestors[int(rng.integers(len(ancestors)))]
        yield graph, outcome, treatment
        made += 1


def time_zoo(graph, outcome, treatment) -> tuple[float, bool]:
    started = time.perf_counter()
    answer = identify(graph, [outcome], [treatment])
    return time.perf_counter() - started, answer.identifiable


def time_y0(graph, outcome, treatment) -> tuple[float, bool | None]:
    from y0.algorithm.identify import Unidentifiable, identify_outcomes
    from y0.dsl import Variable
    from y0.graph import NxMixedGraph

    other = NxMixedGraph.from_str_edges(nodes=list(graph.nodes), directed=list(graph.directed),
                                        undirected=list(graph.bidirected))
    started = time.perf_counter()
    try:
        identifiable: bool | None = identify_outcomes(other, treatments={Variable(treatment)},
                                                      outcomes={Variable(outcome)}) is not None
    except Unidentifiable:
        identifiable = False
    except Exception:  # y0 crashes on some graphs; not counted
        return float("nan"), None
    return time.perf_counter() - started, identifiable


def bench_id(sizes: list[int], count: int, degree: float, bidirected: float, y0_limit: int) -> None:
    print(f"ID, P(Y | do(X)) on random ADMGs (degree {degree}, bidirected {bidirected} per node), "
          f"{count} queries per size; medians per query; load {os.getloadavg()[0]:.1f}")
    print(f"{'nodes':>6} {'zoo ms':>9} {'y0 ms':>9} {'ratio':>7} {'identifiable':>13} {'agree':>6}")
    for n in sizes:
        zoo_times, y0_times, verdicts, agree, compared = [], [], [], 0, 0
        for graph, outcome, treatment in queries(n, count, degree, bidirected, seed=n):
            seconds, ours = time_zoo(graph, outcome, treatment)
            zoo_times.append(seconds)
            verdicts.append(ours)
            if n <= y0_limit:
                theirs_seconds, theirs = time_y0(graph, outcome, treatment)
                if theirs is not None:
                    y0_times.append(theirs_seconds)
                    compared += 1
                    agree += theirs == ours
        zoo_ms = statistics.median(zoo_times) * 1000
        if y0_times:
            y0_ms = statistics.median(y0_times) * 1000
            print(f"{n:>6} {zoo_ms:>9.2f} {y0_ms:>9.2f} {y0_ms / zoo_ms:>6.1f}x {sum(verdicts):>6}/{len(verdicts):<6} "
                  f"{agree}/{compared}")
        else:
            print(f"{n:>6} {zoo_ms:>9.2f} {'-':>9} {'-':>7} {sum(verdicts):>6}/{len(verdicts):<6} {'-':>6}")


def bench_adjustment(sizes: list[int], count: int, degree: float, limit_s: float, max_sets: int) -> None:
    print(f"\nminimal back-door sets (degree {degree}, no bidirected edges; at most {max_sets} sets; "
          f"a query over {limit_s:.0f} s counts as a timeout)")
    print(f"{'nodes':>6} {'median ms':>10} {'max ms':>8} {'sets: median':>13} {'max':>5} {'timeouts':>9}")
    for n in sizes:
        times, counts, timeouts = [], [], 0
        for graph, outcome, treatment in queries(n, count, degree, 0.0, seed=7 * n):
            started = time.perf_counter()
            found = 0
            for _ in minimal_backdoor_sets(graph, [treatment], [outcome], limit=max_sets):
                found += 1
                if time.perf_counter() - started > limit_s:
                    timeouts += 1
                    break
            times.append(time.perf_counter() - started)
            counts.append(found)
        print(f"{n:>6} {statistics.median(times) * 1000:>10.2f} {max(times) * 1000:>8.1f} "
              f"{statistics.median(counts):>13.0f} {max(counts):>5} {timeouts:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 40, 200])
    parser.add_argument("--degree", type=float, default=3.0)
    parser.add_argument("--bidirected", type=float, default=1.0)
    parser.add_argument("--y0-up-to", type=int, default=40, help="largest graph y0 is run on (it slows sharply)")
    parser.add_argument("--adjustment-sizes", type=int, nargs="+", default=[40, 100])
    parser.add_argument("--adjustment-degree", type=float, default=5.0)
    parser.add_argument("--max-sets", type=int, default=1000)
    args = parser.parse_args()
    bench_id(args.sizes, args.queries, args.degree, args.bidirected, args.y0_up_to)
    bench_adjustment(args.adjustment_sizes, args.queries, args.adjustment_degree, 10.0, args.max_sets)


if __name__ == "__main__":
    main()
