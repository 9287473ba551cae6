"""Write tensors to safetensors files atomically (never a half-written file)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import atomic_target
from .errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = ["save_tensors"]


def save_tensors(tensors: Mapping[str, torch.Tensor], path: Path, metadata: Mapping[str, str] | None = None) -> Path:
    """Save ``tensors`` to ``path`` via a temporary file and an atomic rename."""
    from safetensors.torch import save_file

    path = Path(path)
    if not path.name.endswith(".safetensors"):
        raise InputError(f"{path}: tensors are saved as .safetensors; name the file accordingly")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: directory {directory} does not exist")
    with atomic_target(path) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=dict(metadata or {}))
    return path
