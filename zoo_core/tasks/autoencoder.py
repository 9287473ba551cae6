"""The ``autoencoder`` task: encode images and decode them again, or sample from the prior.

``zoo run NAME photo.png --out-dir D`` (or ``--input``) reconstructs each image and reports
its PSNR; without images it samples like a generator. Architectures that declare
``tiling=True`` get ``--tile``/``--tile-overlap`` (bounded memory at any image size).
"""

from __future__ import annotations

import contextlib

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..architectures import Architecture, Option
from ..errors import InputError
from ..outputs import LISTED_FILES, Outputs
from ..task import Task, TaskExtras
from .common import ALPHA, IMAGES, INPUT, RESIZE, input_files, itemsize, tiling_options
from .generator import sample_run, sampling_options

#: Options that only mean something when sampling from the prior.
_SAMPLING_ONLY = frozenset({"num", "seed", "interpolate", "frames", "label", "batch_size"})

if TYPE_CHECKING:
    from ..running import RunContext, RunResult

__all__ = ["AUTOENCODER", "psnr", "check_image_memory"]


def _options(architecture: Architecture | None) -> list[Option]:
    tiles = tiling_options() if architecture is not None and architecture.tiling else []
    return [INPUT, *sampling_options(architecture), *tiles, RESIZE, ALPHA]


def psnr(a: Any, b: Any) -> float:
    """PSNR in dB of two images in [-1, 1] (peak-to-peak 2)."""
    mse = float((((a.float() - b.float()) / 2) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


#: Bytes per output pixel the CPU holds at the peak of a pass besides the input and the model's
#: activations: the float32 output, the comparison with the input (autoencoders' PSNR) and the
#: 8-bit conversion and PNG encoding when it is saved. Measured (bench/bench_memory_plan.py cases
#: taesd-tiled): a tiled TAESD reconstruction of 1024² and 2048² peaked at 141 and 136 bytes a
#: pixel, input and tile included, while this plan counted only the 12-byte output (0.30 of peak).
HELD_BYTES_PER_OUTPUT_PIXEL = 130
#: The decoded input image, float32 RGB, held for the whole pass.
INPUT_BYTES_PER_PIXEL = 12


def check_image_memory(model: Any, height: int, width: int, *, tile: int, what: str, scale: int = 1) -> None:
    """Refuse one pass over an image that cannot fit (suggesting ``--tile`` when tiles would help):
    the input, the output and what saving it holds, and one tile's (or the whole image's) activations."""
    from ..memory import require

    size = itemsize(model.dtype)
    out_h, out_w = height * scale, width * scale
    held = height * width * INPUT_BYTES_PER_PIXEL + out_h * out_w * HELD_BYTES_PER_OUTPUT_PIXEL
    require(held, device="cpu", what=f"{what}: the output image itself",
            fix="work on a smaller image, or on a machine with more memory")
    side = max(min(tile, max(height, width)), 1) * scale if tile else None
    pixels = side * side if side else out_h * out_w
    activations = pixels * (model.working_bytes_per_pixel * size / 4 + 3 * size)
    on_cpu = str(getattr(model.device, "type", model.device)) == "cpu"
    need = activations + (held if on_cpu else out_h * out_w * 3 * 4)
    fix = ("pass a smaller --tile" if tile else "pass --tile 512 (or smaller) to work tile by tile")
    require(need, device=model.device, what=what, fix=fix)


def _reconstruct(context: RunContext, files: list[Path]) -> RunResult:
    import torch

    from ..images import make_grid
    from ..running import RunResult
    from ..tiling import check_tiles
    from .reading import InputImages, model_input_size

    options = context.options
    tile, overlap = options.get("tile") or 0, options.get("tile_overlap") or 0
    sampling = sorted(f"--{n.replace('_', '-')}" for n in _SAMPLING_ONLY & context.given)
    if sampling:
        raise InputError(f"{', '.join(sampling)}: {'these sample' if len(sampling) > 1 else 'it samples'} from "
                         "the prior; given images, the autoencoder reconstructs them instead")
    plan = context.plan_outputs(inputs=files)
    out, out_dir = plan.out, plan.out_dir
    mixed = out is not None and len(_sizes(files)) > 1  # before any work: a grid needs one size...
    model = context.load()
    if mixed and model_input_size(model) is None:  # ... unless the model takes one size, which all are brought to
        raise InputError("--out: the inputs differ in size, so they cannot share one grid; use --out-dir")
    if tile:  # before any image is read, in pixels
        check_tiles(tile, overlap, multiple=int(model.size_multiple))
    meta = context.provenance()
    plan.check_kept(meta)
    own = context.model_options
    keep = out is not None or out_dir is None
    originals: list[Any] = []
    outputs: list[Any] = []
    scores: dict[str, float] = {}  # the first LISTED_FILES, by file; the mean covers every image
    total = {"psnr": 0.0, "count": 0}

    fitted: set[tuple[int, ...]] = set()
    reader = InputImages(context, model, files)
    alpha_kept = out_dir is not None and options.get("alpha") != "drop"
    multiple = max(1, int(getattr(model, "size_multiple", 1)))

    def padded(image: Any, path: Path) -> Any:
        """``image`` padded by reflection at the bottom and right to a multiple of ``size_multiple``."""
        from ..interfaces import _reflect_pad

        if multiple == 1:
            return image
        height, width = image.shape[-2:]
        need_h, need_w = -(-height // multiple) * multiple, -(-width // multiple) * multiple
        if (need_h, need_w) == (height, width):
            return image
        context.note(f"{context.entry.name} takes sizes that are multiples of {multiple}: other sizes are padded by "
                     f"reflection and the reconstruction cropped back (first: {path.name}, {width}x{height})",
                     key="multiple")
        return _reflect_pad(image, need_h, need_w)

    def reconstruct(image: Any, path: Path) -> Any:
        """The reconstruction of ``image`` at its own size (padded for the model, then cropped back)."""
        from ..progress import tile_progress

        height, width = image.shape[-2:]
        image = padded(image, path)
        tiles = {"tile": tile, "tile_overlap": overlap} if tile else {}
        with contextlib.ExitStack() as stack, torch.inference_mode():
            if tile:  # a bar over the tiles; one pass has none to count (a folder of thumbnails pays per file)
                bar = stack.enter_context(context.progress(_tiles(image, tile, overlap) * 2, path.name, unit="tile"))
                stack.enter_context(tile_progress(bar))
            output = model.reconstruct(image.to(model.device, model.dtype), **tiles, **own)
        return output.float().cpu()[..., :height, :width]

    def check(image: Any, path: Path) -> None:
        height, width = image.shape[-2:]
        need = (-(-height // multiple) * multiple, -(-width // multiple) * multiple) if multiple > 1 else (height, width)
        try:  # on the shape the model will get (a zero-stride view: nothing is padded twice)
            shaped = image.new_zeros(()).expand(*image.shape[:2], *need) if need != (height, width) else image
            model.check_images(shaped)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None

    def results(first: int) -> Iterator[tuple[int, Any]]:
        for index, path in enumerate(files):
            if not plan.needs(index) and not keep:
                continue
            read = reader.read(path)
            if read is None:  # unreadable: named on stderr, the others go on
                continue
            image, alpha = read
            check(image, path)
            if tuple(image.shape[-2:]) not in fitted:  # one check per size: a folder of thumbnails is not
                check_image_memory(model, *image.shape[-2:], tile=tile,  # re-checked file by file
                                   what=f"{path} ({image.shape[-1]}x{image.shape[-2]})")
                fitted.add(tuple(image.shape[-2:]))
            output = reconstruct(image, path)
            out_alpha = None
            if alpha is not None and alpha_kept:  # as the upscalers do: through the model as a grey image
                out_alpha = reconstruct(alpha.expand(-1, model.input_channels, -1, -1), path).mean(1, keepdim=True)
            elif alpha is not None:
                why = "--alpha drop" if out_dir is not None else "a grid has none"
                context.note(f"the alpha channel of inputs is dropped ({why}; first: {path.name})", key="alpha")
            score = psnr(image, output)
            total["psnr"] += score
            total["count"] += 1
            if len(scores) < LISTED_FILES:
                scores[str(path)] = round(score, 3)
            if keep:
                originals.append(image)
                outputs.append(output)
            yield index, (output, out_alpha)
        reader.check_some_read()

    def write(target: Path, item: Any) -> None:
        output, out_alpha = item
        plan.save_image(output, target, dict(meta, input=target.stem), alpha=out_alpha)

    files_written: list[Path] = []
    written = None
    if out_dir is not None:
        written = plan.write_each(results(0), write)
        files_written += written.listed
    else:
        for _ in results(0):
            pass
    mean = total["psnr"] / total["count"] if total["count"] else None
    data: dict[str, Any] = {"psnr_db": scores, "mean_psnr_db": round(mean, 3) if mean is not None else None}
    if out_dir is not None and written is not None:
        written.describe(data, out_dir, "outputs")
    lines = []
    if out is not None:
        pairs = torch.cat([torch.cat([o, r]) for o, r in zip(originals, outputs)])
        files_written.append(plan.save_image(make_grid(pairs, columns=2 * min(4, len(outputs))), out, meta))
        data["grid"] = str(out)
        lines.append(f"wrote {out}")
    if out_dir is not None and written is not None:
        lines.append(written.line(out_dir))
    if mean is not None:
        lines.append(f"PSNR {mean:.2f} dB (mean over {total['count']} images)")
    value = outputs if keep else None
    return RunResult(data=data, lines=lines, files=files_written, value=value)


def _sizes(files: list[Path]) -> set[tuple[int, int]]:
    """The sizes of the readable ``files`` (an unreadable one is reported when it is read)."""
    from ..images import image_size

    sizes = set()
    for path in files:
        try:
            sizes.add(image_size(path))
        except InputError:
            pass
    return sizes


def _tiles(image: Any, tile: int, overlap: int) -> int:
    from ..tiling import tile_count

    return tile_count(image.shape[-2], image.shape[-1], tile, overlap) if tile else 1


def run(context: RunContext) -> RunResult:
    files = input_files(context, required=False)
    if files:
        return _reconstruct(context, files)
    tile, overlap = context.options.get("tile") or 0, context.options.get("tile_overlap") or 0
    own = context.model_options
    for_images = sorted({"resize", "alpha"} & context.given)
    if for_images:
        raise InputError(f"--{for_images[0]} applies to input images; without images the autoencoder samples from "
                         "the prior")

    def decode(model: Any, latents: Any, labels: Any) -> Any:
        if labels is not None:
            raise InputError("this autoencoder is unconditional; it takes no label")
        return model.decode_tiled(latents, tile, overlap, **own) if tile else model.decode(latents, **own)

    return sample_run(context, decode)


def _default_outputs(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    if options.get("out") is not None or options.get("out_dir") is not None:
        return {}
    given = bool(options.get("inputs")) or bool(options.get("input"))
    return {"out": Path(f"{name}-reconstruction.png" if given else f"{name}.png")}


AUTOENCODER = Task(
    name="autoencoder",
    interface="zoo_core.interfaces:Autoencoder",
    runner=run,
    description="images to latents and back: VAEs, the Stable Diffusion autoencoders",
    options=_options,
    arguments=(IMAGES,),
    option_methods=("decode", "reconstruct"),
    checks="zoo_core.testing.task_checks:check_autoencoder",
    outputs=Outputs(out="write one grid here (.png, .jpg or .webp): the samples, or each input beside its "
                        "reconstruction",
                    out_dir="write one file per image into this folder: 00000.png, ... when sampling, the "
                            "input's name when reconstructing",
                    default=_default_outputs),
    extras=TaskExtras(scaffold="autoencoder"),
)
