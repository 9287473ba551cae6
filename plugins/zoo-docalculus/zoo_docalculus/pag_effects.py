"""What a PAG lets one conclude: definite causes, latent confounding, and adjustment sets.

All of it assumes the PAG is valid (:func:`zoo_docalculus.pag.check`) and that there is no
selection bias; the analyzer says when either fails.

- **Definite ancestors**: a directed path of ``->`` edges from A to B; A is then an ancestor of
  B in every MAG of the class (a cause of B, without selection bias).
- **Latent confounding**: ``A <-> B`` in a PAG means neither causes the other, so a latent
  common cause links them, in every MAG. ``A o-> B`` and ``A o-o B`` allow one; so does
  ``A -> B`` unless the edge is *visible* (Zhang 2008): some C not adjacent to B has an edge
  into A, or a collider path into A whose inner nodes are all parents of B.
- **Adjustment** (Perković, Textor, Kalisch & Maathuis 2018, the generalized adjustment
  criterion, GAC): Z is an adjustment set for the effect of X on Y in every MAG of the class
  iff (a) the PAG is *amenable* (every proper possibly directed path from X to Y starts with a
  visible edge out of X), (b) Z holds no node of Forb(X, Y) (the possible descendants of the
  nodes other than X on proper possibly directed paths from X to Y) and (c) Z blocks every
  proper definite-status non-causal path from X to Y. If some set does, the set
  Adjust(X, Y) = PossAn(X u Y) minus X, Y and Forb(X, Y) does; so one check decides whether
  the effect is identifiable by adjustment from the PAG. The sets and the path search follow
  pcalg's ``gac`` (written with the criterion's authors).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .pag import ARROW, CIRCLE, NONE, TAIL, edge_between, edge_text

__all__ = ["definite_ancestors", "visible", "confounding", "Adjustment", "adjustment", "gac"]

#: The path search of condition (c) gives up after this many steps and says so.
SEARCH_LIMIT = 200_000


class _Marks:
    def __init__(self, M: np.ndarray) -> None:
        self.M = M
        self.adj = M != NONE
        self.arrow = M == ARROW  # arrow[i, j]: i *-> j
        self.tail = M == TAIL
        self.circle = M == CIRCLE
        self.directed = self.arrow & self.tail.T  # i -> j
        self.pd = self.adj & ~self.arrow.T & ~self.tail  # i - j readable from i to j on a possibly directed path
        self.neighbours = [np.flatnonzero(row).tolist() for row in self.adj]


def _closure(step: np.ndarray, sources: Iterable[int], avoid: Iterable[int] = ()) -> set[int]:
    """The sources and every node reached from them along ``step[u, v]``, never entering ``avoid``."""
    avoid = set(avoid)
    seen = set(sources)
    queue = list(seen)
    while queue:
        for nxt in np.flatnonzero(step[queue.pop()]).tolist():
            if nxt not in seen and nxt not in avoid:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def definite_ancestors(M: np.ndarray) -> list[tuple[int, int]]:
    """Every ``(a, b)``, ``a != b``, with a directed path of ``->`` edges from a to b."""
    directed = _Marks(M).directed
    return [(a, b) for a in range(len(M)) for b in sorted(_closure(directed, [a]) - {a})]


def visible(M: np.ndarray, a: int, b: int) -> bool:
    """Whether the edge ``a -> b`` is visible: no latent confounder of a and b is possible."""
    g = _Marks(M)
    seen, queue = {a}, [a]
    while queue:
        node = queue.pop()
        for c in np.flatnonzero(g.arrow[:, node]).tolist():  # c *-> node
            if c in seen or c == b:
                continue
            if not g.adj[c, b]:
                return True
            if g.directed[c, b] and g.arrow[node, c]:  # c <-> node, c -> b: the collider path goes on
                seen.add(c)
                queue.append(c)
    return False


def confounding(M: np.ndarray, names: Sequence[str]) -> tuple[list[tuple[str, str]], list[dict]]:
    """(pairs with a definite latent confounder, edges that allow one, each with why)."""
    g = _Marks(M)
    definite, possible = [], []
    for i, j in zip(*np.nonzero(np.triu(g.adj))):
        i, j = int(i), int(j)
        a, b = sorted((names[i], names[j]))
        if g.arrow[i, j] and g.arrow[j, i]:
            definite.append((a, b))
        elif g.circle[i, j] and g.circle[j, i]:
            possible.append({"pair": [a, b], "edge": edge_between(M, names, i, j),
                             "why": "either may cause the other, a latent may confound them, or both"})
        elif g.circle[i, j] or g.circle[j, i]:
            u, v = (i, j) if g.arrow[i, j] else (j, i)  # u o-> v
            possible.append({"pair": [a, b], "edge": edge_between(M, names, i, j),
                             "why": f"{names[v]} does not cause {names[u]}; {names[u]} may cause {names[v]}, "
                                    "a latent may confound them, or both"})
        elif g.directed[i, j] or g.directed[j, i]:
            u, v = (i, j) if g.directed[i, j] else (j, i)
            if not visible(M, u, v):
                possible.append({"pair": [a, b], "edge": f"{names[u]} -> {names[v]}",
                                 "why": f"{names[u]} causes {names[v]}, but the edge is not visible: "
                                        "a latent may confound them as well"})
    return sorted(definite), sorted(possible, key=lambda item: item["pair"])


# -- adjustment ------------------------------------------------------------------------------

class _TooLarge(Exception):
    pass


def _possible_descendants(g: _Marks, sources: Iterable[int], avoid: Iterable[int] = ()) -> set[int]:
    return _closure(g.pd, sources, avoid)


def _possible_ancestors(g: _Marks, targets: Iterable[int], avoid: Iterable[int] = ()) -> set[int]:
    return _closure(g.pd.T, targets, avoid)


def _amenability_problem(g: _Marks, X: set[int], Y: set[int]) -> tuple[int, int] | None:
    """The first edge of a proper possibly directed path from X to Y that is not a visible
    ``x -> c``, or None (the PAG is amenable)."""
    for x in sorted(X):
        for c in sorted(set(np.flatnonzero(g.pd[x]).tolist()) - X):
            if c in Y or _possible_descendants(g, [c], X) & Y:
                if not (g.directed[x, c] and visible(g.M, x, c)):
                    return x, c
    return None


def _forbidden(g: _Marks, X: set[int], Y: set[int]) -> set[int]:
    """Forb(X, Y): the possible descendants of every node not in X on a proper possibly directed
    path from X to Y (pcalg's ``forbiddenNodes``)."""
    after_x = set().union(*(_possible_descendants(g, [x], X - {x}) - {x} for x in X))
    before_y = set().union(*(_possible_ancestors(g, [y], X) for y in Y))
    on_paths = after_x & before_y
    return _possible_descendants(g, on_paths) if on_paths else set()


def _open_noncausal_path(g: _Marks, X: set[int], Y: set[int], Z: set[int]) -> list[int] | None:
    """A proper, definite-status, non-causal path from X to Y that Z does not block (m-connecting:
    its colliders have a descendant in Z, its definite non-colliders are not in Z), or None."""
    into_z = _closure(g.directed.T, Z)  # nodes with a descendant (by -> edges) in Z, Z included
    steps = 0
    stack: list[tuple[list[int], bool]] = []
    for x in sorted(X):
        for n in g.neighbours[x]:
            if n in X:
                continue
            noncausal = bool(g.arrow[n, x])  # the first edge points into x
            if n in Y and noncausal:
                return [x, n]
            stack.append(([x, n], noncausal))
    while stack:
        path, noncausal = stack.pop()
        steps += 1
        if steps > SEARCH_LIMIT:
            raise _TooLarge
        prev, cur = path[-2], path[-1]
        for nxt in g.neighbours[cur]:
            if nxt in X or nxt in path:
                continue
            collider = g.arrow[prev, cur] and g.arrow[nxt, cur]
            noncollider = (g.tail[prev, cur] or g.tail[nxt, cur]
                           or (g.circle[prev, cur] and g.circle[nxt, cur] and not g.adj[prev, nxt]))
            if not (collider or noncollider):
                continue  # not of definite status
            if (collider and cur not in into_z) or (not collider and cur in Z):
                continue  # blocked here
            now = noncausal or bool(g.arrow[nxt, cur])  # an edge pointing back makes it non-causal
            if nxt in Y and now:
                return path + [nxt]
            stack.append((path + [nxt], now))
    return None


def gac(M: np.ndarray, X: Iterable[int], Y: Iterable[int], Z: Iterable[int]) -> tuple[bool, str]:
    """Whether Z satisfies the generalized adjustment criterion relative to (X, Y) in the PAG
    ``M``, and which condition fails (``"amenability"``, ``"forbidden"``, ``"blocking"``, or ``""``)."""
    g = _Marks(M)
    X, Y, Z = set(X), set(Y), set(Z)
    if _amenability_problem(g, X, Y) is not None:
        return False, "amenability"
    if _forbidden(g, X, Y) & Z:
        return False, "forbidden"
    if _open_noncausal_path(g, X, Y, Z) is not None:
        return False, "blocking"
    return True, ""


@dataclass
class Adjustment:
    """What the PAG says about the effect of ``treatment`` on ``outcome``.

    ``verdict``: ``identifiable`` (``adjustment_set`` works in every MAG of the class;
    ``minimal_set`` is a minimal subset that still does), ``not identifiable by adjustment``
    (no set does: ``reason`` says why, with the path or edge), or ``not decided``.
    ``no_effect``: no treatment is a possible ancestor of an outcome, so without selection bias
    ``P(outcome | do(treatment)) = P(outcome)`` whatever the verdict on adjustment.
    """

    treatment: list[str]
    outcome: list[str]
    verdict: str
    reason: str = ""
    adjustment_set: list[str] | None = None
    minimal_set: list[str] | None = None
    no_effect: bool = False
    forbidden: list[str] = field(default_factory=list)


def adjustment(M: np.ndarray, names: Sequence[str], treatment: Sequence[str], outcome: Sequence[str]) -> Adjustment:
    """Decide by the generalized adjustment criterion whether the effect of ``treatment`` on
    ``outcome`` is identifiable by covariate adjustment from the PAG ``M`` (assumed valid and
    free of selection bias: the caller checks both)."""
    index = {n: i for i, n in enumerate(names)}
    X, Y = {index[n] for n in treatment}, {index[n] for n in outcome}
    g = _Marks(M)
    label = lambda nodes: sorted(names[i] for i in nodes)  # noqa: E731
    answer = Adjustment(list(treatment), list(outcome), verdict="not decided")
    answer.no_effect = not (_possible_descendants(g, X) & Y)
    problem = _amenability_problem(g, X, Y)
    if problem is not None:
        x, c = problem
        edge = edge_between(M, names, x, c)
        why = ("is not directed out of" if not g.directed[x, c]
               else "is not visible (a latent confounder may sit beside it), out of")
        answer.verdict = "not identifiable by adjustment"
        answer.reason = (f"the PAG is not amenable: {edge} starts a possibly causal path from "
                         f"{names[x]} to {', '.join(outcome)} and {why} {names[x]}; "
                         "no set adjusts for the effect in every MAG of the class")
        return answer
    forbidden = _forbidden(g, X, Y)
    answer.forbidden = label(forbidden)
    candidate = _possible_ancestors(g, X | Y) - X - Y - forbidden
    try:
        path = _open_noncausal_path(g, X, Y, candidate)
        if path is not None:
            answer.verdict = "not identifiable by adjustment"
            answer.reason = (f"even Adjust({', '.join(treatment)}; {', '.join(outcome)}) = "
                             f"{{{', '.join(label(candidate))}}} leaves the non-causal path "
                             f"{_path_text(path, names, M)} open, so no set satisfies the generalized "
                             "adjustment criterion (Perkovic et al. 2018)")
            return answer
        minimal = set(candidate)
        for node in sorted(candidate, key=lambda i: names[i]):
            if _open_noncausal_path(g, X, Y, minimal - {node}) is None:
                minimal.discard(node)
    except _TooLarge:
        answer.reason = f"the path search of the criterion stopped after {SEARCH_LIMIT} steps (a large, dense PAG)"
        return answer
    answer.verdict = "identifiable"
    answer.adjustment_set = label(candidate)
    answer.minimal_set = label(minimal)
    return answer


def _path_text(path: list[int], names: Sequence[str], M: np.ndarray) -> str:
    parts = [names[path[0]]]
    for u, v in zip(path, path[1:]):
        parts.append(edge_text("", "", int(M[v, u]), int(M[u, v])).strip())
        parts.append(names[v])
    return " ".join(parts)
