"""``zoo export``: write a Hub model repo (weights, config, model card) ready for ``hf upload``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import click

from ..cards import hub_metadata
from ..errors import InputError

__all__ = ["export_command", "model_card"]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_FILES = ("model.safetensors", "config.json", "README.md")


def model_card(*, title: str, description: str, architecture: str, task: str, plugin: str, license: str,
               datasets: list[str], tags: list[str], metrics: dict[str, dict[str, Any]], config: dict[str, Any],
               dataset_note: str = "", recipe: str = "", sha256: str = "", size: int = 0) -> str:
    """A Hub model card: YAML metadata the Hub indexes, then what zoo users need to know."""
    pipeline = _pipeline_tag(task)
    meta = hub_metadata(title=title, license=license, task=pipeline or task,
                        tags=[t for t in (task, architecture, *tags) if t], datasets=datasets,
                        metrics={k: m["value"] for k, m in metrics.items()}, pipeline_tag=pipeline)
    body = [f"# {title}", "", description, "",
            f"A [zoo](https://pypi.org/project/zoo-core/) model: architecture `{architecture or 'unknown'}`"
            + (f" ({task})" if task else "")
            + (f", from the `{plugin}` plugin." if plugin else "."), "",
            "## Use it with zoo", "", "```bash",
            f"pip install zoo-core{' ' + plugin if plugin else ''}",
            f"zoo registry add {title} --architecture {architecture or 'ARCH'} --repo-id OWNER/REPO "
            "--revision COMMIT --file model.safetensors "
            "--registry my-registry.toml   # pins this commit's exact bytes",
            f"ZOO_REGISTRY=my-registry.toml zoo run {title}", "```", ""]
    if sha256:
        body += [f"`model.safetensors`: {size} bytes, sha256 `{sha256}`.", ""]
    if metrics:
        body += ["## Metrics", "", "| metric | value | how |", "|---|---|---|"]
        body += [f"| {k} | {m['value']:.6g}{(' ' + m['unit']) if m.get('unit') else ''} | {m.get('how', '')} |"
                 for k, m in metrics.items()]
        body.append("")
    if dataset_note or datasets:
        body += ["## Data", "", dataset_note or ", ".join(datasets), ""]
    if recipe:
        body += ["## Recipe", "", "```bash", recipe, "```", ""]
    body += ["## Config", "", "```json", json.dumps(config, indent=2, sort_keys=True), "```", ""]
    return meta + "\n" + "\n".join(body)


def _pipeline_tag(task: str) -> str | None:
    """The Hub pipeline tag the registered task ``task`` declares (None if unknown or none)."""
    from ..plugins import get_catalogue

    registered = get_catalogue().tasks.get(task) if task else None
    return registered.extras.pipeline_tag if registered else None


def _check_target(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"DIR {out_dir}: is a file; name a folder for the model repo")
    present = [f for f in _FILES if (out_dir / f).exists()]
    if present and not force:
        raise InputError(f"DIR {out_dir}: already holds {', '.join(present)}; pass --force to overwrite them")


def _copy_atomic(source: Path, target: Path) -> None:
    from ..atomic import atomic_target

    with atomic_target(target) as tmp:
        shutil.copyfile(source, tmp)


def _export_entry(name: str, out_dir: Path, weights: Path | None, datasets: list[str], tags: list[str],
                  license: str | None) -> tuple[Path, str]:
    from ..api import get_entry, load, runnable_architecture
    from ..atomic import write_atomic
    from ..integrity import file_sha256

    from ..plugins import get_catalogue

    entry = get_entry(name)
    task = get_catalogue().tasks.get(entry.task)
    if task is not None and not task.loads_weights():
        raise InputError(f"{name} is a {entry.task}: it has no weights to export")
    # loading strictly proves the file fits the architecture and config the card describes
    model = load(name, device="cpu", weights=weights)
    resolved = model.zoo_weights
    config = model.config_dict()
    if not datasets and entry.dataset and _HUB_ID.match(entry.dataset) and "/" in entry.dataset:
        datasets = [entry.dataset]  # a Hub dataset id; free text goes in the card's Data section
    sha256 = file_sha256(resolved.path)
    card = model_card(
        title=name, description=entry.description, architecture=entry.architecture, task=entry.task,
        plugin=entry.plugin or runnable_architecture(entry).plugin,
        license=license or entry.license, datasets=datasets, tags=[*entry.tags, *tags],
        metrics={k: {"value": m.value, "how": m.how, "unit": m.unit} for k, m in entry.metrics.items()},
        config=config, dataset_note=entry.dataset, recipe=entry.recipe, sha256=sha256,
        size=resolved.path.stat().st_size,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_atomic(resolved.path, out_dir / "model.safetensors")  # the verified bytes, unchanged
    write_atomic(out_dir / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
    write_atomic(out_dir / "README.md", card)
    return out_dir / "model.safetensors", sha256


def _export_training(train_dir: Path, out_dir: Path, architecture: str | None, datasets: list[str],
                     tags: list[str], license: str | None) -> tuple[Path, str]:
    from ..atomic import write_atomic
    from ..integrity import sha256_file
    from ..safetensors_header import read_header, refuse_unsafe

    weights, config_file = train_dir / "model.safetensors", train_dir / "config.json"
    for needed in (weights, config_file):
        if not needed.is_file():
            raise InputError(f"--from {train_dir}: no {needed.name}; point it at a folder 'zoo train' wrote")
    refuse_unsafe(weights)
    read_header(weights)
    try:
        config = json.loads(config_file.read_text())
    except ValueError as exc:
        raise InputError(f"--from {train_dir}: config.json is not JSON: {exc}") from None
    arch = _check_loads(architecture, config, weights) if architecture is not None else None
    card_file = train_dir / "README.md"
    card = card_file.read_text() if card_file.is_file() else ""
    if not (card.startswith("---\n") and "library_name: zoo" in card.split("\n---", 1)[0]):
        card = model_card(title=train_dir.name, description=f"Trained with zoo ({train_dir.name}).",
                          architecture=architecture or "", task=arch.task if arch else "",
                          plugin=arch.plugin if arch else "", license=license or "",
                          datasets=datasets, tags=tags, metrics={}, config=config,
                          sha256=sha256_file(weights), size=weights.stat().st_size)
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_atomic(weights, out_dir / "model.safetensors")
    write_atomic(out_dir / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
    write_atomic(out_dir / "README.md", card)
    return out_dir / "model.safetensors", sha256_file(out_dir / "model.safetensors")


def _check_loads(architecture: str, config: dict[str, Any], weights: Path) -> Any:
    """Build ``architecture`` from ``config`` and load ``weights`` strictly (raises on any mismatch); the
    architecture."""
    from ..api import model_class
    from ..loading import build_model, load_weights_into
    from ..plugins import get_catalogue

    catalogue = get_catalogue()
    arch = catalogue.architecture(architecture)
    if not catalogue.task(arch.task).loads_weights():
        raise InputError(f"--architecture {architecture}: a {arch.task} has no weights to export")
    import torch

    from ..errors import ConfigError, StateDictMismatchError

    try:
        model = build_model(model_class(arch, catalogue), config, architecture=arch.name)
        load_weights_into(model, weights, device=torch.device("cpu"), dtype=torch.float32, architecture=arch.name,
                          strict=True)
    except (ConfigError, StateDictMismatchError) as exc:
        raise InputError(f"--architecture {architecture}: {weights} does not load into it: {exc}") from None
    return arch


@click.command("export")
@click.argument("name", required=False)
@click.argument("out_dir", metavar="DIR", type=click.Path(path_type=Path), required=False)
@click.option("--from", "train_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="export a 'zoo train --out' folder instead of a registry model (then give only DIR)")
@click.option("--architecture", help="with --from: check the weights load strictly into this architecture")
@click.option("--weights", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="export this .safetensors file for NAME instead of the registry's weights")
@click.option("--dataset", "datasets", multiple=True, help="Hub dataset id for the card's metadata (repeatable)")
@click.option("--tag", "tags", multiple=True, help="extra tag for the card's metadata (repeatable)")
@click.option("--license", help="licence id for the card (default: the registry entry's)")
@click.option("--force", is_flag=True, help="overwrite model.safetensors, config.json and README.md in DIR")
@click.option("--threads", type=int, help="CPU threads for loading the weights (default: ZOO_THREADS, else one per "
                                          "core not busy)")
def export_command(name: str | None, out_dir: Path | None, train_dir: Path | None, architecture: str | None,
                   weights: Path | None, datasets: tuple[str, ...], tags: tuple[str, ...], license: str | None,
                   force: bool, threads: int | None) -> None:
    """Write a Hub model repo for NAME into DIR: model.safetensors, config.json, README.md (model card).

    \b
    zoo export dcgan-fashion hub/dcgan-fashion
    zoo export --from runs/my-dcgan hub/my-dcgan --architecture dcgan
    hf upload you/my-dcgan hub/my-dcgan .
    """
    if train_dir is not None:
        if out_dir is None and name is not None:
            out_dir, name = Path(name), None  # 'zoo export --from RUN DIR': the one argument is DIR
        if name is not None:
            raise click.UsageError("with --from TRAIN_DIR give only DIR, not a model NAME")
        if weights is not None:
            raise click.UsageError("--weights goes with NAME; --from exports the folder's own model.safetensors")
    elif name is None or out_dir is None:
        raise click.UsageError("give a model NAME and a DIR to write the repo into (or --from TRAIN_DIR DIR)")
    elif architecture is not None:
        raise click.UsageError("--architecture goes with --from; a registry model knows its architecture")
    from ..threads import use_threads

    use_threads(threads, torch_now=True)
    assert out_dir is not None
    for dataset in datasets:
        if not _HUB_ID.match(dataset):
            raise click.UsageError(f"--dataset {dataset!r}: give a Hub dataset id like 'owner/name'")
    _check_target(out_dir, force)
    if train_dir is not None:
        path, sha256 = _export_training(train_dir, out_dir, architecture, list(datasets), list(tags), license)
        label = train_dir.name
    else:
        assert name is not None
        path, sha256 = _export_entry(name, out_dir, weights, list(datasets), list(tags), license)
        label = Path(name).name if "/" in name else name  # a run folder's path: its last part names the repo
    click.echo(f"wrote {out_dir}: model.safetensors ({path.stat().st_size} bytes, sha256 {sha256[:12]}…), "
               "config.json, README.md")
    # an entry zoo knows supplies its architecture; a training folder's model is new to zoo
    arch_option = f"--architecture {architecture or 'ARCH'} " if train_dir is not None else ""
    click.echo(f"next: hf upload OWNER/{label} {out_dir} .  then  zoo registry add {label} {arch_option}"
               f"--repo-id OWNER/{label} --revision COMMIT --file {path}")
