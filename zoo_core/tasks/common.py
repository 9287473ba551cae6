"""What zoo's image tasks share: their common ``zoo run`` options and input handling.

(The output options and the writing loop are the core's output service, ``zoo_core.outputs``,
which every task, zoo's own and a plugin's, uses the same way.)

Each task lives in its own module and decides what it needs from here; nothing here
branches on a task's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..architectures import Option
from ..errors import InputError
from ..resize import DEFAULT_RESIZE, RESIZE_MODES
from ..task import Argument

if TYPE_CHECKING:
    from ..running import RunContext

__all__ = ["BATCH", "INPUT", "IMAGES", "RESIZE", "ALPHA", "tiling_options", "fixed_tile_option", "check_fixed_tile",
           "input_files", "check_positive", "itemsize"]

BATCH = Option("batch-size", type="int", help="images per forward pass (default: all at once)")
INPUT = Option("input", type="path", multiple=True,
               help="image files or folders (repeatable; they may also be given as arguments)")
IMAGES = Argument("inputs", type="path", multiple=True, help="image files or folders")
RESIZE = Option("resize", type="choice", choices=RESIZE_MODES, default=DEFAULT_RESIZE,
                help="for a model that takes one size only, how inputs of other sizes are brought to it: fit = "
                     "scale to fit inside keeping the aspect ratio, pad with black (the default: nothing is cut "
                     "off or distorted); crop = scale to cover keeping the aspect ratio, centre-crop; pad = pad "
                     "with black or centre-crop, no scaling; stretch = scale each side alone, ignoring the aspect "
                     "ratio (what zoo train does)")
ALPHA = Option("alpha", type="choice", choices=("keep", "drop"), default="keep",
               help="an input's alpha channel: run it separately through the model and keep it, or drop it")


def tiling_options(default_overlap: int | None = 32, fixed: int | str | None = None) -> list[Option]:
    """``--tile`` and ``--tile-overlap``, for architectures that declare ``tiling=True``
    (``default_overlap=None``: the model's own default) or a ``fixed_tile`` (``fixed``: its size,
    or the config key that holds it; ``fixed_tile_option`` makes it exact for one entry)."""
    tile = Option("tile", type="int", default=0,
                  help="work in tiles of this many pixels (0: the whole image at once); bounds memory")
    if fixed is not None:
        tile = fixed_tile_option(fixed if isinstance(fixed, int) else None, key=fixed if isinstance(fixed, str) else None)
    return [
        tile,
        Option("tile-overlap", type="int", default=default_overlap,
               help="pixels two neighbouring tiles share, blended linearly (with --tile)"
                    + ("" if default_overlap is not None else "; default: the model's")),
    ]


def fixed_tile_option(size: int | None, *, key: str | None = None) -> Option:
    """``--tile`` for a model that runs on tiles of one size only: that size is the default and the
    only value (``size`` None: the size its config's ``key`` sets, not known here)."""
    if size is None:
        return Option("tile", type="int", help=f"the model works on tiles of one size only, the one its config's "
                                                 f"{key} sets; leave it out, or give that size")
    return Option("tile", type="int", default=size,
                  help=f"the model works on {size}-pixel tiles only (its fixed input size), whatever the image size: "
                       f"{size} is the only value")


def check_fixed_tile(tile: int | None, size: int | None, name: str) -> None:
    """An ``InputError`` (before the model loads) when ``--tile`` asks a fixed-tile model for another size."""
    if size is not None and tile is not None and tile != size:
        raise InputError(f"--tile {tile}: {name} works on {size}-pixel tiles only (its fixed input size); "
                         f"leave --tile out or pass {size}")


def check_positive(value: int | None, flag: str) -> None:
    if value is not None and value <= 0:
        raise InputError(f"{flag} must be positive, got {value}")


def input_files(context: RunContext, *, required: bool = True) -> list[Path]:
    """Image files from the positional arguments and ``--input``, folders expanded (sorted)."""
    from ..images import image_files

    given = [*context.arguments.get("inputs", ()), *context.options.get("input", ())]
    if not given:
        if required:
            raise InputError(f"{context.entry.name} needs images: give files or folders as arguments "
                             f"(zoo run {context.entry.name} photo.png) or with --input")
        return []
    return image_files(given)


def itemsize(dtype: Any) -> int:
    """Bytes per value of a torch dtype."""
    import torch

    return int(torch.empty((), dtype=dtype).element_size())
