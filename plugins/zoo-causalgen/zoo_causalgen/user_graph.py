"""The causal graph of a user's attributes and image: given, implied, or discovered.

The text is zoo-docalculus's syntax (``"thickness -> intensity; thickness -> image"``: statements
separated by ``;`` or new lines, chains ``a -> b -> c``, reversed arrows ``b <- a``, lone nodes,
``#`` comments) over the CSV's attribute columns plus one node called ``image``. Without an
``image`` node, every attribute causes the image; a column the graph leaves out is an
independent cause of the image (with a note on stderr). A deep SCM has no latent confounders, so a
bidirected edge (``<->``) is refused, as are an attribute caused by the image, a node that is no
column and a cycle, each in one line naming it.

``discover`` finds the graph among the attributes from the CSV with zoo-docalculus's PC or FCI
(through ``zoo_core.run``, as any plugin would) and refuses edges it cannot orient, listing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from zoo_core import InputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["AttributeGraph", "parse_graph", "implied_graph", "discover_graph", "config_graph_text", "IMAGE"]

IMAGE = "image"
_ARROW = re.compile(r"\s*(<->|->|<-|--|o->|<-o|o-o)\s*")


@dataclass(frozen=True)
class AttributeGraph:
    """Parents of each attribute (in a topological order) and the parents of the image."""

    parents: dict[str, tuple[str, ...]]
    image_parents: tuple[str, ...]

    @property
    def order(self) -> list[str]:
        return list(self.parents)

    def text(self) -> str:
        """The graph in zoo-docalculus's syntax, image edges included."""
        edges = [f"{p} -> {child}" for child, ps in self.parents.items() for p in ps]
        edges += [f"{p} -> {IMAGE}" for p in self.image_parents]
        used = {p for ps in self.parents.values() for p in ps} | {c for c, ps in self.parents.items() if ps} \
            | set(self.image_parents)
        lonely = [n for n in self.parents if n not in used]
        return "; ".join(edges + lonely)


def _statements(text: str) -> list[str]:
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    return [s.strip() for s in ";".join(lines).split(";") if s.strip()]


def parse_graph(source: str, columns: Sequence[str]) -> AttributeGraph:
    """A graph from ``source`` (a file path, or the text itself) over ``columns`` and ``image``."""
    where = "--graph"
    text = source
    path = Path(source)
    if "\n" not in source and (path.suffix in (".txt", ".dot", ".graph") or path.exists()):
        if not path.is_file():
            raise InputError(f"--graph {source}: no such file")
        text, where = path.read_text(encoding="utf-8"), f"--graph {source}"
    edges: list[tuple[str, str]] = []
    nodes: list[str] = []
    for statement in _statements(text):
        parts = _ARROW.split(statement)
        names, arrows = parts[0::2], parts[1::2]
        for name in names:
            if not name.isidentifier():
                raise InputError(f"{where}: cannot read {statement!r}: {name!r} is not a node name")
            if name not in nodes:
                nodes.append(name)
        for (a, b), arrow in zip(zip(names, names[1:]), arrows):
            if arrow == "->":
                edges.append((a, b))
            elif arrow == "<-":
                edges.append((b, a))
            else:
                raise InputError(f"{where}: '{a} {arrow} {b}': a deep SCM needs every edge directed (no latent "
                                 "confounders, no undecided marks); write 'a -> b' or 'b -> a'")
    if not nodes:
        raise InputError(f"{where}: no nodes; write edges such as 'thickness -> intensity; thickness -> image'")
    for node in nodes:
        if node != IMAGE and node not in columns:
            raise InputError(f"{where}: node {node!r} is not a column of the attributes CSV "
                             f"(columns: {', '.join(columns)})")
    missing = [c for c in columns if c not in nodes]
    if missing:  # a label the graph does not mention: a root that causes the image, said aloud
        from zoo_core import warn

        warn(f"{where}: {', '.join(missing)} not in the graph: taken as independent cause(s) of the image "
             "(leave a column out with --columns)")
        nodes += missing
        if IMAGE in nodes:
            edges += [(c, IMAGE) for c in missing]
    for a, b in edges:
        if a == IMAGE:
            raise InputError(f"{where}: '{a} -> {b}': the image causes nothing here; its attributes cause it")
        if a == b:
            raise InputError(f"{where}: '{a} -> {a}' is a self-loop")
    parents = {c: tuple(a for a, b in edges if b == c and a != IMAGE) for c in columns}
    image_parents = tuple(a for a, b in edges if b == IMAGE) if IMAGE in nodes else tuple(columns)
    return AttributeGraph(_topological(parents, where), tuple(dict.fromkeys(image_parents)))


def _topological(parents: Mapping[str, tuple[str, ...]], where: str) -> dict[str, tuple[str, ...]]:
    """``parents`` re-ordered so that parents come first; a cycle is an error that shows it."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(node):] + [node]
            raise InputError(f"{where}: the graph has a cycle: {' -> '.join(cycle)}; a causal graph must be acyclic")
        state[node] = 1
        for parent in parents[node]:
            visit(parent, path + [node])
        state[node] = 2
        order.append(node)

    for node in parents:
        visit(node, [])
    return {node: tuple(dict.fromkeys(parents[node])) for node in order}


def implied_graph(columns: Sequence[str]) -> AttributeGraph:
    """No graph given: independent attributes, every one a cause of the image."""
    return AttributeGraph({c: () for c in columns}, tuple(columns))


def discover_graph(method: str, values: Mapping[str, np.ndarray], *, alpha: float = 0.05) -> AttributeGraph:
    """The attributes' graph found by zoo-docalculus's PC or FCI; every attribute causes the image.

    An edge the method leaves unoriented (PC's ``a -- b``; FCI's circle marks or ``<->``) is an
    error that lists them and says how to give the graph instead.
    """
    import csv
    import tempfile

    import zoo_core

    if method not in ("pc", "fci"):
        raise InputError(f"--discover {method!r}: use pc or fci")
    names = list(values)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "attributes.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows(zip(*(values[n].tolist() for n in names)))
        try:
            found = zoo_core.run(method, data=path, alpha=alpha).to_dict()
        except zoo_core.UnknownModelError:
            raise InputError(f"--discover {method}: needs the zoo-docalculus plugin (pip install zoo-docalculus), "
                             "or give the graph with --graph") from None
    if method == "pc":
        directed = [tuple(e) for e in found["directed"]]
        unsure = [f"{a} -- {b}" for a, b in found["undirected"]]
    else:
        directed, unsure = [], []
        for edge in found["edges"]:
            (a, b), marks = edge["nodes"], edge["marks"]
            if marks == ["tail", "arrow"]:
                directed.append((a, b))
            elif marks == ["arrow", "tail"]:
                directed.append((b, a))
            else:
                unsure.append(edge["edge"])
    if unsure:
        example = "; ".join(e.replace(" -- ", " -> ").replace(" o-o ", " -> ").replace(" o-> ", " -> ")
                            .replace(" <-> ", " -> ") for e in unsure[:2])
        raise InputError(f"--discover {method}: cannot orient {', '.join(unsure)} from the data; give the graph "
                         f"with --graph FILE in the same syntax, e.g. '{example}' (plus '-> image' edges)")
    parents = {n: tuple(a for a, b in directed if b == n) for n in names}
    return AttributeGraph(_topological(parents, f"--discover {method}"), tuple(names))


def config_graph_text(config: Mapping[str, Any]) -> str:
    """The graph of a deep SCM's config (``attributes`` with parents, ``image_parents``), torch-free."""
    parents = {str(a["name"]): tuple(a.get("parents", ())) for a in config.get("attributes", ())}
    return AttributeGraph(parents, tuple(config.get("image_parents", ()))).text()
