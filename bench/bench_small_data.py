"""DCGAN on small Fashion-MNIST subsets, with and without DiffAugment, for the same number of steps.

For each subset size (1,000 and 5,000 training images by default, a seeded random pick of the
60k training split), zoo-gan's GANTask trains the same DCGAN from the same seed twice: once
plain (the reference) and once with DiffAugment (colour, translation, cutout on every image
the discriminator sees), for the same number of optimisation steps, so the budget is equal
whatever the machine's load (wall time and process CPU time are printed too). Each final
generator is scored as ``zoo eval`` scores the registry's: Fréchet distance and KID between
5,000 samples and the 10,000 test images in the feature space of zoo's Fashion-MNIST
classifier (not Inception FID), with the floor (5,000 training images against the test
images) beside them; the FD of 2,500 samples after each quarter of the steps is printed too
(untimed), to show whether a run is still improving or already getting worse. Ratios are
augmented / plain in the same run: below 1 means better.

    OMP_NUM_THREADS=1 python bench/bench_small_data.py [--sizes 1000 5000] [--steps 2000]
        [--batch-size 64] [--width 32] [--seed 0] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import time

import torch


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def train(subset: torch.Tensor, *, augment: bool, steps: int, batch_size: int, width: int, seed: int,
          every: int = 0, score=None):  # type: ignore[no-untyped-def]
    from zoo_core.training import TrainContext
    from zoo_gan.augment import DiffAugment
    from zoo_gan.dcgan import DCGANConfig
    from zoo_gan.tasks import GANTask

    ctx = TrainContext(torch.device("cpu"))
    task = GANTask(ctx, DCGANConfig(width=width), lr=2e-4, seed=seed, classifier=None, reference=None,
                   eval_samples=2, recipe="bench", dataset="fashion-mnist", classes=(),
                   augment=DiffAugment() if augment else None)
    labels = torch.zeros(len(subset), dtype=torch.long)
    per_epoch = len(subset) // batch_size
    order = torch.empty(0, dtype=torch.long)
    wall, cpu, trajectory = time.perf_counter(), time.process_time(), []
    for step in range(steps):
        if step % per_epoch == 0:  # a fresh seeded shuffle each epoch, as fit does
            order = torch.randperm(len(subset), generator=torch.Generator().manual_seed(seed * 100003 + step))
        index = order[(step % per_epoch) * batch_size:(step % per_epoch + 1) * batch_size]
        task.train_step(subset[index], labels[index])
        if every and (step + 1) % every == 0 and step + 1 < steps:  # FD on the way (not timed)
            paused_wall, paused_cpu = time.perf_counter(), time.process_time()
            trajectory.append(score(task.model.eval()))
            task.model.train()
            wall += time.perf_counter() - paused_wall
            cpu += time.process_time() - paused_cpu
    return task.model.eval(), time.perf_counter() - wall, time.process_time() - cpu, trajectory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import zoo_core
    from zoo_core.data import load_fashion_mnist, to_model_range
    from zoo_core.metrics import frechet_distance, kernel_distance

    classifier = zoo_core.load("fashion-classifier", device="cpu")
    train_x = to_model_range(load_fashion_mnist("train").images, 32)
    test_features = classifier.features_of(to_model_range(load_fashion_mnist("test").images, 32))
    pick = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(args.seed + 1))
    floor_features = classifier.features_of(train_x[pick[:args.samples]])
    fd_floor = frechet_distance(floor_features, test_features)
    kid_floor, _ = kernel_distance(floor_features, test_features)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} steps of batch {args.batch_size}, "
          f"DCGAN width {args.width}; FD/KID of {args.samples} samples vs the 10,000 test images in zoo's "
          f"Fashion-MNIST classifier space; floor (training images): FD {fd_floor:.3f}, KID {kid_floor:.5f}")
    print(f"{'images':>7} {'augment':>8} {'FD':>8} {'KID':>9} {'wall s':>7} {'cpu s':>7} {'load':>9} "
          f"{'FD aug/plain':>13} {'KID aug/plain':>14}")
    for size in args.sizes:
        subset = train_x[pick[-size:]]  # disjoint from the floor's images
        plain: dict[str, float] = {}
        for augment in (False, True):
            before = load()
            def quick_fd(model) -> float:  # type: ignore[no-untyped-def]
                samples = model.sample(args.samples // 2, seed=args.seed, batch_size=1000).float()
                return frechet_distance(classifier.features_of(samples), test_features)

            model, wall, cpu, trajectory = train(subset, augment=augment, steps=args.steps,
                                                 batch_size=args.batch_size, width=args.width, seed=args.seed,
                                                 every=args.steps // 4, score=quick_fd)
            features = classifier.features_of(model.sample(args.samples, seed=args.seed, batch_size=1000).float())
            fd = frechet_distance(features, test_features)
            kid, _ = kernel_distance(features, test_features)
            ratios = ""
            if augment:
                ratios = f"{fd / plain['fd']:13.2f} {kid / plain['kid']:14.2f}"
            else:
                plain = {"fd": fd, "kid": kid}
            print(f"{size:7d} {'on' if augment else 'off':>8} {fd:8.3f} {kid:9.5f} {wall:7.0f} {cpu:7.0f} "
                  f"{before + '-' + load():>9} {ratios}", flush=True)
            steps_at = [args.steps // 4 * (i + 1) for i in range(len(trajectory))]
            print("         FD on the way (half the samples): "
                  + ", ".join(f"step {s} {v:.2f}" for s, v in zip(steps_at, trajectory)), flush=True)


if __name__ == "__main__":
    main()
