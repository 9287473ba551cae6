"""Causal diagrams over observed variables: directed edges and bidirected edges (an ADMG).

A bidirected edge ``A <-> B`` stands for a latent common cause of A and B. Graphs are
immutable; the mutilations the do-calculus needs (``without_incoming``, ``without_outgoing``,
``subgraph``) return new graphs.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable

from zoo_core import InputError

__all__ = ["ADMG", "parse_graph", "parse_names"]

#: A variable name: letters (any script: 'température' is a column pc reads), digits and _, not starting with a digit.
_NAME = re.compile(r"[^\W\d]\w*")
#: Written for interventions in queries, P(Y | do(X)); a node of that name could not be asked about.
RESERVED = frozenset({"do"})
_ARROW = re.compile(r"\s*(<->|->|<-)\s*")


class ADMG:
    """An acyclic directed mixed graph. ``nodes`` keeps the order the user gave."""

    def __init__(self, nodes: Iterable[str], directed: Iterable[tuple[str, str]] = (),
                 bidirected: Iterable[tuple[str, str]] = (), *, _checked: bool = False) -> None:
        self.nodes: tuple[str, ...] = tuple(dict.fromkeys(nodes))
        self.__dict__["directed"] = frozenset((a, b) for a, b in directed)
        self.__dict__["bidirected"] = frozenset(tuple(sorted((a, b))) for a, b in bidirected)
        self.separations: dict = {}  # m-separation answers, memoised (the graph never changes)
        if not _checked:
            known = set(self.nodes)
            for a, b in [*self.directed, *self.bidirected]:
                for node in (a, b):
                    if node not in known:
                        raise InputError(f"--graph: edge {a} - {b} names {node!r}, which is not a node")
                if a == b:
                    raise InputError(f"--graph: self-loop on {a}; a variable cannot cause itself")
        self.parents: dict[str, set[str]] = {n: set() for n in self.nodes}
        self.children: dict[str, set[str]] = {n: set() for n in self.nodes}
        self.siblings: dict[str, set[str]] = {n: set() for n in self.nodes}
        for a, b in self.directed:
            self.children[a].add(b)
            self.parents[b].add(a)
        for a, b in self.bidirected:
            self.siblings[a].add(b)
            self.siblings[b].add(a)
        if not _checked:
            self.topological_order  # raises on a cycle

    # -- reading --------------------------------------------------------------------------

    @cached_property
    def position(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.nodes)}

    @cached_property
    def topological_order(self) -> tuple[str, ...]:
        """Parents before children; ties broken by the order the nodes were given."""
        import heapq

        waiting = {n: len(self.parents[n]) for n in self.nodes}
        ready = [(self.position[n], n) for n in self.nodes if waiting[n] == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, node = heapq.heappop(ready)
            order.append(node)
            for child in self.children[node]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, (self.position[child], child))
        if len(order) < len(self.nodes):
            raise InputError(f"--graph: the directed edges form a cycle: {self._cycle()}; a causal diagram must be acyclic")
        return tuple(order)

    def _cycle(self) -> str:
        """One directed cycle, ``a -> b -> a`` (iterative: a cycle through thousands of nodes is named too)."""
        colour: dict[str, int] = {}
        for start in self.nodes:
            if start in colour:
                continue
            path: list[str] = [start]
            children = [iter(sorted(self.children[start], key=self.position.__getitem__))]
            colour[start] = 1
            while path:
                child = next(children[-1], None)
                if child is None:
                    colour[path.pop()] = 2
                    children.pop()
                elif colour.get(child) == 1:
                    return _name_cycle(path[path.index(child):] + [child])
                elif child not in colour:
                    colour[child] = 1
                    path.append(child)
                    children.append(iter(sorted(self.children[child], key=self.position.__getitem__)))
        return "?"

    def sort(self, names: Iterable[str]) -> list[str]:
        """``names`` in topological order."""
        rank = self.rank
        return sorted(names, key=rank.__getitem__)

    @cached_property
    def rank(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.topological_order)}

    def check_names(self, names: Iterable[str], what: str) -> None:
        """One-line error for a variable the graph does not have."""
        for name in names:
            if name not in self.parents:
                raise InputError(f"{what}: {name!r} is not a node of the graph (nodes: {', '.join(self.nodes)})")

    def ancestors(self, names: Iterable[str], *, cut: set[str] | frozenset[str] = frozenset()) -> frozenset[str] | set[str]:
        """``names`` and every node with a directed path into them; with ``cut``, in the graph
        whose edges into ``cut`` are removed (without building that graph)."""
        if not cut:
            key: Any = names if isinstance(names, frozenset) else frozenset(names)
            memo = self.__dict__.setdefault("_ancestors", {})
            if key not in memo:
                memo[key] = frozenset(self._closure(key, self.parents))
            return memo[key]
        key = (frozenset(names), frozenset(cut))
        memo = self.__dict__.setdefault("_ancestors", {})
        if key in memo:
            return memo[key]
        seen = set(key[0])
        queue = [v for v in seen if v not in cut]
        while queue:
            for parent in self.parents[queue.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    if parent not in cut:
                        queue.append(parent)
        memo[key] = frozenset(seen)
        return memo[key]

    def descendants(self, names: Iterable[str]) -> set[str]:
        """``names`` and every node they have a directed path to."""
        return self._closure(names, self.children)

    @staticmethod
    def _closure(names: Iterable[str], step: dict[str, set[str]]) -> set[str]:
        seen = set(names)
        queue = list(seen)
        while queue:
            for nxt in step[queue.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    def c_components(self, without: set[str] | frozenset[str] = frozenset()) -> list[set[str]]:
        """The districts: sets of nodes connected by bidirected edges; with ``without``, the
        districts of the graph with those nodes removed (without building it)."""
        key = frozenset(without)
        memo = self.__dict__.setdefault("_memo_districts", {})
        if key not in memo:
            memo[key] = self._districts(key)
        return [set(d) for d in memo[key]]

    def _districts(self, without: frozenset[str]) -> list[frozenset[str]]:
        seen: set[str] = set(without)
        components = []
        for node in self.nodes:
            if node in seen:
                continue
            component, queue = {node}, [node]
            while queue:
                for sibling in self.siblings[queue.pop()]:
                    if sibling not in seen and sibling not in component:
                        component.add(sibling)
                        queue.append(sibling)
            seen |= component
            components.append(frozenset(component))
        return components

    def district(self, node: str) -> set[str]:
        return self._closure([node], self.siblings)

    def is_district(self, nodes: set[str] | frozenset[str]) -> bool:
        """Whether ``nodes`` (connected by bidirected edges among themselves) is a whole district."""
        districts = self.__dict__.get("_district_of")
        if districts is None:
            districts = self.__dict__["_district_of"] = {v: d for d in self._districts(frozenset()) for v in d}
        return len(districts[next(iter(nodes))]) == len(nodes)

    # -- mutilating -----------------------------------------------------------------------

    def subgraph(self, keep: Iterable[str], *, ancestral: bool = False) -> ADMG:
        """The graph induced on ``keep`` (built from this graph's adjacency: ID calls it often).

        ``ancestral=True`` promises that ``keep`` holds every ancestor of its members: ancestors
        and m-separations among its nodes are then the same in both graphs, so the subgraph
        shares this graph's memos.
        """
        keep = frozenset(keep)
        memo = self.__dict__.setdefault("_subgraphs", {})
        if keep in memo:
            return memo[keep]
        graph = memo[keep] = ADMG.__new__(ADMG)
        graph.nodes = tuple(n for n in self.nodes if n in keep)
        graph.parents = {n: self.parents[n] & keep for n in graph.nodes}
        graph.children = {n: self.children[n] & keep for n in graph.nodes}
        graph.siblings = {n: self.siblings[n] & keep for n in graph.nodes}
        graph.separations = self.separations if ancestral else {}
        if ancestral:
            graph.__dict__["_ancestors"] = self.__dict__.setdefault("_ancestors", {})
        return graph

    @cached_property
    def directed(self) -> frozenset[tuple[str, str]]:  # type: ignore[no-redef]
        return frozenset((a, b) for b in self.nodes for a in self.parents[b])

    @cached_property
    def bidirected(self) -> frozenset[tuple[str, str]]:  # type: ignore[no-redef]
        return frozenset((a, b) for a in self.nodes for b in self.siblings[a] if a < b)

    def without_incoming(self, names: Iterable[str]) -> ADMG:
        """G with arrows into ``names`` cut (directed and bidirected): the graph of do(names)."""
        cut = set(names)
        return ADMG(self.nodes, [(a, b) for a, b in self.directed if b not in cut],
                    [(a, b) for a, b in self.bidirected if a not in cut and b not in cut], _checked=True)

    def without_outgoing(self, names: Iterable[str]) -> ADMG:
        """G with directed edges out of ``names`` cut."""
        cut = set(names)
        return ADMG(self.nodes, [(a, b) for a, b in self.directed if a not in cut], self.bidirected, _checked=True)

    # -- writing --------------------------------------------------------------------------

    def edge_lists(self) -> dict[str, list]:
        order = self.position
        return {
            "nodes": list(self.nodes),
            "directed": [list(e) for e in sorted(self.directed, key=lambda e: (order[e[0]], order[e[1]]))],
            "bidirected": [list(e) for e in sorted(self.bidirected, key=lambda e: (order[e[0]], order[e[1]]))],
        }

    def __str__(self) -> str:
        lists = self.edge_lists()
        edges = [f"{a} -> {b}" for a, b in lists["directed"]] + [f"{a} <-> {b}" for a, b in lists["bidirected"]]
        lonely = [n for n in self.nodes if not (self.parents[n] or self.children[n] or self.siblings[n])]
        return "; ".join(edges + lonely)

    def __repr__(self) -> str:
        return f"ADMG({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ADMG) and set(self.nodes) == set(other.nodes)
                and self.directed == other.directed and self.bidirected == other.bidirected)

    def __hash__(self) -> int:
        return hash((frozenset(self.nodes), self.directed, self.bidirected))


def parse_names(text: str, what: str) -> list[str]:
    """'X1, X2' -> ['X1', 'X2'], each checked to be an identifier."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if not _NAME.fullmatch(name):
            raise InputError(f"{what}: {name!r} is not a variable name (letters, digits and _, not starting with a digit)")
    return names


def _not_reserved(names: Iterable[str], at: str) -> None:
    for name in names:
        if name in RESERVED:
            raise InputError(f"{at}: a node cannot be named {name!r}: queries write interventions as do(X); "
                             "rename the node (e.g. do_)")


def parse_graph(spec: str | Path) -> ADMG:
    """A graph from inline text (``"Z -> X; X -> Y; X <-> Y"``) or a file (.json or text)."""
    text = str(spec)
    path = Path(text)
    looks_like_file = "->" not in text and "<-" not in text and ";" not in text and "\n" not in text
    try:
        is_file = path.is_file()
    except OSError:  # a very long inline graph is not a path
        is_file = False
    if is_file:
        try:
            content = path.read_text(encoding="utf-8-sig")  # files saved with a BOM read too
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"--graph {path}: cannot read the file ({error})") from None
        if path.suffix.lower() == ".json":
            return _from_json(content, path)
        return _from_text(content, f"--graph {path}")
    if looks_like_file and (path.suffix or "/" in text):
        raise InputError(f"--graph {text}: no such file; pass a file or inline edges like 'A -> B; B -> C'")
    return _from_text(text, "--graph")


def _from_text(text: str, where: str) -> ADMG:
    nodes: list[str] = []
    directed: list[tuple[str, str]] = []
    bidirected: list[tuple[str, str]] = []
    statements = []
    for line_number, line in enumerate(text.splitlines() or [""], start=1):
        line = line.split("#", 1)[0]
        statements += [(line_number, part.strip()) for part in line.split(";") if part.strip()]
    if not statements:
        raise InputError(f"{where}: the graph is empty; write edges like 'Z -> X; X -> Y; X <-> Y'")
    for line_number, statement in statements:
        at = f"{where}: line {line_number}" if "\n" in text.strip() else where
        pieces = _ARROW.split(statement)
        names, arrows = pieces[0::2], pieces[1::2]
        for name in names:
            if not _NAME.fullmatch(name.strip()):
                raise InputError(f"{at}: cannot read {statement!r}; write edges as 'A -> B', 'A <- B' "
                                 "or 'A <-> B' with names made of letters, digits and _")
        names = [n.strip() for n in names]
        _not_reserved(names, at)
        nodes += names
        for (a, b), arrow in zip(zip(names, names[1:]), arrows):
            if a == b:
                raise InputError(f"{at}: self-loop on {a}; a variable cannot cause itself")
            if arrow == "->":
                directed.append((a, b))
            elif arrow == "<-":
                directed.append((b, a))
            else:
                bidirected.append((a, b))
    return ADMG(nodes, directed, bidirected)


def _from_json(content: str, path: Path) -> ADMG:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as error:
        raise InputError(f"--graph {path}: not valid JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes", []), list):
        raise InputError(f'--graph {path}: expected {{"nodes": [...], "directed": [[a, b], ...], "bidirected": [[a, b], ...]}}')
    unknown = set(data) - {"nodes", "directed", "bidirected"}
    if unknown:
        raise InputError(f"--graph {path}: unknown key {sorted(unknown)[0]!r}; the keys are nodes, directed, bidirected")
    edges: dict[str, list[tuple[str, str]]] = {}
    for kind in ("directed", "bidirected"):
        pairs = data.get(kind, [])
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2
                                                   and all(isinstance(n, str) for n in p) for p in pairs):
            raise InputError(f"--graph {path}: {kind!r} must be a list of [from, to] pairs of names")
        edges[kind] = [tuple(p) for p in pairs]
    nodes = list(data.get("nodes", []))
    for name in nodes + [n for pairs in edges.values() for p in pairs for n in p]:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InputError(f"--graph {path}: {name!r} is not a variable name (letters, digits and _)")
    _not_reserved(nodes + [n for pairs in edges.values() for p in pairs for n in p], f"--graph {path}")
    declared = set(nodes)
    if nodes:
        for a, b in edges["directed"] + edges["bidirected"]:
            for name in (a, b):
                if name not in declared:
                    raise InputError(f"--graph {path}: edge {a} - {b} names {name!r}, which is not in \"nodes\"")
    nodes += [n for pairs in edges.values() for p in pairs for n in p]
    return ADMG(nodes, edges["directed"], edges["bidirected"])


def _name_cycle(cycle: list[str], shown: int = 12) -> str:
    """``a -> b -> a``; a long cycle keeps its first and last nodes and says how many it skipped."""
    if len(cycle) <= shown:
        return " -> ".join(cycle)
    head, tail = cycle[:shown // 2], cycle[-(shown // 2):]
    return " -> ".join(head) + f" -> ... ({len(cycle) - shown} more) -> " + " -> ".join(tail)
