"""Draw a conditional model's per-class grid: one column per class, one row per seed.

    python plugins/zoo-gan/recipes/class_grid.py cdcgan-fashion docs/cdcgan-fashion-classes.png [--rows 6]

Within a column the class is fixed and only the seed changes, so the rows show how much a
class varies (a collapsed model repeats one picture down each column). With ``--weights`` a
training output's ``model.safetensors`` is drawn instead of the registry's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import zoo_core
from zoo_core.images import make_grid, save_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=6)
    parser.add_argument("--weights", type=Path)
    args = parser.parse_args()
    model = zoo_core.load(args.name, device="cpu", weights=args.weights)
    classes = model.num_classes
    cells = [model.sample(1, seed=seed, labels=label) for seed in range(args.rows) for label in range(classes)]
    grid = make_grid(torch.cat(cells), columns=classes)
    save_png(grid, args.out, {"model": args.name, "rows": "seeds 0..{}".format(args.rows - 1),
                              "columns": "classes 0..{}".format(classes - 1)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
