"""The ``image-to-image`` task: images in, images out (upscalers, restorers).

``zoo run NAME photos/*.png --out-dir up/`` writes one output per input under the same
base name; ``--out FILE`` takes a single input. Any image size works: the core pads to what
the model takes and, with ``--tile`` (or always, for a model with a fixed input size),
runs it tile by tile so that only the output grows with the image. An alpha channel is
upscaled separately (as a grey image through the same model) and put back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..architectures import Architecture, Option
from ..errors import InputError
from ..outputs import LISTED_FILES, Outputs
from ..task import Task, TaskExtras
from .autoencoder import check_image_memory
from .common import IMAGES, INPUT, check_fixed_tile, input_files, tiling_options

if TYPE_CHECKING:
    from ..running import RunContext, RunResult

__all__ = ["IMAGE_TO_IMAGE"]

_ALPHA = Option("alpha", type="choice", choices=("keep", "drop"), default="keep",
                help="an input's alpha channel: upscale it separately and keep it, or drop it")


def _options(architecture: Architecture | None) -> list[Option]:
    tiles: list[Option] = []
    if architecture is not None and architecture.tiling:  # (an entry whose config fixes the tile gets that)
        tiles = tiling_options(default_overlap=None)
    elif architecture is not None and architecture.fixed_tile is not None:
        tiles = tiling_options(default_overlap=None, fixed=architecture.fixed_tile)
    return [INPUT, _ALPHA, *tiles]


def run(context: RunContext) -> RunResult:
    import torch

    from ..progress import tile_progress
    from ..running import RunResult, process_shard
    from ..tiling import tile_count
    from .reading import InputImages

    options = context.options
    files = input_files(context)
    rank, world, _ = process_shard()
    if world > 1 and options.get("out_dir") is not None:  # under torchrun: every world-th input, from its rank
        stems = [f.stem for f in files]
        twice = sorted({s for s in stems if stems.count(s) > 1})
        if twice:
            raise InputError(f"two inputs are both named {twice[0]!r}; their outputs would collide: run them apart")
        files = files[rank::world]
    plan = context.plan_outputs(inputs=files, single=True)
    out, out_dir = plan.out, plan.out_dir
    tile = options.get("tile") or 0
    overlap = options.get("tile_overlap")
    check_fixed_tile(options.get("tile"), context.architecture.tile_for(context.entry.config), context.entry.name)
    model = context.load()
    own = context.model_options
    meta = context.provenance()
    plan.check_kept(meta)
    notes: list[str] = []
    sizes: dict[str, list[int]] = {}  # the first LISTED_FILES, by file
    keep = out_dir is None and out is None
    no_alpha = out is not None and Path(out).suffix.lower() in (".jpg", ".jpeg")  # decided before any work

    side, side_overlap = model.tiling(tile, overlap)  # checked before any image is read
    reader = InputImages(context, model, files)

    def upscale(image: Any, path: Path) -> Any:
        height, width = image.shape[-2:]
        check_image_memory(model, height, width, tile=side, scale=model.scale, what=f"{path} ({width}x{height})")
        tiles = tile_count(max(height, side), max(width, side), side, side_overlap) if side else 1
        with context.progress(tiles, path.name, unit="tile") as bar, tile_progress(bar), torch.inference_mode():
            batch = image.to(model.device, model.dtype)
            return model.process(batch, tile=tile, tile_overlap=overlap, **own).float().cpu()

    def results(first: int) -> Iterator[tuple[int, Any]]:
        for index, path in enumerate(files):
            if not plan.needs(index):
                continue
            read = reader.read(path)
            if read is None:  # unreadable: named on stderr, the others go on
                continue
            image, alpha = read
            try:
                model.check_images(image)
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
            output = upscale(image, path)
            out_alpha = None
            if alpha is not None and no_alpha:
                notes.append(f"{path}: alpha channel dropped: {out} is a JPEG, which has none")
            elif alpha is not None and options.get("alpha") == "keep":
                grey = alpha.expand(-1, model.input_channels, -1, -1)
                out_alpha = upscale(grey, path).mean(dim=1, keepdim=True)
            elif alpha is not None:
                notes.append(f"{path}: alpha channel dropped (--alpha drop)")
            if len(sizes) < LISTED_FILES:
                sizes[str(path)] = [int(output.shape[-1]), int(output.shape[-2])]
            yield index, (output, out_alpha)
        reader.check_some_read()

    wrote: list[Path] = []
    outputs: list[Any] = []

    def write(target: Path, item: Any) -> None:
        image, alpha = item
        plan.save_image(image, target, dict(meta), alpha=alpha)

    data: dict[str, Any] = {"scale": model.scale, "sizes": sizes}
    lines: list[str] = []
    if out_dir is not None:
        written = plan.write_each(results(0), write)
        wrote += written.listed
        written.describe(data, out_dir, "outputs")
        lines.append(written.line(out_dir) + (f" (rank {rank} of {world})" if world > 1 else ""))
    else:
        for _, item in results(0):
            if out is not None:
                write(out, item)
                wrote.append(Path(out))
                lines.append(f"wrote {out}")
            if keep:
                outputs.append(item[0])
        data["outputs"] = [str(p) for p in wrote]
    if notes:
        data["notes"] = notes
    return RunResult(data=data, lines=[*notes, *lines], files=wrote, value=outputs if keep else None)


def _default_outputs(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    if options.get("out") is None and options.get("out_dir") is None:
        raise InputError(f"say where to write: --out-dir DIR (one output per input, same base name) or "
                         f"--out FILE.png for one input, e.g. zoo run {name} photo.png --out-dir out")
    return {}


IMAGE_TO_IMAGE = Task(
    name="image-to-image",
    interface="zoo_core.interfaces:ImageToImage",
    runner=run,
    description="images in, images out: upscalers and restorers",
    options=_options,
    arguments=(IMAGES,),
    option_methods=("transform",),
    checks="zoo_core.testing.task_checks:check_image_to_image",
    outputs=Outputs(out="write the one output here (.png, .jpg or .webp); for one input",
                    out_dir="write one output per input into this folder, under the input's base name",
                    default=_default_outputs),
    extras=TaskExtras(pipeline_tag="image-to-image", scaffold="image-to-image"),
)
