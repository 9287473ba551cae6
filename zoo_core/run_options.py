"""The ``zoo run`` options of a model: those its task gives every model, plus its own.

Torch-free, so ``zoo info`` can show them without loading anything.
"""

from __future__ import annotations

from .architectures import Architecture, Option
from .devices import DTYPES

__all__ = ["options_for"]

_DEVICE = Option("device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
_DTYPE = Option("dtype", type="choice", choices=DTYPES, default="float32", help="floating-point precision")
_WEIGHTS = Option("weights", type="path", help="use this .safetensors file instead of the registry's weights")
_BATCH = Option("batch-size", type="int", help="images per forward pass (default: all at once)")
_SAMPLING = (
    Option("num", type="int", default=16, help="number of images to generate"),
    Option("seed", type="int", default=0, help="random seed; the same seed gives the same images"),
)
_OUTPUTS = (
    Option("out", type="path", help="write one PNG grid here (default: NAME.png)"),
    Option("out-dir", type="path", help="write one PNG per image here: 00000.png, 00001.png, …"),
)
_INPUT = Option("input", type="path", multiple=True,
                help="image files or folders to encode (repeatable)")
_INTERPOLATE = (
    Option("interpolate", type="int", help="instead of --num images, a strip from --seed to this seed (slerp)"),
    Option("frames", type="int", default=8, help="frames in the --interpolate strip"),
)
_LABEL = Option("label", help="class to generate: an index or a class name (default: cycle through classes)")
_JSON = Option("json", type="bool", default=False, help="print one JSON document on stdout")


def options_for(task: str, architecture: Architecture | None = None) -> list[Option]:
    """Every option ``zoo run`` accepts for a model of ``task`` with ``architecture``."""
    own = list(architecture.options) if architecture else []
    if task == "causal-analyzer":
        common: list[Option] = []
    elif task == "encoder":
        encoder_input = Option("input", type="path", multiple=True, required=True, help=_INPUT.help)
        out = Option("out", type="path", help="write the latents to this .safetensors file")
        common = [encoder_input, out, _BATCH, _DEVICE, _DTYPE, _WEIGHTS]
    else:
        common = [*_SAMPLING, *_INTERPOLATE, *_OUTPUTS, _BATCH, _DEVICE, _DTYPE, _WEIGHTS]
        if task == "autoencoder":
            common.insert(0, _INPUT)
        if architecture is not None and architecture.conditional:
            common.insert(2, _LABEL)
    taken = {o.name for o in common} | {_JSON.name}
    return [*common, *(o for o in own if o.name not in taken), _JSON]
