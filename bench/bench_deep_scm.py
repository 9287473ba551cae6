"""Deep SCM on a Morpho-MNIST-like folder: the documented training command timed, then its
counterfactuals judged by an *independent* measurement of the attributes.

1. Data: ``zoo_causalgen.strokes`` draws 8,000 28x28 greyscale digits (thickness -> intensity,
   a 10-class digit label; Pawlowski et al.'s Morpho-MNIST SCM) into ``--data``, if absent.
2. Training: exactly the documented command, as a subprocess, timed (wall clock, with the load):
   ``zoo train deep-scm --images D --attributes D/attributes.csv --graph D/graph.txt --out RUN``.
3. Counterfactuals through the user's path: ``zoo_core.run(RUN, *held_out_pngs, do="x=v",
   out_dir=...)`` (what ``zoo run RUN a.png ... --do x=v --out-dir D`` does: the factual
   attributes are read by the run's predictors, then abduct, act, predict), 5 values of v per
   attribute (its 10/30/50/70/90% quantiles; for the digit, 5 classes) over every held-out image.
4. The judge, which zoo never trained against: thickness and intensity measured on the pixels
   (2 x area / boundary length of the stroke mask, and the mask's 90th-percentile grey level,
   each mapped to the attribute's units by a least-squares line fitted on the training images),
   and a digit classifier trained here on the training images only.

Reported per attribute: the judge's error on the counterfactuals against the intended value
(MAE; for the digit, accuracy), beside two references from the same run: the judge on the real
held-out images (its floor) and on the unchanged inputs (what "no counterfactual" scores); the
descendant (intensity under do(thickness)) against the value the *true* mechanism gives with the
unit's own noise, and the non-descendants' drift.

    python bench/bench_deep_scm.py --data /tmp/digits --run /tmp/runs/digits [--skip-train] [--num 800]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def measure(pixels: np.ndarray) -> np.ndarray:
    """(N, 2) raw [stroke width, grey level] of uint8 (N, H, W) digits, from the pixels alone."""
    out = np.zeros((len(pixels), 2))
    for i, image in enumerate(pixels.astype(np.float64)):
        top = image.max()
        mask = image > 0.5 * top if top > 0 else np.zeros_like(image, bool)
        area = mask.sum()
        inner = mask.copy()
        inner[1:, :] &= mask[:-1, :]
        inner[:-1, :] &= mask[1:, :]
        inner[:, 1:] &= mask[:, :-1]
        inner[:, :-1] &= mask[:, 1:]
        boundary = max(1, (mask & ~inner).sum())
        out[i] = (2 * area / boundary, np.percentile(image[mask], 90) if area else 0.0)
    return out


def fit_line(raw: np.ndarray, truth: np.ndarray) -> np.ndarray:
    design = np.stack([raw, raw ** 2, np.ones_like(raw)], 1)
    return np.linalg.lstsq(design, truth, rcond=None)[0]


def apply_line(coef: np.ndarray, raw: np.ndarray) -> np.ndarray:
    return coef[0] * raw + coef[1] * raw ** 2 + coef[2]


def digit_classifier(images: np.ndarray, labels: np.ndarray, seed: int = 1):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 49, 128), nn.ReLU(), nn.Linear(128, 10))
    x = torch.from_numpy(images).float()[:, None] / 255.0
    x = x / x.flatten(1).amax(1).clamp_min(1e-6)[:, None, None, None]  # judge the shape, not the grey level
    y = torch.from_numpy(labels).long()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for epoch in range(4):
        order = torch.randperm(len(x))
        for s in range(0, len(x), 64):
            idx = order[s:s + 64]
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    def classify(pixels: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            t = torch.from_numpy(pixels).float()[:, None] / 255.0
            t = t / t.flatten(1).amax(1).clamp_min(1e-6)[:, None, None, None]
            return net(t).argmax(1).numpy()

    return classify


def load_pngs(paths: list[Path]) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.open(p).convert("L")) for p in paths])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--num-images", type=int, default=8000)
    parser.add_argument("--num", type=int, default=800, help="held-out images to judge")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--train-args", default="", help="extra options for zoo train (not the documented command)")
    args = parser.parse_args()
    zoo = str(Path(sys.executable).with_name("zoo"))
    if not (args.data / "attributes.csv").exists():
        from zoo_causalgen.strokes import write_strokes

        write_strokes(args.data, args.num_images, seed=0)
    command = [zoo, "train", "deep-scm", "--images", str(args.data), "--attributes", str(args.data / "attributes.csv"),
               "--graph", str(args.data / "graph.txt"), "--out", str(args.run), *args.train_args.split()]
    if not args.skip_train:
        load_before = os.getloadavg()
        started = time.perf_counter()
        subprocess.run(command + ["--quiet"], check=True)
        minutes = (time.perf_counter() - started) / 60
        print(f"training: {minutes:.1f} min wall clock (load {load_before[0]:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores): {' '.join(command[1:])}")
    import zoo_core

    record = json.loads((args.run / "data.json").read_text())
    held = set(record["held_out"][: args.num])
    rows = list(csv.DictReader((args.data / "attributes.csv").open()))
    train_rows = [r for r in rows if r["file"] not in set(record["held_out"])]
    test_rows = [r for r in rows if r["file"] in held]
    truth = {k: np.array([float(r[k]) for r in test_rows]) for k in ("thickness", "intensity", "digit")}
    train_truth = {k: np.array([float(r[k]) for r in train_rows]) for k in ("thickness", "intensity", "digit")}
    train_pixels = load_pngs([args.data / r["file"] for r in train_rows])
    raw = measure(train_pixels)
    lines = {"thickness": fit_line(raw[:, 0], train_truth["thickness"]),
             "intensity": fit_line(raw[:, 1], train_truth["intensity"])}
    classify = digit_classifier(train_pixels, train_truth["digit"].astype(int))

    def judge(pixels: np.ndarray) -> dict[str, np.ndarray]:
        r = measure(pixels)
        return {"thickness": apply_line(lines["thickness"], r[:, 0]),
                "intensity": apply_line(lines["intensity"], r[:, 1]), "digit": classify(pixels).astype(float)}

    files = [args.data / r["file"] for r in test_rows]
    real = judge(load_pngs(files))
    floor = {k: (float(np.mean(real[k] == truth[k])) if k == "digit" else float(np.mean(np.abs(real[k] - truth[k]))))
             for k in truth}
    print(f"judge on {len(files)} real held-out images (floor): thickness MAE {floor['thickness']:.3f}, "
          f"intensity MAE {floor['intensity']:.2f}, digit accuracy {floor['digit']:.3f}")
    values = {"thickness": np.quantile(train_truth["thickness"], [0.1, 0.3, 0.5, 0.7, 0.9]),
              "intensity": np.quantile(train_truth["intensity"], [0.1, 0.3, 0.5, 0.7, 0.9]),
              "digit": np.array([0.0, 2.0, 4.0, 7.0, 9.0])}
    out = args.run.parent / (args.run.name + "-bench-cf")
    eps = np.log((truth["intensity"] - 64) / (255 - truth["intensity"]) + 1e-12)  # logit of the true mechanism
    noise = (eps - (2 * truth["thickness"] - 5)) / 0.5
    for name, chosen in values.items():
        errors, unchanged, moved = [], [], {k: [] for k in truth if k != name}
        descendant = []
        for value in chosen:
            target = out / f"{name}-{value:g}"
            started = time.perf_counter()
            zoo_core.run(str(args.run), *files, do=f"{name}={value:g}", out_dir=target, force=True)
            seconds = time.perf_counter() - started
            read = judge(load_pngs([target / f"{f.stem}.png" for f in files]))
            if name == "digit":
                errors.append(float(np.mean(read[name] == value)))
                unchanged.append(float(np.mean(real[name] == value)))
            else:
                errors.append(float(np.mean(np.abs(read[name] - value))))
                unchanged.append(float(np.mean(np.abs(real[name] - value))))
            for other in moved:
                if name == "thickness" and other == "intensity":
                    exact = 64 + 191 / (1 + np.exp(-(0.5 * noise + 2 * value - 5)))
                    descendant.append(float(np.mean(np.abs(read[other] - exact))))
                elif other == "digit":
                    moved[other].append(float(np.mean(read[other] == real[other])))
                else:
                    moved[other].append(np.abs(read[other] - real[other]))
        metric = "accuracy" if name == "digit" else "MAE"
        text = (f"do({name}) over 5 values x {len(files)} images ({seconds:.1f} s per value): judge {metric} "
                f"{np.mean(errors):.3f} vs the intended value (unchanged inputs: {np.mean(unchanged):.3f}; "
                f"floor on real images: {floor[name]:.3f})")
        if descendant:
            text += f"; intensity vs its true counterfactual {np.mean(descendant):.2f} (floor {floor['intensity']:.2f})"
        for other, shifts in moved.items():
            if shifts:
                if other == "digit":
                    text += f"; {other} kept {np.mean(shifts):.3f}"
                else:  # the median too: a few outlying read-outs can dominate the mean
                    text += f"; {other} drift {np.mean(shifts):.3f} (median {np.median(shifts):.3f})"
        print(text)


if __name__ == "__main__":
    main()
