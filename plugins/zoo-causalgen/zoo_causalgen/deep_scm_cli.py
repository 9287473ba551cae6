"""``zoo train deep-scm`` and ``zoo eval RUN``: the command-line glue (parse, call, print).

    zoo train deep-scm --images DIR --attributes attributes.csv [--graph graph.txt | --discover pc|fci]
                       --out runs/NAME [--categorical COLS] [--columns COLS] [--epochs N] [--device cuda]

The model, its training and its evaluation live in ``deep_scm``, ``deep_scm_train`` and
``deep_scm_eval``; this module only turns options into calls and results into lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from zoo_core import InputError
from zoo_core.training import check_positive, command_recipe, training_options

__all__ = ["train_command", "evaluate_command", "DATA_RECORD"]

#: where a run keeps what it was trained on (paths, the held-out files, the graph) for zoo eval
DATA_RECORD = "data.json"


def _names(text: str | None, option: str) -> list[str]:
    if not text:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(f"{option}: give column names separated by commas")
    return names


def _split(n: int, held_out: float, seed: int, batch_size: int) -> tuple[Any, Any]:
    import numpy as np

    if not 0 < held_out < 0.5:
        raise InputError(f"--held-out {held_out}: a fraction between 0 and 0.5")
    count = max(1, min(1000, int(round(held_out * n))))
    if n - count < batch_size:
        raise InputError(f"--attributes: {n} rows leave {n - count} to train on, fewer than --batch-size {batch_size}")
    order = np.random.default_rng([seed, 7]).permutation(n)
    return np.sort(order[count:]), np.sort(order[:count])


@click.command()
@training_options(epochs=30, patience=6, batch_size=64, datasets=("folder",))
@click.option("--images", "images_dir", type=click.Path(path_type=Path), required=True,
              help="the folder of images (the CSV's 'file' column is relative to it)")
@click.option("--attributes", "attributes_csv", type=click.Path(path_type=Path), required=True,
              help="CSV: a 'file' column and one column per attribute")
@click.option("--graph", "graph_source", help="the causal graph (file or text, zoo-docalculus syntax) over the "
              "attributes and 'image'; default: every attribute causes the image")
@click.option("--discover", type=click.Choice(["pc", "fci"]), help="find the attributes' graph from the CSV instead")
@click.option("--categorical", help="attributes to treat as categorical, comma-separated (default: detected)")
@click.option("--columns", help="the attribute columns to use, comma-separated (default: all but 'file')")
@click.option("--held-out", type=float, default=0.1, show_default=True,
              help="fraction of rows held out (at most 1,000) for early stopping and zoo eval")
@click.option("--latent-dim", type=int, default=16, show_default=True, help="size of the image noise")
@click.option("--width", type=int, default=16, show_default=True, help="channels of the first convolution")
@click.option("--stage-convs", type=click.IntRange(0, 2), default=0, show_default=True,
              help="3x3 convolutions per decoder stage, 1 or 2 (0: two for images of 64 pixels or more, else one)")
@click.option("--cf-weight", type=float, default=1.0, show_default=True,
              help="weight of the counterfactual term (0: a plain conditional VAE)")
@click.option("--beta", type=float, default=1.0, show_default=True, help="weight of the VAE's KL term")
@click.option("--lr", type=float, default=1e-3, show_default=True)
def train_command(out_dir: Path, dataset: str, data_dir: Path | None, images_dir: Path, attributes_csv: Path,
                  graph_source: str | None, discover: str | None, categorical: str | None, columns: str | None,
                  held_out: float, latent_dim: int, width: int, stage_convs: int, cf_weight: float, beta: float,
                  lr: float, epochs: int, patience: int, batch_size: int, seed: int, device: str, no_amp: bool,
                  resume: bool, force: bool, quiet: bool, limit: int | None) -> None:
    """Learn a deep SCM from labelled images: attribute mechanisms, a conditional VAE, predictors."""
    import os

    from .deep_scm_setup import prepare_training

    check_positive(epochs=epochs, patience=patience, batch_size=batch_size, lr=lr, latent_dim=latent_dim, width=width)
    if data_dir is not None:
        raise InputError("--data-dir: give the images with --images DIR and their attributes with --attributes CSV")
    if graph_source and discover:
        raise InputError("--graph and --discover: give the graph or let it be discovered, not both")
    if cf_weight < 0 or beta <= 0:
        raise InputError("--cf-weight must be at least 0 and --beta positive")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise InputError("deep-scm trains in one process; run it without torchrun (--device cuda uses a GPU)")
    setup = prepare_training(images_dir, attributes_csv, graph_source=graph_source, discover=discover,
                             categorical=_names(categorical, "--categorical"),
                             columns=_names(columns, "--columns") or None, limit=limit,
                             latent_dim=latent_dim, width=width, stage_convs=stage_convs,
                             log=lambda line: click.echo(line, err=True))
    train_rows, held_rows = _split(len(setup.data), held_out, seed, batch_size)
    click.echo(f"{len(train_rows)} images to train on, {len(held_rows)} held out", err=True)
    _train(setup, train_rows, held_rows, out_dir=out_dir, lr=lr, seed=seed, device=device, amp=not no_amp,
           epochs=epochs, patience=patience, batch_size=batch_size, resume=resume, force=force, quiet=quiet,
           cf_weight=cf_weight, beta=beta, recipe=command_recipe("zoo train deep-scm"))


def _train(setup: Any, train_rows: Any, held_rows: Any, *, out_dir: Path, lr: float, seed: int, device: str, amp: bool,
           epochs: int, patience: int, batch_size: int, resume: bool, force: bool, quiet: bool, cf_weight: float,
           beta: float, recipe: str) -> None:
    from zoo_core.atomic import write_atomic
    from zoo_core.training import fit, training_context

    from .deep_scm_setup import model_card
    from .deep_scm_train import DeepSCMTask

    images, table = setup.tensors()
    record = {"images": str(setup.data.folder.resolve()), "attributes": str(setup.csv.resolve()),
              "columns": [a.name for a in setup.data.attributes], "graph": setup.graph.text(),
              "held_out": [setup.data.files[i].name for i in held_rows], "seed": seed}
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with training_context(device, amp=amp) as ctx:  # CPU threads: zoo train decided them (--threads, ZOO_THREADS)
        val = (images[held_rows].to(ctx.device), table[held_rows].to(ctx.device))
        task = DeepSCMTask(ctx, setup.config, lr=lr, seed=seed, val=val,
                           steps_per_epoch=max(1, len(train_rows) // batch_size), cf_weight=cf_weight, beta=beta,
                           card=lambda result: model_card(setup, result, recipe, len(train_rows), len(held_rows)))
        if not (Path(out_dir) / DATA_RECORD).exists() or force:  # what zoo eval measures on, from the start
            write_atomic(Path(out_dir) / DATA_RECORD, json.dumps(record, indent=1) + "\n")
        result = fit(task, ctx, images[train_rows], table[train_rows], out_dir=out_dir, batch_size=batch_size,
                     max_epochs=epochs, patience=patience, seed=seed, resume=resume, force=force,
                     progress=not quiet)
    best = result.best
    shown = ", ".join(f"{k.removeprefix('val_')} {v:.4g}" for k, v in best.items()
                      if k.startswith(("val_psnr", "val_cf_", "val_read_")))
    click.echo(f"deep-scm: best epoch {result.best_epoch} of {result.epochs} (held out: {shown}); "
               f"{result.seconds / 60:.1f} min; run it with: zoo run {out_dir} --do ... ; measure it with: "
               f"zoo eval {out_dir}")


@click.command()
@click.argument("name")
@click.option("--num", type=int, default=None, help="held-out units to measure on (default: all, at most 1,000)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the metrics as one JSON object")
def evaluate_command(name: str, num: int | None, seed: int, device: str, as_json: bool) -> None:
    """Soundness of a deep SCM on its held-out split: effectiveness, composition, reversibility,
    preservation and realism, each beside its floor on real held-out images."""
    import zoo_core

    from .deep_scm_eval import evaluate, held_out_data, report_lines

    model = zoo_core.load(name, device=device)
    folder = Path(name)
    images, values = held_out_data(model, folder, num)
    reference, _ = held_out_data(model, folder, num, training=True)
    metrics = evaluate(model, images, values, seed=seed, reference=reference)
    if as_json:
        click.echo(json.dumps({"model": name, "units": len(images), "metrics": metrics}, indent=2))
        return
    for line in report_lines(model, metrics, len(images)):
        click.echo(line)
