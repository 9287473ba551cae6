"""Model cards for training output folders: YAML metadata the Hub reads, then the recipe."""

from __future__ import annotations

import json
from typing import Any

from zoo_core.training import FitResult


def model_card(*, title: str, config: dict[str, Any], result: FitResult, recipe: str, dataset: str,
               classes: tuple[str, ...], monitor_note: str, extra: dict[str, float] | None = None,
               task: str = "unconditional-image-generation") -> str:
    """``task`` is the Hub's task id (unconditional-image-generation, image-classification)."""
    best = {**result.best, **(extra or {})}
    # the Hub knows Fashion-MNIST by its dataset id; a user's folder has none to give
    datasets = "datasets:\n  - zalando-datasets/fashion_mnist\n" if dataset.startswith("fashion") else ""
    tag = "image-classification" if task == "image-classification" else "image-generation"
    metric_lines = "\n".join(f"          - type: {k}\n            value: {v:.6g}" for k, v in best.items())
    history = "\n".join("| " + " | ".join(str(row.get(k, "")) for k in result.history[0]) + " |"
                        for row in result.history) if result.history else ""
    header = "| " + " | ".join(result.history[0]) + " |\n|" + "---|" * len(result.history[0]) if history else ""
    return f"""---
license: apache-2.0
library_name: zoo
tags:
  - zoo
  - {tag}
{datasets}model-index:
  - name: {json.dumps(title)}
    results:
      - task:
          type: {task}
        metrics:
{metric_lines}
---

# {title}

Trained with zoo ({result.epochs} epochs, best epoch {result.best_epoch}, {result.seconds / 60:.1f} min of
training, {result.images_per_second:.0f} images/s{", stopped early" if result.stopped_early else ""}).
Held-out metric: {monitor_note}.

## Recipe

```bash
{recipe}
```

## Config

```json
{json.dumps(config, indent=2)}
```
{"" if not classes else chr(10) + "Classes: " + ", ".join(f"{i}={c}" for i, c in enumerate(classes)) + chr(10)}
## Training history

{header}
{history}
"""
