"""Progress bars for long runs (tiled decodes of big images, thousands of samples, folders).

Drawn on stderr with tqdm, and only when asked for or when stderr is a terminal, so logs,
pipes and ``--json`` output stay clean.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["progress_bar", "NoProgress", "tile_progress", "current_tile_progress"]

_TILES: contextvars.ContextVar[Any] = contextvars.ContextVar("zoo_tile_progress", default=None)


class NoProgress:
    """Stands in for a bar when none is drawn."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass


@contextmanager
def progress_bar(total: int, description: str, *, unit: str = "it", enabled: bool = True) -> Iterator[Any]:
    """A tqdm bar on stderr counting to ``total``, or a ``NoProgress`` when disabled or trivial."""
    if not enabled or total <= 1:
        yield NoProgress()
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit=unit, leave=False, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def tile_progress(bar: Any) -> Iterator[None]:
    """Make ``bar`` the one ``zoo_core.tiling.tiled_map`` updates per tile, inside the block.

    Runners set it around a model method (a plugin's own ``reconstruct``, say) that tiles
    internally, so tiles show progress without every method taking a ``progress`` argument.
    """
    token = _TILES.set(bar)
    try:
        yield
    finally:
        _TILES.reset(token)


def current_tile_progress() -> Any:
    """The bar ``tile_progress`` set, or None."""
    return _TILES.get()
