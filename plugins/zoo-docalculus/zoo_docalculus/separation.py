"""m-separation: d-separation for graphs with bidirected edges.

A path is open given Z when every collider on it is an ancestor of Z (or in Z) and no
other node on it is in Z. A node is a collider when both path edges have an arrowhead at it;
``A <-> B <-> C`` makes B a collider, so conditioning on B *opens* that path (a case other
libraries get wrong). Reachability over (node, arrived-with-arrowhead) states is linear in
the size of the graph.
"""

from __future__ import annotations

import re
from typing import Iterable

from zoo_core import InputError

from .graph import ADMG, parse_names

__all__ = ["m_separated", "m_connected_nodes", "parse_dsep"]


def m_connected_nodes(graph: ADMG, sources: Iterable[str], given: Iterable[str] = (),
                      targets: Iterable[str] = ()) -> set[str]:
    """Nodes joined to some source by a path that is open given ``given``.

    With ``targets``, only the nodes up to the last of sources, targets and ``given`` in a
    topological order are explored: that prefix is an ancestral set, which decides
    m-separation between them, and the search stays near the sources when paths are blocked
    (no ancestor set is built up front, so one question on a long chain costs what the
    search visits, not the chain's length). The ancestors of ``given``, needed only when the
    search enters a node by an arrowhead outside ``given``, are found by a search down from it.
    """
    given = frozenset(given)
    sources = frozenset(sources)
    targets = frozenset(targets)
    rank = graph.rank
    limit = max(rank[v] for v in sources | targets | given) if targets else len(rank)
    parents, children, siblings = graph.parents, graph.children, graph.siblings
    last_given = max((rank[v] for v in given), default=-1)
    known: dict[str, bool] = {v: True for v in given}  # node -> is it an ancestor of ``given``?

    def ancestor_of_given(node: str) -> bool:
        """A search down from ``node`` that never passes the last node of ``given``: local on
        long graphs, where the ancestor set of ``given`` may be the whole graph. Every node it
        passes through on the way to ``given`` is remembered as an ancestor, every node of a
        fruitless search as not one."""
        if node not in known:
            came_from: dict[str, str | None] = {node: None}
            stack, found = [node], None
            while stack and found is None:
                at = stack.pop()
                for child in children[at]:
                    if known.get(child):
                        found = at
                        break
                    if child not in came_from and child not in known and rank[child] <= last_given:
                        came_from[child] = at
                        stack.append(child)
            if found is None:
                known.update(dict.fromkeys(came_from, False))
            else:
                step: str | None = found
                while step is not None:
                    known[step] = True
                    step = came_from[step]
        return known[node]

    # two frontiers: nodes entered by an arrowhead (a collider if we leave by one too) and by a tail
    by_head: set[str] = set()
    by_tail: set[str] = set(sources)
    heads: list[str] = []
    tails: list[str] = list(sources)
    while heads or tails:
        if tails:
            node = tails.pop()
            collider_ok = node not in given  # entered by a tail: never a collider
            through_ok = collider_ok
        else:
            node = heads.pop()
            through_ok = node not in given
            collider_ok = not through_ok or ancestor_of_given(node)
        if through_ok:  # leave by a tail: node -> child
            for child in children[node]:
                if child not in by_head and rank[child] <= limit:
                    by_head.add(child)
                    heads.append(child)
        if collider_ok:  # leave by an arrowhead at node: node <- parent, node <-> sibling
            for parent in parents[node]:
                if parent not in by_tail:  # a parent comes before its child: inside the prefix
                    by_tail.add(parent)
                    tails.append(parent)
            for sibling in siblings[node]:
                if sibling not in by_head and rank[sibling] <= limit:
                    by_head.add(sibling)
                    heads.append(sibling)
    return (by_head | by_tail) - sources


def m_separated(graph: ADMG, xs: Iterable[str], ys: Iterable[str], given: Iterable[str] = ()) -> bool:
    """Whether ``xs`` and ``ys`` are m-separated given ``given`` in ``graph``."""
    xs, ys, given = set(xs), set(ys), set(given)
    for name, group in (("first", xs), ("second", ys)):
        if group & given:
            raise InputError(f"--dsep: {', '.join(sorted(group & given))} is both in the {name} set and conditioned on")
    if xs & ys:
        return False
    key = (frozenset(xs), frozenset(ys), frozenset(given))
    if key not in graph.separations:
        graph.separations[key] = not (m_connected_nodes(graph, xs, given, targets=ys) & ys)
    return graph.separations[key]


_DSEP = re.compile(r"^(?P<x>[^|]+?)\s*_\|\|_\s*(?P<y>[^|]+?)\s*(?:\|\s*(?P<z>.*))?$")


def parse_dsep(text: str) -> tuple[list[str], list[str], list[str]]:
    """'A, B _||_ C | D, E' -> (['A', 'B'], ['C'], ['D', 'E'])."""
    match = _DSEP.match(text.strip())
    if not match:
        raise InputError(f"--dsep: cannot read {text!r}; write 'A, B _||_ C | D, E' (the '| ...' part is optional)")
    xs = parse_names(match["x"], "--dsep")
    ys = parse_names(match["y"], "--dsep")
    zs = parse_names(match["z"] or "", "--dsep")
    if not xs or not ys:
        raise InputError(f"--dsep: {text!r} needs variables on both sides of _||_")
    return xs, ys, zs
