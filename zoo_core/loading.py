"""Build a model straight onto its device from a safetensors file, strictly.

The model is constructed on the meta device (no memory, no random init), the file's
header is compared with the model's state-dict layout before any tensor is read, and the
tensors are then loaded directly onto the target device and assigned: the model is
never built twice and never passes through the CPU when it runs on a GPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .errors import PluginError, StateDictMismatchError
from .interfaces import Model
from .safetensors_header import read_header

__all__ = ["load_weights_into", "build_model", "compare_layout"]

_SHOWN = 5


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" (+{len(names) - _SHOWN} more)" if len(names) > _SHOWN else "")


def compare_layout(expected: Mapping[str, tuple[int, ...]], found: Mapping[str, tuple[int, ...]],
                   *, where: str, architecture: str) -> None:
    """Raise ``StateDictMismatchError`` naming missing, unexpected and wrongly shaped keys."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = sorted(k for k in set(expected) & set(found) if tuple(expected[k]) != tuple(found[k]))
    if not (missing or unexpected or wrong):
        return
    parts = []
    if missing:
        parts.append(f"missing keys: {_listing(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {_listing(unexpected)}")
    if wrong:
        shapes = [f"{k} (file {list(found[k])}, model {list(expected[k])})" for k in wrong]
        parts.append(f"wrong shapes: {_listing(shapes)}")
    raise StateDictMismatchError(f"{where} does not fit architecture {architecture!r}: " + "; ".join(parts))


def build_model(model_class: type[Model], config: Any, *, architecture: str) -> Model:
    """Construct ``model_class`` from ``config`` on the meta device (no allocation)."""
    if not (isinstance(model_class, type) and issubclass(model_class, Model)):
        raise PluginError(f"architecture {architecture!r}: {model_class!r} is not a zoo_core.Model subclass")
    with torch.device("meta"):
        return model_class.from_config(config)


def load_weights_into(model: Model, path: Path, *, device: torch.device, dtype: torch.dtype,
                      architecture: str, strict: bool = True) -> Model:
    """Load ``path`` into a meta-device ``model`` on ``device`` with floats cast to ``dtype``."""
    from safetensors.torch import load_file

    header = read_header(path)
    renames = model.file_key_renames(list(header))
    if renames:  # an older layout of the same tensors: check and load them under the model's names
        renamed = {renames.get(name, name): value for name, value in header.items()}
        if len(renamed) != len(header):
            clash = sorted(k for k in renames.values() if k in header)
            raise StateDictMismatchError(f"{path} does not fit architecture {architecture!r}: it holds both old and "
                                         f"new names for {_listing(clash)}")
        header = renamed
    found = {name: shape for name, (_, shape) in header.items()}
    model_state = model.state_dict()
    expected = {name: tuple(t.shape) for name, t in model_state.items()}
    # an integer tensor cannot become a float parameter (a float one for an integer buffer is cast below)
    wrong_kind = sorted(k for k, (kind, _) in header.items()
                        if k in model_state and model_state[k].is_floating_point() and not kind.startswith(("F", "BF")))
    if strict:
        compare_layout(expected, found, where=str(path), architecture=architecture)
        if wrong_kind:
            kinds = [f"{k} (file {header[k][0]}, model {str(model_state[k].dtype).replace('torch.', '')})"
                     for k in wrong_kind]
            raise StateDictMismatchError(f"{path} does not fit architecture {architecture!r}: "
                                         f"wrong dtypes: {_listing(kinds)}")
    state = load_file(str(path), device=str(device))
    if renames:
        state = {renames.get(name, name): tensor for name, tensor in state.items()}
    for name, tensor in state.items():
        model_dtype = model_state[name].dtype if name in model_state else None
        if model_dtype is not None and not model_dtype.is_floating_point and tensor.dtype != model_dtype:
            state[name] = tensor.to(model_dtype)  # integer and bool buffers keep the model's own dtype
        elif tensor.is_floating_point() and tensor.dtype != dtype:
            state[name] = tensor.to(dtype)
    if not strict:
        state = {k: v for k, v in state.items()
                 if k in expected and tuple(v.shape) == expected[k] and k not in wrong_kind}
    model.load_state_dict(state, strict=strict, assign=True)
    leftover = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    unfillable = [n for n in leftover if n not in expected]  # no file can hold these, strict or not
    if unfillable:
        raise PluginError(f"architecture {architecture!r}: {_listing(unfillable)} are not in its state dict "
                          "(non-persistent buffers must be created lazily in forward)")
    for name in leftover:  # non-strict: what the file lacked starts as zeros
        _materialise(model, name, device=device, dtype=dtype)
    return model.to(device=device).eval()


def _materialise(model: Model, name: str, *, device: torch.device, dtype: torch.dtype) -> None:
    module_name, _, attr = name.rpartition(".")
    module = model.get_submodule(module_name)
    old = getattr(module, attr)
    new = torch.zeros(old.shape, device=device, dtype=dtype if old.is_floating_point() else old.dtype)
    if isinstance(old, torch.nn.Parameter):
        module._parameters[attr] = torch.nn.Parameter(new, requires_grad=old.requires_grad)
    else:
        module._buffers[attr] = new
