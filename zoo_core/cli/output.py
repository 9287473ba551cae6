"""Printing for the CLI: one JSON document on stdout, aligned tables, human sizes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from ..running import json_text

__all__ = ["emit_json", "table", "human_size"]


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (strict JSON: a lossless PSNR is null, not Infinity)."""
    click.echo(json_text(document))


def human_size(size: float) -> str:
    if size <= 0:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, max_last: int = 60) -> None:
    """Print rows under headers, columns aligned; the last column is cut at ``max_last``."""
    cells = [list(headers)] + [[str(c) for c in row] for row in rows]
    for row in cells:
        if len(row[-1]) > max_last:
            row[-1] = row[-1][: max_last - 1] + "…"
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
