"""A folder ``zoo train`` wrote is a model: ``zoo run runs/NAME``, ``zoo info runs/NAME``, ...

``zoo train`` leaves ``model.safetensors``, ``config.json``, ``README.md`` (the card),
``training.json`` and ``zoo.json``, which names the architecture and task that trained it.
``entry_from_folder`` turns such a folder into a ``ModelEntry`` whose weights are the folder's
own file, pinned by the size and sha256 it has now (so a file changed while in use is caught
like any registry file), with the card's title as description and the best epoch's held-out
metrics. Registry lookups fall back to it for names that are paths (``Registry.get``), so
every command and ``zoo_core.run`` that takes a model name takes a run folder. Torch-free.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import InputError, UnknownModelError

__all__ = ["MARKER", "write_marker", "looks_like_folder", "entry_from_folder"]

MARKER = "zoo.json"
WEIGHTS = "model.safetensors"


def write_marker(out_dir: Path, architecture: str, task: str) -> Path:
    """Record which architecture and task trained ``out_dir`` (written atomically)."""
    from .atomic import write_atomic

    path = Path(out_dir) / MARKER
    write_atomic(path, json.dumps({"architecture": architecture, "task": task}, indent=2) + "\n")
    return path


def looks_like_folder(name: str) -> bool:
    """Whether a model name is meant as a folder: a path (has a separator) or a folder holding a marker."""
    if not isinstance(name, str) or not name:
        return False
    if "/" in name or os.sep in name or name.startswith((".", "~")):
        return True
    return (Path(name) / MARKER).is_file()


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"{path}: {what} is not JSON ({exc})") from None


def _description(card: Path, folder: Path) -> str:
    try:
        for line in card.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return f"{line[2:].strip()} (trained in {folder})"
    except OSError:
        pass
    return f"trained with zoo train in {folder}"


def _metrics(folder: Path) -> dict[str, Any]:
    from .registry import Metric

    path = folder / "training.json"
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        best, epoch = record.get("best", {}), record.get("best_epoch")
        return {k: Metric(float(v), f"zoo train: the held-out metric at the best epoch ({epoch})")
                for k, v in best.items() if isinstance(v, (int, float))}
    except (OSError, ValueError, AttributeError):
        return {}


def entry_from_folder(name: str) -> Any:
    """The ``ModelEntry`` of the run folder ``name`` (one-line errors for anything missing)."""
    from .integrity import file_sha256
    from .registry import ModelEntry, Weights

    folder = Path(name).expanduser()
    if not folder.exists():
        raise UnknownModelError(f"unknown model {name!r}: no registered model has that name and no such folder")
    if not folder.is_dir():
        raise InputError(f"{name}: is a file; a model is a registered name or a folder 'zoo train' wrote")
    marker, weights, config_file = folder / MARKER, folder / WEIGHTS, folder / "config.json"
    for needed in (weights, config_file, marker):
        if not needed.is_file():
            more = (" (written by zoo train since zoo-core 0.2; for an older run, write "
                    '{"architecture": ARCH, "task": TASK} there)') if needed is marker else ""
            raise InputError(f"{name}: no {needed.name}: not a folder 'zoo train' wrote{more}")
    record = _read_json(marker, "zoo.json")
    config = _read_json(config_file, "config.json")
    if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in ("architecture", "task")):
        raise InputError(f"{marker}: must hold {{\"architecture\": ..., \"task\": ...}}")
    if not isinstance(config, dict):
        raise InputError(f"{config_file}: must hold a JSON object (the model's config)")
    resolved = weights.resolve()
    return ModelEntry(
        name=name, architecture=record["architecture"], task=record["task"],
        description=_description(folder / "README.md", folder), source=str(marker),
        config=config, weights=Weights(WEIGHTS, resolved.stat().st_size, file_sha256(resolved), bundled=resolved),
        metrics=_metrics(folder), dataset=str(record.get("dataset", "")), recipe=str(record.get("recipe", "")),
    )
