"""What zoo's image tasks share: their common ``zoo run`` options and the output loop.

Each task lives in its own module and decides what it needs from here; nothing here
branches on a task's name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..architectures import Option
from ..devices import DTYPES
from ..errors import InputError
from ..task import Argument

if TYPE_CHECKING:
    import torch

    from ..outputs import FolderPlan
    from ..running import RunContext

__all__ = ["DEVICE", "DTYPE", "WEIGHTS", "BATCH", "FORCE", "SKIP_EXISTING", "OUT_DIR", "INPUT", "IMAGES",
           "tiling_options", "loading_options", "input_files", "check_positive", "write_folder", "itemsize",
           "Written", "LISTED_FILES"]

#: A folder run names the files it wrote, in its result and JSON document, up to this many;
#: beyond, it counts them (a run of millions of files keeps constant memory).
LISTED_FILES = 10_000

DEVICE = Option("device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
DTYPE = Option("dtype", type="choice", choices=DTYPES, default="float32", help="floating-point precision")
WEIGHTS = Option("weights", type="path", help="use this .safetensors file instead of the registry's weights")
BATCH = Option("batch-size", type="int", help="images per forward pass (default: all at once)")
FORCE = Option("force", type="bool", default=False,
               help="overwrite output files that exist already (never the inputs)")
SKIP_EXISTING = Option("skip-existing", type="bool", default=False,
                       help="keep outputs that exist already and write the rest (continues an interrupted run)")
OUT_DIR = Option("out-dir", type="path", help="write one file per image into this folder")
INPUT = Option("input", type="path", multiple=True,
               help="image files or folders (repeatable; they may also be given as arguments)")
IMAGES = Argument("inputs", type="path", multiple=True, help="image files or folders")


def loading_options() -> list[Option]:
    """Options that choose where and how a model with weights is loaded."""
    return [DEVICE, DTYPE, WEIGHTS]


def tiling_options(default_overlap: int | None = 32) -> list[Option]:
    """``--tile`` and ``--tile-overlap``, for architectures that declare ``tiling=True``
    (``default_overlap=None``: the model's own default)."""
    return [
        Option("tile", type="int", default=0,
               help="work in tiles of this many pixels (0: the whole image at once); bounds memory"),
        Option("tile-overlap", type="int", default=default_overlap,
               help="pixels two neighbouring tiles share, blended linearly (with --tile)"
                    + ("" if default_overlap is not None else "; default: the model's")),
    ]


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


@dataclass
class Written:
    """What a folder run wrote: how many files, the first ``LISTED_FILES`` of them, and how many it kept."""

    count: int = 0
    listed: list[Path] = field(default_factory=list)
    kept: int = 0

    def add(self, path: Path) -> None:
        self.count += 1
        if len(self.listed) < LISTED_FILES:
            self.listed.append(path)

    def describe(self, data: dict[str, Any], directory: Path, key: str) -> None:
        """Record it in a JSON document: ``out_dir``, ``written``, ``kept`` and (up to the limit) ``key``."""
        data["out_dir"] = str(directory)
        data["written"] = self.count
        data["kept"] = self.kept
        if self.count <= LISTED_FILES:
            data[key] = [str(p) for p in self.listed]

    def line(self, directory: Path) -> str:
        kept = f" (kept {self.kept} that existed)" if self.kept else ""
        return f"wrote {self.count} images to {directory}{kept}"


def write_folder(context: RunContext, directory: Path, targets: FolderPlan,
                 produce: Callable[[int], Iterator[tuple[int, Any]]], write: Callable[[Path, Any], object],
                 *, unit: str = "image") -> Written:
    """Write each ``produce``d item whose target is not None; a stop part way names what is whole.

    ``produce(first)`` yields ``(index, item)``; ``write(path, item)`` writes one file
    atomically. Any failure after some files were written (a full disk, an interrupt) becomes
    a one-line error saying how many are whole and that ``--skip-existing`` continues.
    """
    from ..outputs import make_folder, stopped_part_way

    created = not Path(directory).exists()
    make_folder(directory)
    written = Written(kept=len(targets.kept))
    todo = targets.todo
    try:
        with context.progress(todo, f"{context.entry.name} -> {directory}", unit=unit) as bar:
            for index, item in produce(0):
                path = targets.target(index)
                if path is None:
                    continue
                write(path, item)
                written.add(path)
                bar.update(1)
    except BaseException as exc:
        if created and not written.count:
            with contextlib.suppress(OSError):
                Path(directory).rmdir()  # a run that wrote nothing leaves no empty folder behind
        if not isinstance(exc, (OSError, KeyboardInterrupt)) or not written.count:
            raise
        raise stopped_part_way("--out-dir", directory, written.kept + written.count, len(targets), exc) from exc
    return written


def decode_in_batches(latent_batches: Iterator[tuple[int, torch.Tensor]], decode: Callable[..., torch.Tensor],
                      wanted: Callable[[int, int], bool]) -> Iterator[tuple[int, torch.Tensor]]:
    """``(index, image)`` for every sample of every batch that ``wanted(start, count)``."""
    for start, latents in latent_batches:
        if not wanted(start, len(latents)):
            continue
        images = decode(start, latents).clamp(-1, 1)
        for offset in range(len(images)):
            yield start + offset, images[offset:offset + 1]
