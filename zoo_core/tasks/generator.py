"""The ``generator`` task: latents (and class labels) in, images out.

``zoo run NAME --num N --seed S`` samples ``N`` images from seed ``S`` (one grid with
``--out``, one file each with ``--out-dir``, streamed batch by batch with ``--batch-size``);
``--interpolate SEED2 --frames F`` walks the latent space from one seed to another.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..architectures import Architecture, Option
from ..errors import InputError
from ..outputs import Outputs
from ..task import Task, TaskExtras
from .common import BATCH, check_positive, itemsize

if TYPE_CHECKING:
    import torch

    from ..running import RunContext, RunResult

__all__ = ["GENERATOR", "SAMPLE_OUTPUTS", "sampling_options", "sample_run", "parse_label"]

_SAMPLING = (
    Option("num", type="int", default=16, help="number of images to generate"),
    Option("seed", type="int", default=0, help="random seed; the same seed gives the same images"),
)
_INTERPOLATE = (
    Option("interpolate", type="int", help="instead of --num images, a strip from --seed to this seed (slerp)"),
    Option("frames", type="int", default=8, help="frames in the --interpolate strip"),
)
#: What a sampling run writes: a grid with --out, one numbered file per image with --out-dir.
SAMPLE_OUTPUTS = Outputs(out="write one grid image here (.png, .jpg or .webp)",
                         out_dir="write one file per image into this folder (00000.png, 00001.png, ...)")
_LABEL = Option("label", help="class to generate: an index or a class name (default: cycle through classes)")


def sampling_options(architecture: Architecture | None) -> list[Option]:
    """The options of anything that samples images from a prior (generators, and autoencoders)."""
    options = [*_SAMPLING]
    if architecture is not None and architecture.conditional:
        options.append(_LABEL)
    return [*options, *_INTERPOLATE, BATCH]


def parse_label(value: str | None, classes: tuple[str, ...], num_classes: int) -> int | None:
    """``--label`` as a class index: a number, or a class name from the registry entry."""
    if value is None:
        return None
    if re.fullmatch(r"-?[0-9]+", value.strip()):
        index = int(value)
    else:
        lowered = [c.lower() for c in classes]
        if value.lower() not in lowered:
            names = ", ".join(f"{i}={c}" for i, c in enumerate(classes)) or f"0..{num_classes - 1}"
            raise InputError(f"--label {value!r}: unknown class; use one of {names}")
        index = lowered.index(value.lower())
    if not 0 <= index < num_classes:
        raise InputError(f"--label {value}: must be in 0..{num_classes - 1}")
    return index


def _check_sampling(options: Mapping[str, Any], given: frozenset[str]) -> None:
    check_positive(options["num"], "--num")
    check_positive(options.get("batch_size"), "--batch-size")
    to_seed, frames = options.get("interpolate"), options.get("frames", 8)
    if to_seed is not None and frames < 2:
        raise InputError(f"--frames must be at least 2, got {frames}")
    if to_seed is None and "frames" in given:
        raise InputError("--frames only applies with --interpolate SEED2")
    if to_seed is not None and "num" in given:
        raise InputError("--num and --interpolate both say how many images; --interpolate takes --frames")


def _check_memory(context: RunContext, model: Any, count: int) -> None:
    """Refuse a sampling run whose images cannot fit, naming the number and the fix."""
    from ..memory import require

    options = context.options
    c, h, w = model.image_shape
    size = itemsize(model.dtype)
    batch = min(options.get("batch_size") or count, count)
    per_image = c * h * w * size + model.working_bytes_per_pixel * h * w * size / 4
    streaming = options.get("out_dir") is not None and options.get("out") is None
    if not streaming:  # a grid, or the Python caller's tensor, holds every image
        from ..memory import human_bytes

        fix = ("write them one file each with --out-dir and --batch-size" if options.get("out") is not None
               else f"ask for fewer (each image takes {human_bytes(c * h * w * size)})")
        require(count * c * h * w * 4 + batch * per_image, device="cpu", what=f"--num {count} ({count} images kept)",
                fix=fix)
    require(batch * per_image, device=model.device, what=f"a batch of {batch} images",
            fix="pass a smaller --batch-size (with --out-dir, images stream to files batch by batch)")


def sample_run(context: RunContext, decode: Callable[[Any, Any, Any], Any] | None = None) -> RunResult:
    """Sample (or interpolate) images and write what the options ask for.

    ``decode(model, latents, labels)`` turns a batch of latents into images (default:
    ``model.decode``); an autoencoder passes its tiled decoder.
    """
    import torch

    from ..images import make_grid
    from ..running import RunResult

    options = context.options
    _check_sampling(options, context.given)
    num, seed = options["num"], options["seed"]
    to_seed, frames = options.get("interpolate"), options.get("frames", 8)
    count = frames if to_seed is not None else num
    plan = context.plan_outputs(count=count)
    out, out_dir = plan.out, plan.out_dir

    model = context.load()
    own = context.model_options
    run_decode = decode or (lambda m, z, y: m.decode(z, y, **own) if own else m.decode(z, y))
    label = parse_label(options.get("label"), context.entry.classes, model.num_classes) \
        if options.get("label") is not None else None
    meta = context.provenance(seed)
    if label is not None:
        meta["label"] = str(label)
    plan.check_kept(meta)  # a kept file must come from the same model, weights, seed and label
    _check_memory(context, model, count)

    data: dict[str, Any] = {"num": count, "image_shape": list(model.image_shape)}
    if to_seed is not None:
        meta["interpolate"] = f"{seed}->{to_seed}, {frames} frames"
        data["interpolate"] = {"from_seed": seed, "to_seed": to_seed, "frames": frames}
        batches: Iterator[tuple[int, Any]] = iter([(0, _interpolation_latents(model, seed, to_seed, frames))])
    else:
        batches = model.latent_batches(num, seed, options.get("batch_size"))
    if label is not None:
        data["label"] = label
        if context.entry.classes:
            data["class"] = context.entry.classes[label]

    keep_all = out is not None or out_dir is None  # a grid, or the caller's tensor
    kept: list[torch.Tensor] = []
    files: list[Path] = []
    written = None

    def images() -> Iterator[tuple[int, torch.Tensor]]:
        with torch.inference_mode():
            for start, latents in batches:
                if not any(plan.needs(i) for i in range(start, start + len(latents))):
                    continue
                labels = _batch_labels(model, label, start, len(latents))
                batch = run_decode(model, latents, labels).clamp(-1, 1).float().cpu()
                if keep_all:
                    kept.append(batch)
                yield start, batch

    if out_dir is not None:
        written = plan.write_batches(images(), metadata=lambda index, path: dict(meta, index=path.stem))
        files += written.listed
        written.describe(data, out_dir, "images")
    else:
        with context.progress(count, context.entry.name, unit="image") as bar:
            for _, batch in images():
                bar.update(len(batch))
    value = torch.cat(kept) if kept else None
    if out is not None and value is not None:
        columns = len(value) if to_seed is not None else None  # an interpolation is one strip
        files.append(plan.save_image(make_grid(value, columns=columns), out, meta))
        data["grid"] = str(out)
    lines = []
    if out is not None:
        lines.append(f"wrote {out}")
    if out_dir is not None and written is not None:
        lines.append(written.line(out_dir))
    return RunResult(data=data, lines=lines, files=files, value=value, seed=seed)


def _interpolation_latents(model: Any, seed: int, to_seed: int, frames: int) -> Any:
    import torch

    from ..interfaces import seeded_noise, slerp

    start = seeded_noise(tuple(model.latent_shape), seed)
    end = seeded_noise(tuple(model.latent_shape), to_seed)
    path = slerp(start, end, torch.linspace(0, 1, frames))
    return model.latents_from_noise(path).to(model.device, model.dtype)


def _batch_labels(model: Any, label: int | None, start: int, count: int) -> Any:
    """Labels of samples ``start .. start + count``: the asked class, or cycling through the classes."""
    import torch

    if not model.num_classes:
        return None
    values = torch.full((count,), label, dtype=torch.long) if label is not None \
        else torch.arange(start, start + count) % model.num_classes
    return values.to(model.device)


def run(context: RunContext) -> RunResult:
    return sample_run(context)


def _default_outputs(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    if options.get("out") is None and options.get("out_dir") is None:
        return {"out": Path(f"{name}.png")}
    return {}


GENERATOR = Task(
    name="generator",
    interface="zoo_core.interfaces:Generator",
    runner=run,
    description="latents (and class labels) in, images out: GANs, VAE decoders",
    options=sampling_options,
    option_methods=("decode",),
    checks="zoo_core.testing.task_checks:check_generator",
    outputs=replace(SAMPLE_OUTPUTS, default=_default_outputs),
    extras=TaskExtras(pipeline_tag="unconditional-image-generation", scaffold="generator"),
)
