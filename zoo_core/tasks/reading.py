"""Reading a run's input images as the model takes them, whatever the files are.

Each file is read upright and converted to the model's channel count; a model that takes
one size only (``Encoder.input_size``) gets every input brought to it by ``--resize``
(``zoo_core.resize``). What changed is said once per run, not once per file (``zoo: note:``
on stderr and in the JSON document's ``notes``). In a run of several inputs, a file that
cannot be read is named in one line and skipped, the others go on, and the run ends
non-zero (``RunResult.failed``); a run of one input fails on it as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..resize import DEFAULT_RESIZE, RESIZE_HELP

if TYPE_CHECKING:
    from ..running import RunContext

__all__ = ["InputImages", "model_input_size"]


def model_input_size(model: Any) -> tuple[int, int] | None:
    """The (height, width) of the only images ``model`` takes, or None when it takes any size.

    Read from ``Encoder.input_size``; a model written before that property existed takes any size."""
    size = getattr(model, "input_size", None)
    if size is None:
        return None
    height, width = (int(v) for v in size)
    return height, width


class InputImages:
    """Reads ``files`` for ``model`` in ``context``'s run: ``read(path)`` gives ``(image, alpha)``
    as (1, C, H, W) and (1, 1, H, W) or None in [-1, 1], or None for a file it skipped."""

    def __init__(self, context: RunContext, model: Any, files: Sequence[Path], *, resize: bool = True) -> None:
        self.context, self.files = context, list(files)
        self.name = context.entry.name
        self.channels = int(model.input_channels)
        self.size = model_input_size(model) if resize else None
        self.mode = context.options.get("resize") or DEFAULT_RESIZE
        self.tried = self.read_ok = 0
        context.inputs_total = len(self.files)

    def read(self, path: Path) -> tuple[Any, Any] | None:
        """The image and its alpha (None if it has none), converted and resized; None when the file
        could not be read and was skipped (only in a run of several inputs)."""
        from ..images import read_image_colour

        self.tried += 1
        try:
            image, alpha, colour = read_image_colour(path, self.channels)
        except InputError as exc:
            if len(self.files) == 1:
                raise
            self.context.skip_input(path, exc)
            return None
        self.read_ok += 1
        if colour and self.channels == 1:
            self.context.note(f"{self.name} reads greyscale: colour inputs are converted to grey "
                              f"(first: {path.name})", key="grey")
        elif not colour and self.channels == 3:
            self.context.note(f"{self.name} reads colour: greyscale inputs are repeated in all three channels "
                              f"(first: {path.name})", key="colour")
        if self.size is not None and tuple(image.shape[-2:]) != self.size:
            from ..resize import resize_to

            height, width = self.size
            self.context.note(f"{self.name} takes {width}x{height} images: other sizes are {RESIZE_HELP[self.mode]} "
                              f"(--resize {self.mode}; first: {path.name}, {image.shape[-1]}x{image.shape[-2]})", key="resize")
            image = resize_to(image, self.size, self.mode)
            if alpha is not None:
                alpha = resize_to(alpha, self.size, self.mode)  # padding is transparent
        return image, alpha

    def check_some_read(self) -> None:
        """An ``InputError`` when files were tried and none could be read (each was named already)."""
        if self.tried and not self.read_ok:
            raise InputError(f"none of the {self.tried} inputs could be read (each is named above)")
