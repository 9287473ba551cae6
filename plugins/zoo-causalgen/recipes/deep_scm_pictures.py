"""The README's deep-scm pictures, from a trained run folder and its held-out images.

- ``docs/deep-scm-do-sweep.png``: for each attribute, rows of held-out digits; the first column
  is the input, the next ones its counterfactual under do(attribute = v) for v from low to high
  (a continuous attribute's 5-95% quantiles; a categorical one's categories).
- ``docs/deep-scm-counterfactual.png``: input, do(thickness = thin), do(thickness = thick),
  do(intensity = dim), do(digit = 7), side by side, for 8 held-out images.

    python plugins/zoo-causalgen/recipes/deep_scm_pictures.py runs/digits [--out docs]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import zoo_core
from zoo_core.images import make_grid, save_png
from zoo_causalgen.deep_scm_eval import counterfactuals, held_out_data


def sweep_values(spec, values: torch.Tensor) -> list[float]:  # type: ignore[no-untyped-def]
    if spec.discrete:
        return [float(c) for c in spec.categories][:10]
    return [float(v) for v in np.quantile(values.numpy(), np.linspace(0.05, 0.95, 7))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--rows", type=int, default=4)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    model = zoo_core.load(str(args.run), device="cpu")
    images, values = held_out_data(model, args.run, None)
    units = slice(0, args.rows)
    known = {k: v[units] for k, v in values.items()}
    rows: list[list[torch.Tensor]] = []  # per attribute, per unit: the input, then each value's counterfactual
    for spec in model.config.attributes:
        columns = [images[units]]
        for value in sweep_values(spec, values[spec.name]):
            columns.append(counterfactuals(model, images[units], known, {spec.name: torch.full((args.rows,), value)})[0])
        rows += [[column[i] for column in columns] for i in range(args.rows)]
    width = max(len(row) for row in rows)
    blank = -torch.ones_like(images[0])
    tiles = torch.stack([tile for row in rows for tile in row + [blank] * (width - len(row))])
    save_png(make_grid(tiles, columns=width), args.out / "deep-scm-do-sweep.png")
    names = {s.name: s for s in model.config.attributes}
    picks = slice(0, 8)
    held = {k: v[picks] for k, v in values.items()}
    columns = [images[picks]]
    plan = []
    for name in names:
        spec = names[name]
        if spec.discrete:
            plan.append({name: torch.full((8,), float(spec.categories[min(7, len(spec.categories) - 1)]))})
        else:
            low, high = np.quantile(values[name].numpy(), [0.05, 0.95])
            plan += [{name: torch.full((8,), float(low))}, {name: torch.full((8,), float(high))}]
    for do in plan:
        columns.append(counterfactuals(model, images[picks], held, do)[0])
    grid = torch.stack(columns, dim=1).flatten(0, 1)
    save_png(make_grid(grid, columns=len(columns)), args.out / "deep-scm-counterfactual.png")
    print(f"wrote {args.out / 'deep-scm-do-sweep.png'} and {args.out / 'deep-scm-counterfactual.png'}")


if __name__ == "__main__":
    main()
