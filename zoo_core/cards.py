"""Model cards: the YAML metadata the Hugging Face Hub indexes, and the training report.

One writer for every card zoo produces (training output folders of any plugin, ``zoo
export``), so they all carry the same metadata: license, ``library_name: zoo``, tags,
datasets and a ``model-index`` with the metrics. Scalars are written as JSON strings, which
YAML reads as double-quoted scalars, so titles with colons or quotes stay valid.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

__all__ = ["hub_metadata", "training_card"]


def _yaml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def hub_metadata(*, title: str, license: str, task: str, tags: Iterable[str] = (), datasets: Iterable[str] = (),
                 metrics: Mapping[str, float] | None = None, pipeline_tag: str | None = None) -> str:
    """The card's YAML front matter (between ``---`` lines); ``task`` is the Hub's task id
    (e.g. unconditional-image-generation, image-classification)."""
    meta = ["---", f"license: {_yaml(license or 'other')}", "library_name: zoo"]
    if pipeline_tag:
        meta.append(f"pipeline_tag: {pipeline_tag}")
    meta += ["tags:"] + [f"  - {_yaml(t)}" for t in dict.fromkeys(["zoo", *tags])]
    datasets = list(datasets)
    if datasets:
        meta += ["datasets:"] + [f"  - {_yaml(d)}" for d in datasets]
    if metrics:
        meta += ["metrics:"] + [f"  - {_yaml(k)}" for k in metrics]
    if metrics and datasets:
        # the Hub's model-index needs the data set results were measured on; without one (a
        # user's own folder) the metrics stay in the card's text only
        meta += ["model-index:", f"  - name: {_yaml(title)}", "    results:", "      - task:",
                 f"          type: {_yaml(task)}", "        dataset:", f"          type: {_yaml(datasets[0])}",
                 f"          name: {_yaml(datasets[0])}", "        metrics:"]
        for key, value in metrics.items():
            meta += [f"          - type: {_yaml(key)}", f"            name: {_yaml(key)}",
                     f"            value: {float(value)!r}"]
    meta.append("---")
    return "\n".join(meta) + "\n"


def training_card(*, title: str, config: Mapping[str, Any], result: Any, recipe: str, task: str,
                  monitor_note: str, tags: Iterable[str] = (), datasets: Iterable[str] = (),
                  license: str = "apache-2.0", extra_metrics: Mapping[str, float] | None = None,
                  notes: str = "") -> str:
    """The README of a training output folder: metadata, how it was trained, config, history.

    ``result`` is a ``zoo_core.training.FitResult``; its best held-out metrics (plus
    ``extra_metrics``) go into the model index.
    """
    metrics = {**result.best, **(extra_metrics or {})}
    columns = list(result.history[0]) if result.history else []
    table = ""
    if columns:
        table = ("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
                 + "\n".join("| " + " | ".join(str(row.get(k, "")) for k in columns) + " |" for row in result.history))
    stopped = ", stopped early" if result.stopped_early else ""
    return (hub_metadata(title=title, license=license, task=task, tags=tags, datasets=datasets, metrics=metrics)
            + f"""
# {title}

Trained with zoo ({result.epochs} epochs, best epoch {result.best_epoch}, {result.seconds / 60:.1f} min of
training, {result.images_per_second:.0f} images/s{stopped}).
Held-out metric: {monitor_note}.

## Recipe

```bash
{recipe}
```

## Config

```json
{json.dumps(dict(config), indent=2)}
```
{(chr(10) + notes + chr(10)) if notes else ""}
## Training history

{table}
""")
