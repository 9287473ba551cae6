"""Writing a discovered graph: JSON, Graphviz DOT text, or a PNG drawn with Pillow.

The PNG uses our own circle layout (nodes evenly spaced on a circle, in the order given),
arrows for directed edges and plain lines for undirected ones; no graphviz binary and no
network. A PAG (FCI's result: ``data["edges"]`` with a mark at each end) is drawn with its
marks: an arrowhead, a small open circle, or nothing for a tail. Every file is written
atomically (``zoo_core.atomic``): it appears whole or not at all.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from zoo_core import InputError
from zoo_core.atomic import atomic_target, write_atomic

__all__ = ["FORMATS", "check_out", "to_dot", "pag_to_dot", "draw_png", "write_graph"]

FORMATS = (".png", ".dot", ".json")
#: How far a PAG edge's line stops short of the node's rim, by the mark at that end.
_INSET = {"arrow": 8, "circle": 11, "tail": 0}


def check_out(path: Path | str) -> Path:
    """Fail early (before any work) on an ``--out`` we cannot write."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"--out {path}: unknown extension {path.suffix or '(none)'!r}; "
                         f"use .png (a picture), .dot (Graphviz) or .json")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--out {path}: no folder {parent}; create it first")
    return path


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(nodes: list[str], directed: list, undirected: list, label: str = "") -> str:
    """A DOT digraph; undirected edges are drawn without arrowheads (``dir=none``)."""
    lines = ["digraph CPDAG {"]
    if label:
        lines.append(f"  label={_quote(label)};")
    lines += [f"  {_quote(n)};" for n in nodes]
    lines += [f"  {_quote(a)} -> {_quote(b)};" for a, b in directed]
    lines += [f"  {_quote(a)} -> {_quote(b)} [dir=none];" for a, b in undirected]
    lines.append("}")
    return "\n".join(lines) + "\n"


_DOT_MARK = {"arrow": "normal", "circle": "odot", "tail": "none"}


def pag_to_dot(nodes: list[str], edges: list[dict], label: str = "") -> str:
    """A DOT digraph of a PAG: each edge ``{"nodes": [a, b], "marks": [at a, at b]}`` drawn
    ``a -> b`` with both ends shown (``odot`` for a circle mark, none for a tail)."""
    lines = ["digraph PAG {"]
    if label:
        lines.append(f"  label={_quote(label)};")
    lines += [f"  {_quote(n)};" for n in nodes]
    for edge in edges:
        (a, b), (mark_a, mark_b) = edge["nodes"], edge["marks"]
        lines.append(f"  {_quote(a)} -> {_quote(b)} [dir=both, arrowtail={_DOT_MARK[mark_a]}, "
                     f"arrowhead={_DOT_MARK[mark_b]}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1: a scalable built-in font
    except TypeError:
        return ImageFont.load_default()


def draw_png(nodes: list[str], directed: list, undirected: list, caption: str = "", marked: Any = ()):
    """A Pillow image of the graph: nodes on a circle, arrows and lines between them;
    ``marked``: PAG edges ``(a, b, mark at a, mark at b)`` with marks arrow, circle or tail."""
    from PIL import Image, ImageDraw

    count = len(nodes)
    radius_node = 26
    ring = max(150.0, 2.3 * 2 * radius_node * count / (2 * math.pi))  # neighbours ~2.3 node widths apart
    size = int(2 * (ring + radius_node + 40))
    margin = 40 if not caption else 64
    image = Image.new("RGB", (size, size + margin - 40), "white")
    draw = ImageDraw.Draw(image)
    centre = size / 2
    place = {}
    for i, name in enumerate(nodes):
        angle = -math.pi / 2 + 2 * math.pi * i / max(count, 1)
        on_ring = ring if count > 1 else 0.0  # a lone node sits in the middle
        place[name] = (centre + on_ring * math.cos(angle), centre + on_ring * math.sin(angle))

    def ends(a: str, b: str) -> tuple[float, float, float, float, float, float]:
        (x0, y0), (x1, y1) = place[a], place[b]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        return x0 + ux * radius_node, y0 + uy * radius_node, x1 - ux * radius_node, y1 - uy * radius_node, ux, uy

    for a, b in undirected:
        x0, y0, x1, y1, _, _ = ends(a, b)
        draw.line([(x0, y0), (x1, y1)], fill=(90, 90, 90), width=2)
    for a, b in directed:
        x0, y0, x1, y1, ux, uy = ends(a, b)
        draw.line([(x0, y0), (x1 - ux * 8, y1 - uy * 8)], fill=(20, 60, 160), width=2)
        head = 13
        left = (x1 - ux * head - uy * head * 0.5, y1 - uy * head + ux * head * 0.5)
        right = (x1 - ux * head + uy * head * 0.5, y1 - uy * head - ux * head * 0.5)
        draw.polygon([(x1, y1), left, right], fill=(20, 60, 160))
    for a, b, mark_a, mark_b in marked:
        x0, y0, x1, y1, ux, uy = ends(a, b)
        start = (x0 + ux * _INSET[mark_a], y0 + uy * _INSET[mark_a])
        stop = (x1 - ux * _INSET[mark_b], y1 - uy * _INSET[mark_b])
        colour = (20, 60, 160) if "arrow" in (mark_a, mark_b) else (90, 90, 90)
        draw.line([start, stop], fill=colour, width=2)
        for (tip_x, tip_y), (dx, dy), mark in (((x1, y1), (ux, uy), mark_b), ((x0, y0), (-ux, -uy), mark_a)):
            if mark == "arrow":
                head = 13
                left = (tip_x - dx * head - dy * head * 0.5, tip_y - dy * head + dx * head * 0.5)
                right = (tip_x - dx * head + dy * head * 0.5, tip_y - dy * head - dx * head * 0.5)
                draw.polygon([(tip_x, tip_y), left, right], fill=colour)
            elif mark == "circle":
                cx, cy = tip_x - dx * 6, tip_y - dy * 6
                draw.ellipse([cx - 5, cy - 5, cx + 5, cy + 5], fill="white", outline=colour, width=2)
    font = _font(14)
    for name in nodes:
        x, y = place[name]
        draw.ellipse([x - radius_node, y - radius_node, x + radius_node, y + radius_node],
                     fill=(235, 242, 255), outline=(20, 60, 160), width=2)
        text = name if len(name) <= 8 else name[:7] + "…"
        draw.text((x, y), text, fill="black", font=font, anchor="mm")
    if caption:
        draw.text((size / 2, size + margin - 52), caption, fill=(80, 80, 80), font=_font(12), anchor="mm")
    return image


def write_graph(path: Path, data: dict[str, Any], caption: str = "") -> Path:
    """Write ``data`` (nodes, directed, undirected, ...; or nodes and PAG edges) to ``path`` as
    its extension says."""
    path = check_out(path)
    suffix = path.suffix.lower()
    pag = "edges" in data
    if suffix == ".json":
        write_atomic(path, json.dumps(data, indent=2) + "\n")
    elif suffix == ".dot":
        write_atomic(path, pag_to_dot(data["nodes"], data["edges"], caption) if pag
                     else to_dot(data["nodes"], data["directed"], data["undirected"], caption))
    else:
        from PIL import PngImagePlugin

        if pag:
            marked = [(*e["nodes"], *e["marks"]) for e in data["edges"]]
            image = draw_png(data["nodes"], [], [], caption, marked=marked)
        else:
            image = draw_png(data["nodes"], data["directed"], data["undirected"], caption)
        keys = ("nodes", "edges") if pag else ("nodes", "directed", "undirected")
        info = PngImagePlugin.PngInfo()
        info.add_text("zoo:graph", json.dumps({k: data[k] for k in keys}))
        if caption:
            info.add_text("zoo:caption", caption)
        with atomic_target(path) as tmp:
            image.save(tmp, format="PNG", pnginfo=info)
    return path
