"""Adjustment: the back-door and front-door criteria, and every minimal back-door set.

Minimal back-door sets are the minimal m-separators of X and Y in G with X's outgoing edges
cut, drawn from the variables that are not descendants of X. Minimal separators lie among
the ancestors of X ∪ Y, where m-separation is separation in the augmented (moral) graph; so
the sets are the minimal a-b separators of one undirected graph, after the forbidden
variables are eliminated (their neighbours joined) and X, Y contracted to a and b. Those are
listed with polynomial delay by the close-separator walk of Berry, Bordat & Cogis / Kloks &
Kratsch: from a separator S, absorbing one x ∈ S into a's side and closing toward b gives
the next ones. No set contains a descendant of a treatment, so never a mediator.
"""

from __future__ import annotations

from collections import deque
from typing import AbstractSet, Iterable, Iterator

from .graph import ADMG
from .separation import m_separated

__all__ = ["is_backdoor", "is_frontdoor", "minimal_backdoor_sets"]


def is_backdoor(graph: ADMG, treatments: Iterable[str], outcomes: Iterable[str], adjust: Iterable[str]) -> bool:
    """Pearl's back-door criterion for a set (m-separation on graphs with latent confounders)."""
    x, y, z = set(treatments), set(outcomes), set(adjust)
    if z & graph.descendants(x) or z & y:
        return False
    return m_separated(graph.without_outgoing(x), x, y, z)


def is_frontdoor(graph: ADMG, treatments: Iterable[str], outcomes: Iterable[str], mediators: Iterable[str]) -> bool:
    """Pearl's front-door criterion: Z intercepts every directed path X -> Y, no open back-door
    path X to Z, and X blocks every back-door path from Z to Y."""
    x, y, z = set(treatments), set(outcomes), set(mediators)
    if not z or z & (x | y):
        return False
    if graph.subgraph(set(graph.nodes) - z).descendants(x) & y:
        return False
    if not m_separated(graph.without_outgoing(x), x, z):
        return False
    return m_separated(graph.without_outgoing(z), z, y, x)


def minimal_backdoor_sets(graph: ADMG, treatments: Iterable[str], outcomes: Iterable[str],
                          limit: int | None = None) -> Iterator[list[str]]:
    """Every minimal back-door adjustment set, each in topological order; at most ``limit``.

    Yields nothing when no set works (e.g. a latent confounder of X and Y); yields [] when
    X and Y need no adjustment.
    """
    x, y = set(treatments), set(outcomes)
    cut = graph.without_outgoing(x)
    relevant = cut.ancestors(x | y)
    allowed = relevant - x - y - graph.descendants(x)
    neighbours = _augmented(cut.subgraph(relevant))
    neighbours = _eliminate(neighbours, relevant - x - y - allowed)
    a, b = "\0a", "\0b"  # cannot clash with variable names
    neighbours = _contract(neighbours, x, a)
    neighbours = _contract(neighbours, y, b)
    if b in neighbours[a]:
        return
    count = 0
    for separator in _minimal_separators(neighbours, a, b):
        yield graph.sort(separator)
        count += 1
        if limit is not None and count >= limit:
            return


def _augmented(graph: ADMG) -> dict[str, set[str]]:
    """The moral graph of an ADMG: each district together with its parents is a clique."""
    neighbours: dict[str, set[str]] = {v: set() for v in graph.nodes}
    for district in graph.c_components():
        members = set(district)
        for v in district:
            members |= graph.parents[v]
        for v in members:
            neighbours[v] |= members - {v}
    return neighbours


def _eliminate(neighbours: dict[str, set[str]], forbidden: AbstractSet[str]) -> dict[str, set[str]]:
    """Remove ``forbidden`` nodes, joining the nodes each forbidden region touches."""
    result = {v: set(ns) - forbidden for v, ns in neighbours.items() if v not in forbidden}
    seen: set[str] = set()
    for start in forbidden:
        if start in seen:
            continue
        region, border, queue = {start}, set(), [start]
        while queue:
            for w in neighbours[queue.pop()]:
                if w in forbidden and w not in region:
                    region.add(w)
                    queue.append(w)
                elif w not in forbidden:
                    border.add(w)
        seen |= region
        for v in border:
            result[v] |= border - {v}
    return result


def _contract(neighbours: dict[str, set[str]], group: set[str], into: str) -> dict[str, set[str]]:
    joined = set().union(*(neighbours[v] for v in group)) - group
    result = {v: (ns - group) | ({into} if ns & group else set()) for v, ns in neighbours.items() if v not in group}
    result[into] = joined
    return result


def _component(neighbours: dict[str, set[str]], start: str, removed: set[str]) -> set[str]:
    seen, queue = {start}, [start]
    while queue:
        for w in neighbours[queue.pop()]:
            if w not in seen and w not in removed:
                seen.add(w)
                queue.append(w)
    return seen


def _boundary(neighbours: dict[str, set[str]], nodes: set[str]) -> set[str]:
    return set().union(*(neighbours[v] for v in nodes)) - nodes


def _close_to_b(neighbours: dict[str, set[str]], side: set[str], b: str) -> frozenset[str]:
    """The minimal separator nearest b among those separating ``side`` (holding a) from b."""
    around = _boundary(neighbours, side)
    return frozenset(_boundary(neighbours, _component(neighbours, b, around)))


def _minimal_separators(neighbours: dict[str, set[str]], a: str, b: str) -> Iterator[frozenset[str]]:
    first = _close_to_b(neighbours, {a}, b)
    seen = {first}
    queue = deque([first])
    while queue:
        separator = queue.popleft()
        yield separator  # one output per separator processed: polynomial delay
        side = _component(neighbours, a, set(separator))
        for v in sorted(separator):
            if b in neighbours[v]:
                continue
            grown = _close_to_b(neighbours, side | {v}, b)
            if grown not in seen:
                seen.add(grown)
                queue.append(grown)
