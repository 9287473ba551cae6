"""The ``encoder`` task: images in, latents (features) out, saved as one safetensors file.

``zoo run NAME a.png b.png --out latents.safetensors`` (or ``--input``) encodes images of
one size in one batch and writes their latents, with the inputs and the model's
provenance in the file's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..architectures import Architecture, Option
from ..errors import InputError
from ..outputs import Outputs
from ..task import Task, TaskExtras
from .common import BATCH, IMAGES, INPUT, RESIZE, input_files

if TYPE_CHECKING:
    from ..running import RunContext, RunResult

__all__ = ["ENCODER"]

def _options(architecture: Architecture | None) -> list[Option]:
    return [INPUT, BATCH, RESIZE]


def run(context: RunContext) -> RunResult:
    import torch

    from ..running import RunResult
    from .reading import InputImages

    files = input_files(context)
    out = context.options.get("out")
    if out is not None and not Path(out).name.endswith(".safetensors"):  # before loading and encoding anything
        raise InputError(f"--out {out}: latents are saved as .safetensors; name the file accordingly")
    plan = context.plan_outputs(inputs=files)
    batch_size = context.options.get("batch_size")
    if batch_size is not None and batch_size <= 0:
        raise InputError(f"--batch-size must be positive, got {batch_size}")
    model = context.load()
    reader = InputImages(context, model, files)
    read = [(f, reader.read(f)) for f in files]
    reader.check_some_read()
    files = [f for f, item in read if item is not None]
    images = [item[0] for _, item in read if item is not None]
    if any(item[1] is not None for _, item in read if item is not None):
        context.note(f"{context.entry.name} encodes colour only: the alpha channel of inputs is ignored")
    if len({i.shape for i in images}) != 1:
        sizes = sorted({f"{i.shape[-1]}x{i.shape[-2]}" for i in images})
        raise InputError(f"the input images differ in size ({', '.join(sizes[:3])}); this model takes any size, "
                         "so they are not resized: encode each size in a separate run")
    batch = torch.cat(images)
    try:
        model.check_images(batch)
    except InputError as exc:
        raise InputError(f"{files[0]}: {exc}") from None
    step = batch_size or len(batch)
    with torch.inference_mode():
        latents = torch.cat([model.encode(batch[i:i + step].to(model.device, model.dtype), **context.model_options)
                             .float().cpu() for i in range(0, len(batch), step)])
    data: dict[str, Any] = {"latent_shape": list(latents.shape), "inputs": [str(f) for f in files]}
    lines, written = [], []
    if out is not None:
        meta = {"inputs": "\n".join(map(str, files)), **context.provenance()}
        written.append(plan.save_tensors({"latents": latents}, out, meta))
        data["latents"] = str(out)
        lines.append(f"wrote {out}")
    return RunResult(data=data, lines=lines, files=written, value=latents)


def _default_outputs(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    return {} if options.get("out") is not None else {"out": Path(f"{name}-latents.safetensors")}


ENCODER = Task(
    name="encoder",
    interface="zoo_core.interfaces:Encoder",
    runner=run,
    description="images in, latents or features out",
    options=_options,
    arguments=(IMAGES,),
    option_methods=("encode",),
    checks="zoo_core.testing.task_checks:check_encoder",
    outputs=Outputs(out="write the latents to this .safetensors file", suffixes=(".safetensors",),
                    default=_default_outputs),
    extras=TaskExtras(pipeline_tag="image-feature-extraction", scaffold="encoder"),
)
