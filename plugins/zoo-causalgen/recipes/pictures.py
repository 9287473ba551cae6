"""The README's pictures of a causal generator (default: causal-pendulum), all from its seed.

    python plugins/zoo-causalgen/recipes/pictures.py [MODEL] [--out docs]

- MODEL-do-sweep.png: each row one unit (the same noise), do(light_angle = v) for 8 values of
  v left to right: the shadow follows the light, the pendulum stays;
- MODEL-given-vs-do.png: top row given shadow_length = 12 (the light is inferred: low), bottom
  row do(shadow_length = 12) (the light is not: anywhere);
- MODEL-counterfactual.png: per row a held-out unit: its image, the model's counterfactual
  under do(light_angle = v), and the exact counterfactual render;
- causal-fashion-counterfactual.png: per row a held-out garment, then do(scale = 0.5) and
  do(scale = 1.0), each the model's counterfactual beside the exact one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import zoo_core
from zoo_core.images import make_grid, save_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="causal-pendulum")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    from zoo_causalgen.dataset import draw
    from zoo_causalgen.scenes import pendulum

    model = zoo_core.load(args.model, device="cpu")
    size = model.config.image_size
    values = np.linspace(1.0, 2.25, 8)
    rows = [model.generate(4, seed=0, do={"light_angle": float(v)}).images for v in values]
    sweep = torch.stack(rows, dim=1).reshape(-1, *model.image_shape)  # unit-major: one unit per row
    save_image(make_grid(sweep, columns=len(values)), args.out / f"{args.model}-do-sweep.png")

    given = model.generate(8, seed=1, given={"shadow_length": 12.0}).images
    done = model.generate(8, seed=1, do={"shadow_length": 12.0}).images
    save_image(make_grid(torch.cat([given, done]), columns=8), args.out / f"{args.model}-given-vs-do.png")

    factors, noise = draw("pendulum", 6, 5, sigma=model.config.sigma, split="test")
    exact = torch.from_numpy(pendulum.render_batch(factors, size)).permute(0, 3, 1, 2).float() / 127.5 - 1
    targets = np.linspace(1.1, 2.1, 6)
    triples = []
    for i, v in enumerate(targets):
        counterfactual = model.counterfactual(exact[i:i + 1], {"light_angle": float(v)}).images
        unit = {k: n[i:i + 1] for k, n in noise.items()}
        truth = pendulum.true_images(unit, {"light_angle": float(v)}, model.config.sigma, size)
        truth_t = torch.from_numpy(truth).permute(0, 3, 1, 2).float() / 127.5 - 1
        triples += [exact[i:i + 1], counterfactual, truth_t]
    save_image(make_grid(torch.cat(triples), columns=3), args.out / f"{args.model}-counterfactual.png")
    print(f"wrote {args.out}/{args.model}-do-sweep.png, -given-vs-do.png, -counterfactual.png")
    fashion_pictures(args.out)


def fashion_pictures(out: Path, name: str = "causal-fashion") -> None:
    """Per row a held-out garment: its image, then do(scale = 0.5) and do(scale = 1.0), each as
    the model's counterfactual beside the exact one."""
    from zoo_causalgen.dataset import draw
    from zoo_causalgen.scenes import fashion

    model = zoo_core.load(name, device="cpu")
    size = model.config.image_size
    factors, noise = draw("fashion", 8, 3, sigma=model.config.sigma, split="test")
    garments, _ = fashion.garments("test")
    index = noise["garment"].astype(np.int64)
    exact = torch.from_numpy(fashion.render_batch(factors, garments[index], size)).permute(0, 3, 1, 2).float() / 127.5 - 1
    tiles = []
    for i in range(len(index)):
        tiles.append(exact[i:i + 1])
        for value in (0.5, 1.0):
            tiles.append(model.counterfactual(exact[i:i + 1], {"scale": value}).images)
            unit = {k: v[i:i + 1] for k, v in noise.items()}
            truth = fashion.render_batch(fashion.true_intervention(unit, {"scale": value}, model.config.sigma),
                                         garments[index[i:i + 1]], size)
            tiles.append(torch.from_numpy(truth).permute(0, 3, 1, 2).float() / 127.5 - 1)
    save_image(make_grid(torch.cat(tiles), columns=5), out / f"{name}-counterfactual.png")
    print(f"wrote {out}/{name}-counterfactual.png")


if __name__ == "__main__":
    main()
