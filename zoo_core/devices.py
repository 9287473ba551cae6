"""Parse ``--device`` and ``--dtype`` values into torch objects."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = ["DTYPES", "resolve_device", "resolve_dtype"]

DTYPES = ("float32", "float16", "bfloat16")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def resolve_device(spec: str | None = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; an unavailable device is an ``InputError``."""
    import torch

    spec = (spec or "auto").strip().lower()
    if not _DEVICE.match(spec):
        raise InputError(f"--device {spec!r}: use auto, cpu, cuda, cuda:N or mps")
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"--device {spec}: no CUDA device is available here; use --device cpu")
        index = int(spec.split(":")[1]) if ":" in spec else 0
        if index >= torch.cuda.device_count():
            raise InputError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) here")
    if spec == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InputError("--device mps: MPS is not available here; use --device cpu")
    return torch.device(spec)


def resolve_dtype(spec: str | None = "float32") -> torch.dtype:
    """One of float32, float16, bfloat16 (also fp32/fp16/bf16)."""
    import torch

    aliases = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}
    name = aliases.get((spec or "float32").lower(), (spec or "float32").lower())
    if name not in DTYPES:
        raise InputError(f"--dtype {spec!r}: use one of {', '.join(DTYPES)}")
    return getattr(torch, name)
