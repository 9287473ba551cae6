"""PC-stable causal discovery to a CPDAG, order-independent from skeleton to Meek's rules.

The steps, and what makes each one independent of the order of the variables:

1. **Skeleton** (PC-stable, Colombo & Maathuis 2014): at level ``l`` every edge ``x - y`` still
   present is tested given every ``l``-subset of ``adj(x) \\ {y}`` and of ``adj(y) \\ {x}``,
   where the adjacency sets are *frozen* at the start of the level; removals take effect at
   the end of the level. All subsets of a level are tested (batched, like causal-learn's
   stable mode does), so the separating sets found at a level are a set, not the first hit of
   an enumeration order.
2. **Unshielded colliders** ``a - b - c`` (a, c not adjacent): the separating sets of ``a`` and
   ``c`` are every subset of ``adj(a)`` and of ``adj(c)`` in the final skeleton that tests
   independent (as pcalg's ``checkTriple``), together with those found when the edge was
   removed. ``conservative`` (Ramsey et al. 2006): collider if ``b`` is in none of them,
   non-collider if in all, else ambiguous. ``majority`` (Colombo & Maathuis): collider if
   ``b`` is in fewer than half, non-collider if in more than half, ambiguous at exactly half.
   Ambiguous triples are left unoriented and reported.
3. **Conflicts**: all collider arrows are proposed at once; an edge that two colliders would
   orient in opposite directions is left undirected and reported in ``conflicts`` (not drawn as
   bidirected: PC assumes there are no latent confounders to explain one).
4. **Meek's rules R1-R4**, applied in synchronous rounds (every rule on the graph as it stood at
   the start of the round); an edge that a round would orient both ways stays undirected and
   is reported as a conflict. R1 and R3 only use triples judged non-colliders.

The result is a CPDAG (a PDAG when the data are unfaithful or the sample small).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Protocol

import numpy as np

__all__ = ["PCResult", "pc", "skeleton", "orient", "meek", "CITest", "separating_sets", "collider_verdict"]

#: At most this many tests go to the CI test in one batch (bounds memory: m x (k+2)^2 floats).
BATCH = 1 << 15


class CITest(Protocol):
    """What PC needs of a conditional-independence test (see :mod:`zoo_docalculus.citests`)."""

    n_vars: int

    def pvalues(self, x: np.ndarray, y: np.ndarray, S: np.ndarray) -> np.ndarray: ...


@dataclass
class PCResult:
    """A CPDAG over ``nodes`` (names), with what the search found on the way."""

    nodes: list[str]
    directed: list[tuple[str, str]]
    undirected: list[tuple[str, str]]
    sepsets: dict[tuple[str, str], tuple[str, ...]]  # pair -> the separating set with the largest p-value
    tests_run: int
    max_level: int  # the largest conditioning-set size tested
    ambiguous: list[tuple[str, str, str]] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)


class _Counter:
    def __init__(self, test: CITest) -> None:
        self.test, self.count = test, 0

    def pvalues(self, x: np.ndarray, y: np.ndarray, S: np.ndarray) -> np.ndarray:
        self.count += len(x)
        out = np.empty(len(x))
        for start in range(0, len(x), BATCH):
            part = slice(start, start + BATCH)
            out[part] = self.test.pvalues(x[part], y[part], S[part])
        return out


def _subsets(pool: np.ndarray, size: int) -> set[tuple[int, ...]]:
    return set(combinations(pool.tolist(), size)) if len(pool) >= size else set()


def skeleton(test: CITest, alpha: float, depth: int | None = None
             ) -> tuple[np.ndarray, dict[tuple[int, int], list[tuple[tuple[int, ...], float]]], int, int]:
    """PC-stable's adjacency phase.

    Returns the adjacency matrix, for each removed pair ``(i, j)`` (``i < j``) the separating
    sets found at the level it was removed with their p-values, the number of tests run and
    the largest level tested.
    """
    counter = _Counter(test)
    p = test.n_vars
    adjacent = ~np.eye(p, dtype=bool)
    separated: dict[tuple[int, int], list[tuple[tuple[int, ...], float]]] = {}
    level, max_level = 0, -1
    while depth is None or level <= depth:
        neighbours = [np.flatnonzero(adjacent[i]) for i in range(p)]  # frozen for this level
        edges, xs, ys, sets = [], [], [], []
        for i, j in zip(*np.nonzero(np.triu(adjacent))):
            candidates = _subsets(neighbours[i][neighbours[i] != j], level) | _subsets(
                neighbours[j][neighbours[j] != i], level)
            for S in candidates:
                edges.append((int(i), int(j)))
                xs.append(i)
                ys.append(j)
                sets.append(S)
        if not edges:
            break
        max_level = level
        values = counter.pvalues(np.asarray(xs, dtype=np.int64), np.asarray(ys, dtype=np.int64),
                                 np.asarray(sets, dtype=np.int64).reshape(len(sets), level))
        for edge, S, value in zip(edges, sets, values):
            if value > alpha:
                separated.setdefault(edge, []).append((S, float(value)))
        for i, j in separated:
            adjacent[i, j] = adjacent[j, i] = False
        level += 1
    return adjacent, separated, counter.count, max_level


def _powerset(pool: list[int], largest: int | None) -> Iterable[tuple[int, ...]]:
    top = len(pool) if largest is None else min(len(pool), largest)
    for size in range(top + 1):
        yield from combinations(pool, size)


def _triple_key(a: int, b: int, c: int) -> tuple[int, int, int]:
    return (a, b, c) if a < c else (c, b, a)


def separating_sets(test: CITest, adjacent: np.ndarray, separated: dict, alpha: float,
                    pairs: Iterable[tuple[int, int]], depth: int | None = None
                    ) -> tuple[dict[tuple[int, int], set[tuple[int, ...]]], int]:
    """Every separating set of each non-adjacent pair ``(a, c)`` (``a < c``) among the subsets of
    ``adj(a)`` and of ``adj(c)`` in ``adjacent`` (as pcalg's ``checkTriple``), with the sets
    recorded in ``separated`` when the edge was removed; and the number of tests run."""
    counter = _Counter(test)
    pairs = list(pairs)
    by_size: dict[int, list[tuple[tuple[int, int], tuple[int, ...]]]] = {}
    for a, c in pairs:
        sets = set(_powerset(np.flatnonzero(adjacent[a]).tolist(), depth)) | set(
            _powerset(np.flatnonzero(adjacent[c]).tolist(), depth))
        for S in sets:
            by_size.setdefault(len(S), []).append(((a, c), S))
    found: dict[tuple[int, int], set[tuple[int, ...]]] = {pair: {S for S, _ in separated.get(pair, [])}
                                                        for pair in pairs}
    for size, items in by_size.items():
        values = counter.pvalues(np.array([a for (a, _), _ in items], dtype=np.int64),
                                 np.array([c for (_, c), _ in items], dtype=np.int64),
                                 np.array([S for _, S in items], dtype=np.int64).reshape(len(items), size))
        for (pair, S), value in zip(items, values):
            if value > alpha:
                found[pair].add(S)
    return found, counter.count


def collider_verdict(sets: set[tuple[int, ...]], b: int, rule: str) -> str:
    """``collider``, ``noncollider`` or ``ambiguous`` for ``b`` between a pair with separating ``sets``."""
    if not sets:
        return "ambiguous"  # no separating set among the neighbours: cannot judge
    share = sum(b in S for S in sets) / len(sets)
    if rule == "conservative":
        return "collider" if share == 0 else "noncollider" if share == 1 else "ambiguous"
    return "collider" if share < 0.5 else "noncollider" if share > 0.5 else "ambiguous"


def orient(test: CITest, adjacent: np.ndarray, separated: dict, alpha: float, rule: str,
           depth: int | None = None) -> tuple[np.ndarray, dict[tuple[int, int, int], str], set, int]:
    """Orient unshielded colliders by the ``conservative`` or ``majority`` rule.

    Returns the PDAG (``G[i, j] and not G[j, i]``: ``i -> j``; both: ``i - j``), each unshielded
    triple's verdict (``collider`` / ``noncollider`` / ``ambiguous``, keyed ``(a, b, c)`` with
    ``a < c``), the conflicting edges and the number of extra tests run.
    """
    if rule not in ("conservative", "majority"):
        raise ValueError(f"rule must be 'conservative' or 'majority', not {rule!r}")
    p = adjacent.shape[0]
    pairs = [(a, c) for a in range(p) for c in range(a + 1, p)
             if not adjacent[a, c] and np.any(adjacent[a] & adjacent[c])]
    found, tests = separating_sets(test, adjacent, separated, alpha, pairs, depth)
    verdicts: dict[tuple[int, int, int], str] = {}
    arrows: set[tuple[int, int]] = set()
    for a, c in pairs:
        for b in np.flatnonzero(adjacent[a] & adjacent[c]).tolist():
            verdict = collider_verdict(found[(a, c)], b, rule)
            verdicts[(a, b, c)] = verdict
            if verdict == "collider":
                arrows.update({(a, b), (c, b)})
    G = adjacent.copy()
    conflicts = {(min(u, v), max(u, v)) for u, v in arrows if (v, u) in arrows}
    for u, v in arrows:
        if (min(u, v), max(u, v)) not in conflicts:
            G[v, u] = False
    return G, verdicts, conflicts, tests


def meek(G: np.ndarray, verdicts: dict[tuple[int, int, int], str] | None = None) -> tuple[np.ndarray, set]:
    """Close the PDAG ``G`` under Meek's rules R1-R4, in synchronous rounds.

    ``verdicts`` (from :func:`orient`) restricts R1 and R3 to unshielded triples judged
    non-colliders; without it every unshielded triple that is not oriented as a collider
    counts as a non-collider (the textbook setting). Returns the new PDAG and the edges left
    undirected because a round would have oriented them both ways.
    """
    G = G.copy()
    conflicts: set[tuple[int, int]] = set()

    def noncollider(a: int, b: int, c: int) -> bool:
        return verdicts is None or verdicts.get(_triple_key(a, b, c)) == "noncollider"

    while True:
        directed = G & ~G.T
        undirected = G & G.T
        adjacent = G | G.T
        proposals: set[tuple[int, int]] = set()
        for b, c in zip(*np.nonzero(undirected)):
            b, c = int(b), int(c)
            # R1: a -> b - c, a and c not adjacent
            if any(noncollider(int(a), b, c) for a in np.flatnonzero(directed[:, b] & ~adjacent[:, c]) if a != c):
                proposals.add((b, c))
                continue
            # R2: b -> a -> c
            if np.any(directed[b] & directed[:, c]):
                proposals.add((b, c))
                continue
            # R3: b - a1 -> c and b - a2 -> c, a1 and a2 not adjacent
            middles = np.flatnonzero(undirected[b] & directed[:, c])
            if any(not adjacent[a1, a2] and noncollider(a1, b, a2) for a1, a2 in combinations(middles.tolist(), 2)):
                proposals.add((b, c))
                continue
            # R4: b - k -> l -> c, b adjacent to l, k and c not adjacent
            for k in np.flatnonzero(undirected[b] & ~adjacent[:, c]).tolist():
                if k != c and np.any(directed[k] & directed[:, c] & adjacent[b]):
                    proposals.add((b, c))
                    break
        both = {(u, v) for u, v in proposals if (v, u) in proposals}
        conflicts |= {(min(u, v), max(u, v)) for u, v in both}
        apply = proposals - both
        if not apply:
            return G, conflicts
        for u, v in apply:
            G[v, u] = False


def pc(test: CITest, names: list[str], alpha: float = 0.05, depth: int | None = None,
       orientation: str = "majority") -> PCResult:
    """PC-stable on ``test`` (over variables ``names``), to a CPDAG."""
    if len(names) != test.n_vars:
        raise ValueError(f"{len(names)} names for {test.n_vars} variables")
    adjacent, separated, tests_run, max_level = skeleton(test, alpha, depth)
    G, verdicts, conflicts, more_tests = orient(test, adjacent, separated, alpha, orientation, depth)
    G, meek_conflicts = meek(G, verdicts)
    directed = sorted((names[u], names[v]) for u, v in zip(*np.nonzero(G & ~G.T)))
    undirected = sorted(tuple(sorted((names[u], names[v]))) for u, v in zip(*np.nonzero(np.triu(G & G.T))))
    sepsets: dict[tuple[str, str], tuple[str, ...]] = {}
    for (i, j), found in separated.items():
        # the separating set with the largest p-value; ties by names, so no index order leaks in
        best = min(found, key=lambda item: (-item[1], sorted(names[s] for s in item[0])))[0]
        first, second = sorted((names[i], names[j]))
        sepsets[(first, second)] = tuple(sorted(names[s] for s in best))
    ambiguous = sorted(_named_triple(names, t) for t, v in verdicts.items() if v == "ambiguous")
    all_conflicts = sorted(tuple(sorted((names[u], names[v]))) for u, v in conflicts | meek_conflicts)
    return PCResult(list(names), directed, undirected, dict(sorted(sepsets.items())), tests_run + more_tests,
                    max_level, ambiguous, all_conflicts)


def _named_triple(names: list[str], triple: tuple[int, int, int]) -> tuple[str, str, str]:
    a, b, c = (names[i] for i in triple)
    return (a, b, c) if a < c else (c, b, a)
