"""Partial ancestral graphs (PAGs): edge marks, Zhang's orientation rules R1-R10, and a validity check.

A PAG is a square matrix of marks ``M``: ``M[i, j]`` is the mark *at j* on the edge between
``i`` and ``j`` (0: no edge; CIRCLE, ARROW or TAIL), the convention of pcalg. So ``i -> j`` is
``M[i, j] == ARROW and M[j, i] == TAIL`` and ``i o-> j`` is ``M[i, j] == ARROW and M[j, i] == CIRCLE``.

:func:`close` applies the rules of Zhang (2008, "On the completeness of orientation rules for
causal discovery in the presence of latent confounders and selection bias") as that paper's
algorithm does: R1-R4 until none applies, then R1-R10 until none applies. Each round applies
every rule to the graph as it stood at the start of the round and then changes all the
proposed marks at once, so no rule's outcome depends on the order of the variables. A mark
that a round would set two ways, or that contradicts a mark already set, stays as it is and is
reported as a conflict (on exact independence facts this never happens). Rules that rely on an
unshielded triple being a non-collider (R1, R3, R7, and the uncovered paths of R5, R9, R10)
only use triples whose verdict is ``noncollider`` (see :func:`zoo_docalculus.pc.collider_verdict`),
as pcalg's conservative FCI does.

:func:`check` says whether a PAG is the PAG of some maximal ancestral graph (MAG): a PAG
estimated from finite data need not be, and what it implies is then not guaranteed.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any
from itertools import combinations

import numpy as np

__all__ = ["NONE", "CIRCLE", "ARROW", "TAIL", "MARK_NAMES", "edge_text", "edge_list", "edge_between", "close",
           "with_colliders", "mag_from_pag", "pag_of_mag", "mag_of_admg", "check"]

NONE, CIRCLE, ARROW, TAIL = 0, 1, 2, 3
MARK_NAMES = {CIRCLE: "circle", ARROW: "arrow", TAIL: "tail"}
_LEFT = {TAIL: "", CIRCLE: "o", ARROW: "<"}
_RIGHT = {TAIL: "-", CIRCLE: "o", ARROW: ">"}
_ORDER = {TAIL: 0, CIRCLE: 1, ARROW: 2}

#: (theta, beta, gamma) triples of discriminating paths -> "collider", "noncollider" or "ambiguous"
Decide = Callable[[list[tuple[int, int, int]]], list[str]]


def edge_text(a: str, b: str, mark_a: int, mark_b: int) -> str:
    """'A o-> B', 'A <-> B', 'A -> B', 'A -- B', 'A o-o B', 'A -o B' (the marks at A and at B)."""
    return f"{a} {_LEFT[mark_a]}-{_RIGHT[mark_b]} {b}"


def _canonical(a: str, b: str, mark_a: int, mark_b: int) -> tuple[str, str, int, int]:
    """The stronger mark on the right (arrow > circle > tail); names in order when the marks are equal."""
    return (b, a, mark_b, mark_a) if (_ORDER[mark_a], a) > (_ORDER[mark_b], b) else (a, b, mark_a, mark_b)


def edge_list(M: np.ndarray, names: Sequence[str]) -> list[tuple[str, str, int, int]]:
    """Every edge once as ``(a, b, mark at a, mark at b)``, written as :func:`edge_between` does; sorted."""
    return sorted(_canonical(names[i], names[j], int(M[j, i]), int(M[i, j]))
                  for i, j in zip(*np.nonzero(np.triu(M != NONE))))


def edge_between(M: np.ndarray, names: Sequence[str], i: int, j: int) -> str:
    """The edge between nodes ``i`` and ``j`` as text, the stronger mark on the right: ``A o-> B``."""
    return edge_text(*_canonical(names[i], names[j], int(M[j, i]), int(M[i, j])))


def with_colliders(adjacent: np.ndarray, verdicts: dict[tuple[int, int, int], str]) -> np.ndarray:
    """FCI's rule R0: every edge ``o-o``, then arrowheads at ``b`` for every collider ``a *-> b <-* c``."""
    M = np.where(adjacent, CIRCLE, NONE).astype(np.int8)
    for (a, b, c), verdict in verdicts.items():
        if verdict == "collider":
            M[a, b] = M[c, b] = ARROW
    return M


def _key(a: int, b: int, c: int) -> tuple[int, int, int]:
    return (a, b, c) if a < c else (c, b, a)


class _View:
    """The marks of one round, as boolean matrices, and the triple verdicts."""

    def __init__(self, M: np.ndarray, verdicts: dict[tuple[int, int, int], str]) -> None:
        self.M = M
        self.adj = M != NONE
        self.arrow = M == ARROW    # arrow[i, j]: i *-> j
        self.circle = M == CIRCLE  # circle[i, j]: i *-o j
        self.tail = M == TAIL      # tail[i, j]: i *-- j
        self.directed = self.arrow & self.tail.T  # i -> j
        # the edge i - j can be read from i to j on a possibly directed path: no arrowhead at i, no tail at j
        self.pd = self.adj & ~self.arrow.T & ~self.tail
        self.neighbours = [np.flatnonzero(row).tolist() for row in self.adj]
        self.verdicts = verdicts

    def noncollider(self, a: int, b: int, c: int) -> bool:
        """``a - b - c`` is unshielded and was judged a non-collider."""
        return self.verdicts.get(_key(a, b, c)) == "noncollider"

    def uncovered_path(self, start: int, step: int, target: int, allowed: np.ndarray,
                       arrive: Callable[[int, int], bool] | None = None) -> bool:
        """Whether a simple path ``start, step, ..., target`` exists whose edges all satisfy
        ``allowed[u, v]`` (read from u to v) and whose every inner triple is an unshielded
        non-collider; ``arrive(last, before_last)`` may veto the hop from ``last`` into ``target``."""
        stack = [(start, step, {start, step})]
        while stack:
            prev, cur, visited = stack.pop()
            for nxt in self.neighbours[cur]:
                if (not allowed[cur, nxt] or nxt in visited or self.adj[prev, nxt]
                        or not self.noncollider(prev, cur, nxt)):
                    continue
                if nxt == target:
                    if arrive is None or arrive(cur, prev):
                        return True
                    continue
                stack.append((cur, nxt, visited | {nxt}))
        return False


class _Round:
    """What one round proposes: moves, each a few marks that one rule sets together."""

    def __init__(self) -> None:
        self.moves: list[tuple[tuple[int, int, int], ...]] = []

    def set(self, *marks: tuple[int, int, int]) -> None:
        """Propose ``M[i, j] = mark`` (the mark at j on the edge i - j) for each ``(i, j, mark)``."""
        self.moves.append(marks)

    def apply(self, M: np.ndarray, conflicts: builtins.set[tuple[int, int]]) -> bool:  # (set: the method above)
        """Set the marks of every move none of whose marks is contested (proposed two ways, or
        against a mark already set); report the contested edges. Whether anything changed."""
        wanted: dict[tuple[int, int], set[int]] = {}
        for move in self.moves:
            for i, j, mark in move:
                wanted.setdefault((i, j), set()).add(mark)
        contested = {end for end, marks in wanted.items() if marks != {M[end]} and (M[end] != CIRCLE or len(marks) > 1)}
        conflicts.update((min(i, j), max(i, j)) for i, j in contested)
        changed = False
        for move in self.moves:
            if any((i, j) in contested for i, j, _ in move):
                continue
            for i, j, mark in move:
                if M[i, j] == CIRCLE:
                    M[i, j] = mark
                    changed = True
        return changed


def _r1(v: _View, out: _Round) -> None:
    # alpha *-> beta o-* gamma, alpha and gamma not adjacent: beta -> gamma
    for gamma, beta in zip(*np.nonzero(v.circle)):
        for alpha in np.flatnonzero(v.arrow[:, beta] & ~v.adj[:, gamma]).tolist():
            if alpha != gamma and v.noncollider(alpha, beta, gamma):
                out.set((beta, gamma, ARROW), (gamma, beta, TAIL))
                break


def _r2(v: _View, out: _Round) -> None:
    # alpha -> beta *-> gamma or alpha *-> beta -> gamma, and alpha *-o gamma: alpha *-> gamma
    directed, arrow = v.directed.astype(np.int32), v.arrow.astype(np.int32)
    through = ((directed @ arrow) > 0) | ((arrow @ directed) > 0)
    for alpha, gamma in zip(*np.nonzero(v.circle & through)):
        out.set((alpha, gamma, ARROW))


def _r3(v: _View, out: _Round) -> None:
    # alpha *-> beta <-* gamma, alpha *-o theta o-* gamma, alpha and gamma not adjacent, theta *-o beta: theta *-> beta
    for theta, beta in zip(*np.nonzero(v.circle)):
        candidates = np.flatnonzero(v.arrow[:, beta] & v.circle[:, theta]).tolist()
        if any(not v.adj[a, c] and v.noncollider(a, theta, c) for a, c in combinations(candidates, 2)):
            out.set((theta, beta, ARROW))


def _r4(v: _View, out: _Round, decide: Decide, undecided: set) -> None:
    # a discriminating path <theta, ..., alpha, beta, gamma> for beta, and beta o-* gamma:
    # beta -> gamma if beta separates theta from gamma, else alpha <-> beta <-> gamma
    found: list[tuple[int, int, int, int]] = []
    for gamma, beta in zip(*np.nonzero(v.circle)):
        gamma, beta = int(gamma), int(beta)
        for alpha in np.flatnonzero(v.arrow[beta] & v.directed[:, gamma]).tolist():
            for theta in _discriminating_ends(v, alpha, beta, gamma):
                found.append((theta, alpha, beta, gamma))
    if not found:
        return
    verdicts = decide([(theta, beta, gamma) for theta, _, beta, gamma in found])
    for (theta, alpha, beta, gamma), verdict in zip(found, verdicts):
        if verdict == "noncollider":
            out.set((gamma, beta, TAIL), (beta, gamma, ARROW))
        elif verdict == "collider":
            out.set((alpha, beta, ARROW), (gamma, beta, ARROW), (beta, gamma, ARROW))
        else:
            undecided.add((theta, beta, gamma))


def _discriminating_ends(v: _View, alpha: int, beta: int, gamma: int) -> set[int]:
    """Every ``theta`` of a discriminating path ``<theta, ..., alpha, beta, gamma>``: the inner
    nodes are colliders on the path and parents of gamma, theta is not adjacent to gamma. Each
    step only depends on the edge it takes, so a search over nodes finds exactly these ends."""
    ends: set[int] = set()
    seen, queue = {alpha}, [alpha]
    while queue:
        node = queue.pop()
        for prev in np.flatnonzero(v.arrow[:, node]).tolist():  # prev *-> node
            if prev in seen or prev in (beta, gamma):
                continue
            if not v.adj[prev, gamma]:
                ends.add(prev)
            elif v.directed[prev, gamma] and v.arrow[node, prev]:  # prev <-> node, prev -> gamma
                seen.add(prev)
                queue.append(prev)
    return ends


def _r5(v: _View, out: _Round) -> None:
    # alpha o-o beta on an uncovered circle cycle <alpha, gamma, ..., theta, beta, alpha>: every edge
    # on it becomes --. Each edge of such a cycle is itself an alpha o-o beta of the rule, so proposing
    # the edge alone, for every edge at once, orients what the rule orients.
    both = v.circle & v.circle.T
    for alpha, beta in zip(*np.nonzero(np.triu(both))):
        alpha, beta = int(alpha), int(beta)
        for gamma in np.flatnonzero(both[alpha] & ~v.adj[beta]).tolist():
            if gamma == beta or not v.noncollider(beta, alpha, gamma):
                continue
            if v.uncovered_path(alpha, gamma, beta, both,
                                arrive=lambda theta, _prev: not v.adj[theta, alpha]
                                and v.noncollider(theta, beta, alpha)):
                out.set((alpha, beta, TAIL), (beta, alpha, TAIL))
                break


def _r6(v: _View, out: _Round) -> None:
    # alpha -- beta o-* gamma: beta --* gamma
    undirected = v.tail & v.tail.T
    for gamma, beta in zip(*np.nonzero(v.circle)):
        if np.any(np.delete(undirected[:, beta], gamma)):
            out.set((gamma, beta, TAIL))


def _r7(v: _View, out: _Round) -> None:
    # alpha --o beta o-* gamma, alpha and gamma not adjacent: beta --* gamma
    for gamma, beta in zip(*np.nonzero(v.circle)):
        for alpha in np.flatnonzero(v.tail[beta] & v.circle[:, beta] & ~v.adj[:, gamma]).tolist():
            if alpha != gamma and v.noncollider(alpha, beta, gamma):
                out.set((gamma, beta, TAIL))
                break


def _partially_directed(v: _View) -> list[tuple[int, int]]:
    """Every ``alpha o-> gamma``."""
    return [(int(a), int(c)) for a, c in zip(*np.nonzero(v.arrow & v.circle.T))]


def _r8(v: _View, out: _Round) -> None:
    # alpha -> beta -> gamma or alpha --o beta -> gamma, and alpha o-> gamma: alpha -> gamma
    first = v.directed | (v.tail.T & v.circle)  # alpha -> beta, or alpha --o beta
    for alpha, gamma in _partially_directed(v):
        if np.any(first[alpha] & v.directed[:, gamma]):
            out.set((gamma, alpha, TAIL))


def _r9(v: _View, out: _Round) -> None:
    # alpha o-> gamma and an uncovered possibly directed path <alpha, beta, theta, ..., gamma>, beta and
    # gamma not adjacent: alpha -> gamma
    for alpha, gamma in _partially_directed(v):
        for beta in np.flatnonzero(v.pd[alpha] & ~v.adj[gamma]).tolist():
            if beta != gamma and v.uncovered_path(alpha, beta, gamma, v.pd):
                out.set((gamma, alpha, TAIL))
                break


def _r10(v: _View, out: _Round) -> None:
    # alpha o-> gamma, beta -> gamma <- theta, uncovered possibly directed paths from alpha to beta and
    # to theta whose first nodes mu and omega are distinct and not adjacent: alpha -> gamma
    for alpha, gamma in _partially_directed(v):
        parents = [b for b in np.flatnonzero(v.directed[:, gamma]).tolist() if b != alpha]
        if len(parents) < 2:
            continue
        firsts = [m for m in np.flatnonzero(v.pd[alpha]).tolist() if m != gamma]
        reach = {m: {t for t in parents if t == m or v.uncovered_path(alpha, m, t, v.pd)} for m in firsts}
        if any(not v.adj[mu, omega] and v.noncollider(mu, alpha, omega)
               and any(b != t for b in reach[mu] for t in reach[omega])
               for mu, omega in combinations(firsts, 2)):
            out.set((gamma, alpha, TAIL))


def close(M: np.ndarray, verdicts: dict[tuple[int, int, int], str], decide: Decide
          ) -> tuple[np.ndarray, set[tuple[int, int]], set[tuple[int, int, int]]]:
    """Apply R1-R4 to a fixpoint, then R1-R10 to a fixpoint, in synchronous rounds.

    ``verdicts``: each unshielded triple's verdict, keyed ``(a, b, c)`` with ``a < c``;
    ``decide``: R4's question, whether beta is a collider on a discriminating path from theta to
    gamma. Returns the marks, the edges with conflicting proposals and the discriminating-path
    triples left undecided (``ambiguous``).
    """
    M = M.copy()
    conflicts: set[tuple[int, int]] = set()
    undecided: set[tuple[int, int, int]] = set()
    arrowheads: tuple[Any, ...] = (_r1, _r2, _r3, "r4")
    every = arrowheads + (_r5, _r6, _r7, _r8, _r9, _r10)
    for rules in (arrowheads, every):
        while True:
            view, out = _View(M, verdicts), _Round()
            for rule in rules:
                if rule == "r4":
                    _r4(view, out, decide, undecided)
                else:
                    rule(view, out)
            if not out.apply(M, conflicts):
                break
    return M, conflicts, undecided


# -- is it the PAG of some MAG? --------------------------------------------------------------

def mag_from_pag(M: np.ndarray) -> np.ndarray | None:
    """A MAG in the class of a PAG without selection-bias marks (Zhang 2008, Theorem 2): ``o->``
    becomes ``->``, and the ``o-o`` edges are oriented along a maximum cardinality search order,
    which leaves no unshielded collider when that part of the PAG is chordal. None when a tail
    is not on a ``->`` edge (``--``, ``-o``: selection bias, which this does not handle)."""
    G = M.copy()
    tails = M == TAIL
    if np.any(tails & (M.T != ARROW)):
        return None
    G[(M == CIRCLE) & (M.T == ARROW)] = TAIL
    both = (M == CIRCLE) & (M.T == CIRCLE)
    if np.any((G == CIRCLE) & ~both):  # a circle opposite a tail
        return None
    rank = _maximum_cardinality_order(both)
    for i, j in zip(*np.nonzero(both)):
        G[i, j], G[j, i] = (ARROW, TAIL) if rank[i] < rank[j] else (TAIL, ARROW)
    return G


def _maximum_cardinality_order(adjacent: np.ndarray) -> list[int]:
    """Rank of each node in a maximum cardinality search (ties: the lowest index)."""
    p = adjacent.shape[0]
    numbered = np.zeros(p, dtype=bool)
    weight = np.zeros(p, dtype=np.int64)
    rank = [0] * p
    for step in range(p):
        node = int(np.argmax(np.where(numbered, -1, weight)))
        rank[node] = step
        numbered[node] = True
        weight += adjacent[node]
    return rank


def check(M: np.ndarray, names: Sequence[str]) -> str | None:
    """None if ``M`` is the PAG of some MAG, else why not (one sentence).

    Builds a MAG ``G`` from ``M`` (:func:`mag_from_pag`), checks that ``G`` is ancestral (no
    directed cycle, no ``a <-> b`` with ``a`` an ancestor of ``b``) and maximal (non-adjacent
    nodes are m-separated given their other ancestors), then rebuilds ``G``'s PAG with the same
    rules, colliders read off ``G``, and compares. If ``M`` is a valid PAG, ``G`` is in its class
    and the rebuilt PAG is ``M``; if the rebuilt PAG is ``M``, ``M`` is the PAG of ``G``.
    """
    from .graph import ADMG
    from .separation import m_separated

    G = mag_from_pag(M)
    if G is None:
        return "it has selection-bias marks (-- or -o), which this check does not handle"
    p = len(names)
    directed = (G == ARROW) & (G.T == TAIL)
    bidirected = (G == ARROW) & (G.T == ARROW)
    ancestors = _reachability(directed)
    if np.any(np.diag(ancestors)):
        return "its -> and o-> edges form a directed cycle"
    for a, b in zip(*np.nonzero(np.triu(bidirected))):
        if ancestors[a, b] or ancestors[b, a]:
            return f"{names[a]} <-> {names[b]} joins a node to its own ancestor in every MAG it allows"
    labels = [f"v{i}" for i in range(p)]  # names need not be graph-parser names
    graph = ADMG(labels, [(labels[i], labels[j]) for i, j in zip(*np.nonzero(directed))],
                 [(labels[i], labels[j]) for i, j in zip(*np.nonzero(np.triu(bidirected)))])
    adjacent = G != NONE
    for a, b in combinations(range(p), 2):
        if not adjacent[a, b]:
            others = (ancestors[:, a] | ancestors[:, b]).copy()
            others[[a, b]] = False
            if not m_separated(graph, [labels[a]], [labels[b]], [labels[k] for k in np.flatnonzero(others)]):
                return f"{names[a]} and {names[b]} are not adjacent, yet no set separates them in the MAGs it allows"
    rebuilt = pag_of_mag(G)
    if not np.array_equal(rebuilt, M):
        differ = [(names[i], names[j]) for i, j in zip(*np.nonzero(np.triu((rebuilt != M) | (rebuilt.T != M.T))))]
        a, b = differ[0]
        return f"the MAGs it allows mark the edge {a} - {b} differently (a PAG rebuilt from one of them differs)"
    return None


def pag_of_mag(G: np.ndarray) -> np.ndarray:
    """The PAG of the MAG ``G`` (marks without circles): FCI's orientation on G's skeleton, with
    colliders and discriminating paths read off G instead of tested."""
    adjacent = G != NONE
    verdicts = {}
    for b in range(G.shape[0]):
        for a, c in combinations(np.flatnonzero(adjacent[b]).tolist(), 2):
            if not adjacent[a, c]:
                verdicts[(a, b, c)] = "collider" if G[a, b] == ARROW and G[c, b] == ARROW else "noncollider"

    def decide(triples: list[tuple[int, int, int]]) -> list[str]:
        # beta's status on a discriminating path is G's: G[gamma, beta] is the mark at beta on
        # beta - gamma. If it is an arrowhead, so is the mark at beta on alpha - beta (else
        # beta -> alpha -> gamma and gamma <-> beta, which an ancestral G cannot have).
        return ["collider" if G[gamma, beta] == ARROW else "noncollider" for _, beta, gamma in triples]

    return close(with_colliders(adjacent, verdicts), verdicts, decide)[0]


def mag_of_admg(graph) -> np.ndarray:
    """The MAG of an acyclic graph with latent confounders (``zoo_docalculus.graph.ADMG``, nodes in
    its order): a, b adjacent iff no set m-separates them (then their other ancestors would,
    Richardson & Spirtes 2002), ``a -> b`` if a is an ancestor of b, else ``a <-> b``."""
    from .separation import m_separated

    names = list(graph.nodes)
    G = np.zeros((len(names),) * 2, dtype=np.int8)
    for i, j in combinations(range(len(names)), 2):
        a, b = names[i], names[j]
        if m_separated(graph, [a], [b], set(graph.ancestors({a, b})) - {a, b}):
            continue
        if a in graph.ancestors({b}):
            G[i, j], G[j, i] = ARROW, TAIL
        elif b in graph.ancestors({a}):
            G[i, j], G[j, i] = TAIL, ARROW
        else:
            G[i, j] = G[j, i] = ARROW
    return G


def _reachability(directed: np.ndarray) -> np.ndarray:
    """``R[i, j]``: a directed path of one or more edges from i to j."""
    R = directed.copy()
    while True:
        grown = R | ((R.astype(np.int32) @ directed.astype(np.int32)) > 0)
        if np.array_equal(grown, R):
            return R
        R = grown
