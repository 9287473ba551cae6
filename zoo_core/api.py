"""The Python entry points: ``load`` a model by name and ``list_models``.

(``run``, what ``zoo run`` does, is in ``zoo_core.running``; ``build`` and ``load_weights``,
for files that are not in the registry, in ``zoo_core.loading``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .architectures import Architecture
from .errors import ConfigError, InputError, ModelUnavailableError, RegistryError, WeightsNotFoundError
from .plugins import Catalogue, get_catalogue
from .registry import ModelEntry
from .weights import resolve_weights, weights_state

if TYPE_CHECKING:
    import torch

    from .causal import CausalAnalyzer
    from .interfaces import Model

__all__ = ["load", "list_models", "get_entry", "model_status", "runnable_architecture", "model_class"]


def list_models(pattern: str | None = None, task: str | None = None) -> list[ModelEntry]:
    """Registry entries matching ``pattern`` (glob or substring) and ``task``, sorted by name."""
    return get_catalogue().registry.search(pattern, task)


def get_entry(name: str) -> ModelEntry:
    """The validated registry entry called ``name`` (``UnknownModelError`` if none)."""
    return get_catalogue().entry(name)


def model_status(entry: ModelEntry, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The row ``zoo list --json`` prints for ``entry``; cheap (no hashing, no network)."""
    catalogue = catalogue or get_catalogue()
    reason = catalogue.unavailable_reason(entry)
    arch = catalogue.architectures.get(entry.architecture)
    return {
        "name": entry.name,
        "task": entry.task,
        "architecture": entry.architecture,
        "plugin": arch.plugin if arch else (entry.plugin or None),
        "weights": "unavailable" if reason else weights_state(entry),
        "size_bytes": entry.weights.size if entry.weights else 0,
        "license": entry.license,
        "description": entry.description,
        "available": reason is None,
        "unavailable_reason": reason,
    }


def runnable_architecture(entry: ModelEntry, catalogue: Catalogue | None = None) -> Architecture:
    """The architecture that runs ``entry``, or a ``ModelUnavailableError`` saying what to install."""
    catalogue = catalogue or get_catalogue()
    reason = catalogue.unavailable_reason(entry)
    if reason is not None:
        raise ModelUnavailableError(f"{entry.name} is unavailable: {reason}")
    arch = catalogue.architecture(entry.architecture)
    if arch.task != entry.task:
        raise RegistryError(f"{entry.source}: models.{entry.name}.task: {entry.task!r} does not match "
                            f"architecture {arch.name!r}, which is a {arch.task}")
    return arch


def model_class(arch: Architecture, catalogue: Catalogue | None = None) -> type[Any]:
    """Import ``arch``'s model class and check it subclasses its task's interface."""
    return (catalogue or get_catalogue()).model_class(arch)


def load(name: str, *, device: str | torch.device | None = "auto", dtype: str | torch.dtype | None = "float32",
         weights: str | Path | None = None, strict: bool = True) -> Any:
    """Load the model called ``name``, ready to use: an instance of its task's interface.

    Models with weights come back in eval mode on ``device`` (``auto``: cuda, mps or cpu)
    with floating tensors in ``dtype``, their weights resolved from ``weights`` (a path),
    the bundled copy, the HF cache or the Hub, in that order, and verified. A model of a
    task without weights (a causal analyzer) comes back built from its entry's config.

    Example:
        >>> model = zoo_core.load("dcgan-fashion", device="cpu")
        >>> images = model.sample(16, seed=0)  # (16, 1, 32, 32) in [-1, 1]
    """
    catalogue = get_catalogue()
    entry = catalogue.entry(name)
    arch = runnable_architecture(entry, catalogue)
    cls = model_class(arch, catalogue)
    if not catalogue.task(arch.task).loads_weights():
        if weights is not None:
            raise InputError(f"{name} is a {arch.task}; it takes no --weights")
        try:
            built = cls.from_config(entry.config)
        except ConfigError as exc:
            raise ConfigError(f"{entry.source}: models.{name}.{exc}") from None
        built.zoo_entry = entry
        return built
    import torch

    from .devices import resolve_device, resolve_dtype
    from .loading import build_model, load_weights_into

    # a mistyped --device or --dtype fails before any download
    target_device = device if isinstance(device, torch.device) else resolve_device(device)
    target_dtype = dtype if isinstance(dtype, torch.dtype) else resolve_dtype(dtype)
    resolved = resolve_weights(entry, weights)
    if resolved is None:
        raise WeightsNotFoundError(f"{name} has no weights in the registry; pass --weights PATH")
    try:
        model = build_model(cls, entry.config, architecture=arch.name)
    except ConfigError as exc:
        raise ConfigError(f"{entry.source}: models.{name}.{exc}") from None
    load_weights_into(model, resolved.path, device=target_device, dtype=target_dtype,
                      architecture=arch.name, strict=strict)
    setattr(model, "zoo_entry", entry)  # noqa: B010 - what was loaded, for provenance
    setattr(model, "zoo_weights", resolved)  # noqa: B010
    return model


