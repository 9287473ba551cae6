"""Does the held-out quality signal rank degraded images far from its floor? Numbers for the note.

For drawn shapes (zoo_core.testing.data.shape_images: no download) at several sizes and channel
counts, and for Fashion-MNIST where installed, a folder is split as ``zoo train`` splits it
(a seeded tenth held out) and ``HeldOutQuality`` scores, against the held-out images:
the floor (training images), fresh real images, the same blurred (σ = 1 px) and noised
(σ = 0.2), in the default random feature space and, for Fashion-MNIST, also in the
fashion-classifier's. The reference is the floor in the same run: the table prints each KID's
distance from it and the ratio to real images' distance (KID is unbiased, so real images land
within noise of the floor).

    OMP_NUM_THREADS=1 python bench/bench_quality.py [--images 800] [--samples 300]
"""

from __future__ import annotations

import argparse
import os
import time

import torch


def rows(name: str, images: torch.Tensor, fresh: torch.Tensor, space_name: str, samples: int) -> None:
    from zoo_core.metrics import HeldOutQuality, add_noise, blur, feature_space, split_held_out

    started = time.perf_counter()
    train, held = split_held_out(len(images), seed=0)
    quality = HeldOutQuality(feature_space(space_name), images[held], images[train], samples=samples)
    floor = quality.floor["kid_floor"]
    scores = {kind: quality.score(x) for kind, x in (("real", fresh), ("blurred", blur(fresh)),
                                                    ("noised", add_noise(fresh, 0.2)))}
    real = scores["real"]["kid"] - floor
    cells = [f"{scores[k]['kid'] - floor:10.2e} ({(scores[k]['kid'] - floor) / abs(real):6.1f}x)"
             for k in ("blurred", "noised")]
    fds = " / ".join(f"{scores[k]['fd']:.3g}" for k in ("real", "blurred", "noised"))
    print(f"{name:24} {space_name:18} {len(held):5d} {floor:10.2e} {real:10.2e} {cells[0]} {cells[1]}  "
          f"{quality.floor['fd_floor']:.3g} | {fds}  {time.perf_counter() - started:5.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=800, help="images in each folder (a tenth held out)")
    parser.add_argument("--samples", type=int, default=300, help="images scored (and training images in the floor)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from zoo_core.testing.data import fashion_mnist_available, shape_images

    print(f"load {os.getloadavg()[0]:.1f}; KID minus the floor's KID (x: times real images' distance); "
          "FD: floor | real / blurred / noised")
    print(f"{'folder':24} {'features':18} {'held':>5} {'kid floor':>10} {'real':>10} {'blurred':>20} "
          f"{'noised':>20}  FD")
    for channels, size in ((3, 32), (1, 28), (4, 48), (3, 128)):
        rows(f"shapes {channels}x{size}x{size}", shape_images(args.images, size, channels, seed=1),
             shape_images(args.samples, size, channels, seed=7), "random", args.samples)
    if fashion_mnist_available():
        from zoo_core.data import load_fashion_mnist, to_model_range

        train = load_fashion_mnist("train").images
        pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
        folder = to_model_range(train[pick[:args.images]], 28)
        fresh = to_model_range(train[pick[-args.samples:]], 28)
        rows("fashion-mnist 1x28x28", folder, fresh, "random", args.samples)
        pad = torch.nn.functional.pad  # the classifier takes 32x32: Fashion-MNIST padded with background
        rows("fashion-mnist 1x32x32", pad(folder, (2, 2, 2, 2), value=-1.0), pad(fresh, (2, 2, 2, 2), value=-1.0),
             "fashion-classifier", args.samples)
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
