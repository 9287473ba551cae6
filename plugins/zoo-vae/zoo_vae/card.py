"""Model cards for zoo-vae's training output folders (the core writes them; this picks the words)."""

from __future__ import annotations

from typing import Any

from zoo_core.cards import training_card
from zoo_core.training import FitResult


def model_card(*, title: str, config: dict[str, Any], result: FitResult, recipe: str, dataset: str,
               monitor_note: str) -> str:
    datasets = ["zalando-datasets/fashion_mnist"] if dataset.startswith("fashion") else []
    return training_card(title=title, config=config, result=result, recipe=recipe,
                         task="unconditional-image-generation", tags=["vae", "image-generation"],
                         datasets=datasets, monitor_note=monitor_note)
