"""Tiling: run a fully convolutional map tile by tile and blend the overlaps.

The core provides this to every autoencoder and image-to-image architecture that declares
``Architecture(tiling=True)`` (``--tile``/``--tile-overlap``), and to image-to-image models
that only take fixed-size inputs. Peak memory is one tile's activations plus the output,
whatever the image size. Tiles overlap by ``overlap`` input pixels and are blended with
linear ramps (weights summed and divided out), so seams fade instead of showing. Models
with global operations (a VAE's mid-block attention, GroupNorm statistics) see each tile
alone, so tiled output differs from untiled output there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .errors import InputError

__all__ = ["tiled_map", "tile_starts", "tile_count", "check_tiles"]


def check_tiles(tile: int, overlap: int, *, multiple: int = 1, option: str = "--tile") -> None:
    """An ``InputError`` naming the option unless ``tile`` and ``overlap`` (pixels) can tile an image."""
    if tile <= 0 or tile % multiple:
        raise InputError(f"{option} {tile}: must be a positive multiple of {multiple}")
    if overlap < 0 or overlap % multiple or overlap >= tile:
        raise InputError(f"{option}-overlap {overlap}: must be a multiple of {multiple}, at least 0 and below "
                         f"{option} ({tile})")


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering ``size`` with tiles of ``tile`` that overlap by at least ``overlap``."""
    check_tiles(tile, overlap)
    if size <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, size - tile, stride))
    return starts + [size - tile]  # the last tile ends at the edge


def tile_count(height: int, width: int, tile: int, overlap: int) -> int:
    """How many tiles ``tiled_map`` runs for an input of ``height`` x ``width``."""
    if height <= tile and width <= tile:
        return 1
    return len(tile_starts(height, tile, overlap)) * len(tile_starts(width, tile, overlap))


def _ramp(length: int, overlap: int, at_start: bool, at_end: bool, *, device: Any, dtype: Any) -> torch.Tensor:
    weight = torch.ones(length, device=device, dtype=dtype)
    if overlap > 0:
        ramp = torch.linspace(1.0 / (overlap + 1), 1.0 - 1.0 / (overlap + 1), overlap, device=device, dtype=dtype)
        if not at_start:
            weight[:overlap] = ramp
        if not at_end:
            weight[-overlap:] = ramp.flip(0)
    return weight


def tiled_map(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *, tile: int, overlap: int,
              scale: float, multiple: int = 1, progress: Any = None, option: str = "--tile") -> torch.Tensor:
    """``fn(x)`` computed on ``tile`` × ``tile`` input tiles that overlap by ``overlap`` pixels.

    ``scale`` is the output size over the input size (8 for a decoder, 1/8 for an encoder,
    4 for a x4 upscaler); ``multiple`` is what tile sides and offsets must be multiples of
    for ``fn`` to map tiles to whole output pixels. ``progress.update(1)`` is called after
    each tile. The input must be at least ``tile`` pixels high and wide, or fit in one tile.
    """
    if progress is None:
        from .progress import current_tile_progress

        progress = current_tile_progress()
    n, _, height, width = x.shape
    check_tiles(tile, overlap, multiple=multiple, option=option)
    if height <= tile and width <= tile:
        out_whole = fn(x)
        if progress is not None:
            progress.update(1)
        return out_whole
    rows, cols = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    out: torch.Tensor | None = None
    total: torch.Tensor | None = None
    for top in rows:
        for left in cols:
            piece = fn(x[:, :, top:top + tile, left:left + tile])
            if out is None or total is None:
                out = piece.new_zeros((n, piece.shape[1], round(height * scale), round(width * scale)))
                total = piece.new_zeros((1, 1, out.shape[2], out.shape[3]))
            ph, pw = piece.shape[-2:]
            o_top, o_left = round(top * scale), round(left * scale)
            o_overlap = round(overlap * scale)
            wy = _ramp(ph, o_overlap, top == 0, top + tile >= height, device=piece.device, dtype=piece.dtype)
            wx = _ramp(pw, o_overlap, left == 0, left + tile >= width, device=piece.device, dtype=piece.dtype)
            weight = wy[:, None] * wx[None, :]
            out[:, :, o_top:o_top + ph, o_left:o_left + pw] += piece * weight
            total[:, :, o_top:o_top + ph, o_left:o_left + pw] += weight
            if progress is not None:
                progress.update(1)
    assert out is not None and total is not None
    return out.div_(total)
