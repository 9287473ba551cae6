"""Model cards for zoo-gan's training output folders (the core writes them; this picks the words)."""

from __future__ import annotations

from typing import Any

from zoo_core.cards import training_card
from zoo_core.training import FitResult


def model_card(*, title: str, config: dict[str, Any], result: FitResult, recipe: str, dataset: str,
               classes: tuple[str, ...], monitor_note: str, extra: dict[str, float] | None = None,
               task: str = "unconditional-image-generation") -> str:
    """``task`` is the Hub's task id (unconditional-image-generation, image-classification)."""
    # the Hub knows Fashion-MNIST by its dataset id; a user's folder has none to give
    datasets = ["zalando-datasets/fashion_mnist"] if dataset.startswith("fashion") else []
    tag = "image-classification" if task == "image-classification" else "image-generation"
    notes = "Classes: " + ", ".join(f"{i}={c}" for i, c in enumerate(classes)) if classes else ""
    return training_card(title=title, config=config, result=result, recipe=recipe, task=task, tags=[tag],
                         datasets=datasets, monitor_note=monitor_note, extra_metrics=extra, notes=notes)
