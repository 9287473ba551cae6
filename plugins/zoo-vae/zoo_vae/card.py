"""Model cards for training output folders: YAML metadata the Hub reads, then the recipe."""

from __future__ import annotations

import json
from typing import Any

from zoo_core.training import FitResult


def model_card(*, title: str, config: dict[str, Any], result: FitResult, recipe: str, dataset: str,
               monitor_note: str) -> str:
    datasets = "datasets:\n  - zalando-datasets/fashion_mnist\n" if dataset.startswith("fashion") else ""
    metric_lines = "\n".join(f"          - type: {k}\n            value: {v:.6g}" for k, v in result.best.items())
    columns = list(result.history[0]) if result.history else []
    table = ""
    if columns:
        table = ("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
                 + "\n".join("| " + " | ".join(str(row.get(k, "")) for k in columns) + " |" for row in result.history))
    return f"""---
license: apache-2.0
library_name: zoo
tags:
  - zoo
  - vae
  - image-generation
{datasets}model-index:
  - name: {json.dumps(title)}
    results:
      - task:
          type: unconditional-image-generation
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

## Training history

{table}
"""
