"""Shared by the benchmarks: install a plugin through entry-point metadata in a temp folder."""

from __future__ import annotations

import textwrap
from pathlib import Path


def install_plugin(root: Path, distribution: str, module: str, source: str) -> None:
    """Write ``module/__init__.py`` and a dist-info with a ``zoo`` entry point under ``root``."""
    package = root / module
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(textwrap.dedent(source))
    info = root / f"{distribution.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[zoo]\n{module} = {module}\n")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
