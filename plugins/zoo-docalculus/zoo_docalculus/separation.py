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


def m_connected_nodes(graph: ADMG, sources: Iterable[str], given: Iterable[str] = ()) -> set[str]:
    """Every node joined to some source by a path that is open given ``given``."""
    given = set(given)
    sources = set(sources)
    ancestors_of_given = graph.ancestors(given)
    reached: set[str] = set()
    seen: set[tuple[str, bool]] = set()
    # state: (node, whether the edge we arrived by has an arrowhead at the node)
    stack = [(s, False) for s in sources]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        node, head = state
        if node not in sources:
            reached.add(node)
        # leave by a tail (node -> child): node is not a collider on this path
        if node not in given:
            for child in graph.children[node]:
                stack.append((child, True))
        # leave by an arrowhead at node (node <- parent, node <-> sibling): a collider iff we came in by one
        passes = (node in ancestors_of_given) if head else (node not in given)
        if passes:
            for parent in graph.parents[node]:
                stack.append((parent, False))
            for sibling in graph.siblings[node]:
                stack.append((sibling, True))
    return reached


def m_separated(graph: ADMG, xs: Iterable[str], ys: Iterable[str], given: Iterable[str] = ()) -> bool:
    """Whether ``xs`` and ``ys`` are m-separated given ``given`` in ``graph``."""
    xs, ys, given = set(xs), set(ys), set(given)
    for name, group in (("first", xs), ("second", ys)):
        if group & given:
            raise InputError(f"--dsep: {', '.join(sorted(group & given))} is both in the {name} set and conditioned on")
    if xs & ys:
        return False
    return not (m_connected_nodes(graph, xs, given) & ys)


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
