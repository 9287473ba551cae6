"""Make the README's conv-VAE images: prior samples, test reconstructions, an interpolation.

    python plugins/zoo-vae/recipes/docs_images.py docs/
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import zoo_core
from zoo_core.data import load_fashion_mnist, to_model_range
from zoo_core.images import make_grid, save_png

NAME = "conv-vae-fashion"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    model = zoo_core.load(NAME, device="cpu")
    save_png(make_grid(model.sample(64, seed=0)), out / f"{NAME}.png", {"model": NAME, "seed": "0"})
    test = to_model_range(load_fashion_mnist("test").images[:16], 28)
    pairs = torch.stack([test, model.reconstruct(test)], dim=1).reshape(32, 1, 28, 28)  # original, reconstruction
    save_png(make_grid(pairs, columns=8), out / f"{NAME}-reconstructions.png",
             {"model": NAME, "images": "Fashion-MNIST test 0-15, each beside its reconstruction"})
    strip = model.interpolate_images(test[0], test[1], frames=10)
    save_png(make_grid(strip, columns=10), out / f"{NAME}-interpolate.png",
             {"model": NAME, "images": "posterior means of test images 0 and 1, linearly interpolated"})
    print(f"wrote {out}/{NAME}*.png")


if __name__ == "__main__":
    main()
