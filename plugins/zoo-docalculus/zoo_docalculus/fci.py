"""FCI causal discovery to a PAG, order-independent from skeleton to Zhang's rules.

FCI (Spirtes, Glymour & Scheines) allows latent confounders (and selection bias), so its result
is a partial ancestral graph: each edge end is a tail, an arrowhead or a circle (undetermined).
The steps, and what makes each one independent of the order of the variables (the "stable"
variants of Colombo & Maathuis 2014):

1. **Skeleton**: PC-stable's adjacency phase (:func:`zoo_docalculus.pc.skeleton`).
2. **Unshielded colliders** (R0): decided as in PC from every separating set of ``a`` and
   ``c`` among the subsets of their neighbours plus those found when the edge was removed, by
   the ``majority`` or ``conservative`` rule (:func:`zoo_docalculus.pc.collider_verdict`).
   Arrowheads are marks, so two colliders that meet make ``<->``, not a conflict.
3. **Possible-D-SEP** (FCI's second adjacency pass): ``Possible-D-SEP(x)`` is every node
   reached from ``x`` along a path whose every inner triple is a collider or a triangle, in
   the graph of step 2. All of them are computed *before* any edge is removed; then, level by
   level, every remaining edge ``x - y`` is tested given every subset of that size of
   ``Possible-D-SEP(x)`` and of ``Possible-D-SEP(y)`` (less ``x`` and ``y``) that step 1 did not
   already test (subsets of an adjacency set), and removals take effect at the end of the level.
   Only nodes of the edge's biconnected component are used (pcalg's ``biCC``): the others lie
   on no path between x and y, so they block nothing.
4. **Colliders again** on the final skeleton, from all separating sets found so far.
5. **Zhang's rules R1-R10** (:func:`zoo_docalculus.pag.close`), in synchronous rounds. R4's
   discriminating paths are decided by the same rule as colliders, from every separating set
   of the path's ends among their neighbours; a path whose evidence is split stays undecided.

``--depth`` caps the conditioning sets of every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from .pag import ARROW, NONE, close, edge_list, with_colliders
from .pc import BATCH, CITest, collider_verdict, separating_sets, skeleton

__all__ = ["FCIResult", "fci", "possible_d_sep"]

RULES = ("conservative", "majority")


@dataclass
class FCIResult:
    """A PAG over ``nodes`` and what the search found on the way."""

    nodes: list[str]
    marks: np.ndarray  # marks[i, j]: the mark at j on the edge i - j (see zoo_docalculus.pag)
    sepsets: dict[tuple[str, str], tuple[str, ...]]  # pair -> the separating set with the largest p-value
    tests_run: int
    max_level: int  # the largest conditioning set tested in the skeleton
    pdsep_level: int  # ... and in the Possible-D-SEP pass (-1: none tested)
    removed_by_pdsep: list[tuple[str, str]] = field(default_factory=list)
    ambiguous: list[tuple[str, str, str]] = field(default_factory=list)  # unshielded triples left open
    undecided: list[tuple[str, str, str]] = field(default_factory=list)  # (theta, beta, gamma) of R4 left open
    conflicts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def edges(self) -> list[tuple[str, str, int, int]]:
        """``(a, b, mark at a, mark at b)`` for every edge, as :func:`zoo_docalculus.pag.edge_list`."""
        return edge_list(self.marks, self.nodes)


class _Memo:
    """A CI test that runs each ``(x, y, S)`` once: FCI's orientation steps ask the same questions
    again (the colliders before and after Possible-D-SEP, and R4)."""

    def __init__(self, test: CITest) -> None:
        self.test, self.n_vars, self.count = test, test.n_vars, 0
        self.seen: dict[tuple[int, int, tuple[int, ...]], float] = {}

    def pvalues(self, x: np.ndarray, y: np.ndarray, S: np.ndarray) -> np.ndarray:
        keys = [(a, b, tuple(sorted(row))) if a < b else (b, a, tuple(sorted(row)))
                for a, b, row in zip(x.tolist(), y.tolist(), S.tolist())]
        new = [i for i, key in enumerate(keys) if key not in self.seen]
        if new:
            index = np.asarray(new, dtype=np.int64)
            values = self.test.pvalues(x[index], y[index], S[index])
            self.count += len(new)
            for i, value in zip(new, values.tolist()):
                self.seen[keys[i]] = value
        return np.array([self.seen[key] for key in keys], dtype=np.float64)


class _Separations:
    """The separating sets of non-adjacent pairs among their neighbours in one skeleton, found
    on first use and kept."""

    def __init__(self, test: CITest, adjacent: np.ndarray, separated: dict, alpha: float,
                 depth: int | None, rule: str) -> None:
        self.test, self.adjacent, self.separated = test, adjacent, separated
        self.alpha, self.depth, self.rule = alpha, depth, rule
        self.found: dict[tuple[int, int], set[tuple[int, ...]]] = {}

    def prepare(self, pairs) -> None:
        missing = sorted({(min(a, c), max(a, c)) for a, c in pairs} - set(self.found))
        if missing:
            found, _ = separating_sets(self.test, self.adjacent, self.separated, self.alpha, missing, self.depth)
            self.found.update(found)

    def verdict(self, a: int, b: int, c: int) -> str:
        return collider_verdict(self.found[(min(a, c), max(a, c))], b, self.rule)

    def triple_verdicts(self) -> dict[tuple[int, int, int], str]:
        """Every unshielded triple ``a - b - c`` (``a < c``): collider, noncollider or ambiguous."""
        adjacent = self.adjacent
        p = adjacent.shape[0]
        pairs = [(a, c) for a in range(p) for c in range(a + 1, p)
                 if not adjacent[a, c] and np.any(adjacent[a] & adjacent[c])]
        self.prepare(pairs)
        return {(a, b, c): self.verdict(a, b, c)
                for a, c in pairs for b in np.flatnonzero(adjacent[a] & adjacent[c]).tolist()}

    def decide(self, triples: list[tuple[int, int, int]]) -> list[str]:
        """R4's question for each ``(theta, beta, gamma)``, the pairs' tests run in one batch."""
        self.prepare((theta, gamma) for theta, _, gamma in triples)
        return [self.verdict(theta, beta, gamma) for theta, beta, gamma in triples]


def possible_d_sep(M: np.ndarray) -> list[set[int]]:
    """``Possible-D-SEP(x)`` for every node ``x`` of the partially oriented graph ``M``: the nodes
    reached from x along a path on which every inner node is a collider (``*-> b <-*``) or
    the middle of a triangle."""
    adjacent = M != NONE
    arrow = M == ARROW
    neighbours = [np.flatnonzero(row).tolist() for row in adjacent]
    result = []
    for x in range(M.shape[0]):
        seen = {(x, b) for b in neighbours[x]}
        queue = list(seen)
        reached = set()
        while queue:
            a, b = queue.pop()
            reached.add(b)
            for c in neighbours[b]:
                if c != a and (b, c) not in seen and ((arrow[a, b] and arrow[c, b]) or adjacent[a, c]):
                    seen.add((b, c))
                    queue.append((b, c))
        reached.discard(x)
        result.append(reached)
    return result


def _blocks(adjacent: np.ndarray) -> dict[tuple[int, int], frozenset[int]]:
    """The nodes of the biconnected component (block) of each edge ``(i, j)``, ``i < j``
    (Hopcroft & Tarjan, iteratively)."""
    p = adjacent.shape[0]
    neighbours = [np.flatnonzero(row).tolist() for row in adjacent]
    order, low = [-1] * p, [0] * p
    counter = 0
    edges: list[tuple[int, int]] = []
    block_of: dict[tuple[int, int], frozenset[int]] = {}
    for root in range(p):
        if order[root] != -1:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack = [(root, -1, iter(neighbours[root]))]
        while stack:
            node, parent, rest = stack[-1]
            for nxt in rest:
                if order[nxt] == -1:
                    edges.append((node, nxt))
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, node, iter(neighbours[nxt])))
                    break
                if nxt != parent and order[nxt] < order[node]:
                    edges.append((node, nxt))
                    low[node] = min(low[node], order[nxt])
            else:
                stack.pop()
                if stack:
                    above = stack[-1][0]
                    low[above] = min(low[above], low[node])
                    if low[node] >= order[above]:  # above separates node's subtree: a block ends
                        block: list[tuple[int, int]] = []
                        while not block or block[-1] != (above, node):
                            block.append(edges.pop())
                        nodes = frozenset(v for edge in block for v in edge)
                        for a, b in block:
                            block_of[(min(a, b), max(a, b))] = nodes
    return block_of


def _pdsep_pass(test: CITest, adjacent: np.ndarray, M: np.ndarray, alpha: float, depth: int | None
                ) -> tuple[np.ndarray, dict[tuple[int, int], list[tuple[tuple[int, ...], float]]], int, int]:
    """FCI's second adjacency pass, stable: the Possible-D-SEP sets are those of ``M``, fixed for
    the whole pass; removals take effect at the end of each level. An edge's sets are kept to
    its block (biconnected component) of the skeleton, as pcalg's ``biCC`` option does: a node
    off every path between x and y blocks nothing. Returns the new adjacency matrix, the
    separating sets (with p-values) of the pairs it separated, the number of tests run and the
    largest level tested."""
    pdsep = possible_d_sep(M)
    blocks = _blocks(adjacent)
    neighbours = [set(np.flatnonzero(row).tolist()) for row in adjacent]
    work = []  # (i, j, pools, already-tested neighbour sets)
    for i, j in zip(*np.nonzero(np.triu(adjacent))):
        i, j = int(i), int(j)
        pools = [sorted((pdsep[i] & blocks[(i, j)]) - {i, j}), sorted((pdsep[j] & blocks[(i, j)]) - {i, j})]
        tested = (np.array(sorted(neighbours[i] - {j}), dtype=np.int64),
                  np.array(sorted(neighbours[j] - {i}), dtype=np.int64))
        if any(not set(pool) <= set(t.tolist()) for pool in pools for t in tested):
            work.append((i, j, pools, tested))
    adjacent = adjacent.copy()
    separated: dict[tuple[int, int], list[tuple[tuple[int, ...], float]]] = {}
    count, level, max_level = 0, 1, -1
    while work and (depth is None or level <= depth):
        found: dict[tuple[int, int], list[tuple[tuple[int, ...], float]]] = {}
        pending: list[tuple[int, int, np.ndarray]] = []
        size = 0
        before = count

        def flush() -> None:
            nonlocal count, size
            if not pending:
                return
            S = np.concatenate([sets for _, _, sets in pending])
            x = np.concatenate([np.full(len(sets), i, dtype=np.int64) for i, _, sets in pending])
            y = np.concatenate([np.full(len(sets), j, dtype=np.int64) for _, j, sets in pending])
            values = test.pvalues(x, y, S)
            count += len(S)
            for row in np.flatnonzero(values > alpha).tolist():
                found.setdefault((int(x[row]), int(y[row])), []).append((tuple(S[row].tolist()), float(values[row])))
            pending.clear()
            size = 0

        for i, j, pools, tested in work:
            candidates = []
            for k, pool in enumerate(pools):
                if len(pool) < level:
                    continue
                sets = np.array(list(combinations(pool, level)), dtype=np.int64).reshape(-1, level)
                done = np.isin(sets, tested[0]).all(axis=1) | np.isin(sets, tested[1]).all(axis=1)
                if k == 1:  # a subset of both pools comes from the first
                    done |= np.isin(sets, pools[0]).all(axis=1)
                candidates.append(sets[~done])
            sets = np.concatenate(candidates) if candidates else np.empty((0, level), np.int64)
            if len(sets):
                pending.append((i, j, sets))
                size += len(sets)
                if size >= BATCH:
                    flush()
        flush()
        if count > before:
            max_level = level
        for i, j in found:
            adjacent[i, j] = adjacent[j, i] = False
        separated.update(found)
        work = [w for w in work if (w[0], w[1]) not in found and max(map(len, w[2])) > level]
        level += 1
    return adjacent, separated, count, max_level


def fci(test: CITest, names: list[str], alpha: float = 0.05, depth: int | None = None,
        orientation: str = "majority") -> FCIResult:
    """FCI, order-independent, on ``test`` (over variables ``names``), to a PAG."""
    if len(names) != test.n_vars:
        raise ValueError(f"{len(names)} names for {test.n_vars} variables")
    if orientation not in RULES:
        raise ValueError(f"orientation must be 'conservative' or 'majority', not {orientation!r}")
    adjacent, separated, tests_run, max_level = skeleton(test, alpha, depth)
    memo = _Memo(test)
    first = _Separations(memo, adjacent, separated, alpha, depth, orientation)
    verdicts = first.triple_verdicts()
    final_adjacent, more, pdsep_tests, pdsep_level = _pdsep_pass(
        test, adjacent, with_colliders(adjacent, verdicts), alpha, depth)
    tests_run += pdsep_tests
    separations = first
    if more:
        separated = {**separated, **more}
        separations = _Separations(memo, final_adjacent, separated, alpha, depth, orientation)
        verdicts = separations.triple_verdicts()
    marks, conflicts, undecided = close(with_colliders(final_adjacent, verdicts), verdicts, separations.decide)
    sepsets: dict[tuple[str, str], tuple[str, ...]] = {}
    for (i, j), found in separated.items():
        # the separating set with the largest p-value; ties by names, so no index order leaks in
        best = min(found, key=lambda item: (-item[1], sorted(names[s] for s in item[0])))[0]
        sepsets[_pair(names[i], names[j])] = tuple(sorted(names[s] for s in best))
    return FCIResult(
        nodes=list(names), marks=marks, sepsets=dict(sorted(sepsets.items())),
        tests_run=tests_run + memo.count, max_level=max_level, pdsep_level=pdsep_level,
        removed_by_pdsep=sorted(_pair(names[i], names[j]) for i, j in more),
        ambiguous=sorted(_named(names, t) for t, v in verdicts.items() if v == "ambiguous"),
        undecided=sorted(_named(names, t) for t in undecided),
        conflicts=sorted(_pair(names[u], names[v]) for u, v in conflicts))


def _pair(a: str, b: str) -> tuple[str, str]:
    """An unordered pair of names, in one order."""
    return (a, b) if a <= b else (b, a)


def _named(names: list[str], triple: tuple[int, int, int]) -> tuple[str, str, str]:
    a, b, c = (names[i] for i in triple)
    return (a, b, c) if a < c else (c, b, a)
