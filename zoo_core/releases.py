"""Registry entries for a plugin's release: from ``zoo train`` output folders to ``models.toml``.

A release script trains with ``zoo train`` (a Hub model repo per model), evaluates with
``zoo eval NAME --json > RUN/eval.json``, and then writes the plugin's registry fragment with
these helpers: size and sha256 from the file, the recipe from the model card and
``training.json``, the metrics from ``eval.json``, every entry validated exactly as zoo will
read it and the file written atomically. zoo-gan's and zoo-vae's ``recipes/write_registry.py``
use them; so can a third party's.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["training_recipe", "run_metrics", "release_entry", "bundle_weights", "write_fragment"]


def training_recipe(run: Path, *, where: str = "") -> str:
    """The command that trained ``run`` (from its model card) with its epochs, best epoch and time.

    A run continued with ``--resume`` replays the same batches and random state as an
    uninterrupted one, so the flag is dropped from the command and the continuation noted.
    ``where`` describes the machine (e.g. "2 shared CPU cores").
    """
    training = json.loads((run / "training.json").read_text())
    card = (run / "README.md").read_text()
    match = re.search(r"```bash\n(.*?)\n```", card, re.S)
    command = match.group(1).strip() if match else "see the model card"
    stop = "stopped early" if training.get("stopped_early") else "reached --epochs"
    if " --resume" in command:
        command = command.replace(" --resume", "")
        stop = "interrupted and continued with --resume, " + stop
    on = f" on {where}" if where else ""
    return (f"{command}  ({stop} after {training['epochs']} epochs, best epoch {training['best_epoch']}, "
            f"{training['seconds'] / 60:.1f} min of training at {training['images_per_second']:.0f} images/s{on})")


def run_metrics(run: Path, how: Callable[[str, Mapping[str, Any]], str],
                units: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """``metrics.*`` tables from ``run/eval.json`` (``zoo eval NAME --json``); ``how(key, setup)`` says
    how each was measured. No eval.json: no metrics."""
    evaluation = run / "eval.json"
    if not evaluation.exists():
        return {}
    report = json.loads(evaluation.read_text())
    setup = report.get("setup", {})
    metrics = {}
    for key, value in report["metrics"].items():
        table: dict[str, Any] = {"value": value, "how": how(key, setup)}
        if units and key in units:
            table["unit"] = units[key]
        metrics[key] = table
    return metrics


def bundle_weights(run: Path, package: Path, name: str) -> str:
    """Copy ``run/model.safetensors`` into ``package/weights/NAME.safetensors``; the ``bundled`` path."""
    (package / "weights").mkdir(exist_ok=True)
    shutil.copyfile(run / "model.safetensors", package / "weights" / f"{name}.safetensors")
    return f"weights/{name}.safetensors"


def release_entry(run: Path, *, architecture: str, task: str, description: str, plugin: str, bundled: str,
                  recipe: str, license: str = "apache-2.0", dataset: str = "", classes: Iterable[str] = (),
                  tags: Iterable[str] = (), metrics: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """One registry table for the model trained in ``run``, its weights pinned by size and sha256."""
    weights = run / "model.safetensors"
    data = weights.read_bytes()
    table: dict[str, Any] = {"architecture": architecture, "task": task, "description": description,
                             "plugin": plugin, "license": license}
    if dataset:
        table["dataset"] = dataset
    table["recipe"] = recipe
    table["config"] = json.loads((run / "config.json").read_text())
    if list(classes):
        table["classes"] = list(classes)
    if list(tags):
        table["tags"] = list(tags)
    table["weights"] = {"filename": "model.safetensors", "size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(), "bundled": bundled}
    if metrics:
        table["metrics"] = {k: dict(v) for k, v in metrics.items()}
    return table


def write_fragment(target: Path, entries: Mapping[str, Mapping[str, Any]], *, header: str,
                   keep_others: bool = False) -> Path:
    """Write ``entries`` as a registry file (``# header`` first), validated as zoo reads it, atomically.

    ``keep_others`` keeps the entries ``target`` already holds that ``entries`` does not
    replace (a release that retrains one model of several), in their order, new ones after.
    """
    from .atomic import write_atomic
    from .registry import parse_entry, tomllib
    from .scaffold.toml_text import entry_toml

    merged: dict[str, Mapping[str, Any]] = {}
    if keep_others and target.exists():
        for name, table in tomllib.loads(target.read_text()).get("models", {}).items():
            merged[name] = entries.get(name, table)
    merged.update({k: v for k, v in entries.items() if k not in merged})
    text = "".join(f"# {line}\n" for line in header.splitlines()) + "\n" + "\n".join(
        entry_toml(name, table) for name, table in merged.items())
    document = tomllib.loads(text)
    for name, table in document.get("models", {}).items():
        parse_entry(name, table, source=str(target), base_dir=target.resolve().parent)
    write_atomic(target, text)
    return target
