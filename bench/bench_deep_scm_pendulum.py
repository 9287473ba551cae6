"""The pendulum as user data: deep-scm trained on `zoo data causal-pendulum`'s PNGs and CSV only
(not the scene's code), its counterfactuals scored against the exact renders beside
causal-pendulum's (hand-written mechanisms), in the same run.

1. ``zoo data causal-pendulum --num N --out DATA`` (train split), then
   ``zoo train deep-scm --images DATA --attributes DATA/factors.csv --columns <the 4 factors>
   --graph <the scene's graph, each factor -> image> --out RUN`` (the ``u_`` noise columns are
   left out: a user does not have them), timed.
2. ``--num`` held-out units of the scene's test stream, rendered exactly; each model's
   counterfactual of each image under do(light_angle = v), v uniform on its prior (the factual
   attributes read from the image: deep-scm by its predictors, causal-pendulum by its encoder),
   against the exact counterfactual render: median PSNR (dB), and the factors of the
   counterfactuals read by ``pendulum-oracle`` against the exact ones (effectiveness and the
   descendants).
3. Where each model's error comes from (``error_parts``): the same PSNR with the truth handed
   over one step earlier each time (the decoder re-drawing the exact factual factors; drawing
   the exact counterfactual factors; the model's own mechanisms from the exact factual factors).

    python bench/bench_deep_scm_pendulum.py --data /tmp/pendulum --run /tmp/runs/pendulum [--epochs 8]
        [--batch-size 32] [--skip-train]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

GRAPH = ("pendulum_angle -> shadow_length; light_angle -> shadow_length; pendulum_angle -> shadow_position; "
         "light_angle -> shadow_position; pendulum_angle -> image; light_angle -> image; shadow_length -> image; "
         "shadow_position -> image")


def error_parts(model: Any, images: Any, factors: dict, exact: np.ndarray, values: np.ndarray, exact_cf: dict,
                truth: np.ndarray) -> dict[str, float]:
    """Where a model's counterfactual error comes from (median PSNR against the exact renders),
    each step handed the truth one part earlier: the decoder re-drawing the *exact factual*
    factors (its image noise abducted from the image given them); the decoder drawing the
    *exact counterfactual* factors (the decoder alone); the model's own mechanisms run from the
    exact factual factors (decoder + learned mechanisms, no reading error). The headline number
    adds reading the factual factors from the image."""
    import torch

    from zoo_causalgen.evaluate import _psnr, _uint8

    if hasattr(model, "abduct_image"):  # deep-scm: the encoder's posterior mean, given the attributes
        with torch.inference_mode():
            noise = model.abduct_image(images, {k: torch.as_tensor(v, dtype=torch.float32) for k, v in factors.items()})
    else:
        noise = model.read_factors(images)[1]
    redrawn = _uint8(model._render(factors, noise))
    drawn = _uint8(model._render(exact_cf, noise))
    solved = [model.scm.counterfactual({k: v[i:i + 1] for k, v in factors.items()},
                                       {"light_angle": float(values[i])})[0] for i in range(len(values))]
    own = _uint8(model._render({k: np.concatenate([s[k] for s in solved]) for k in factors}, noise))
    return {"decoder, factual factors re-drawn": float(np.median(_psnr(redrawn, exact))),
            "decoder, exact counterfactual factors": float(np.median(_psnr(drawn, truth))),
            "+ its mechanisms from the exact factual factors": float(np.median(_psnr(own, truth)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--num-images", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num", type=int, default=500)
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    zoo = str(Path(sys.executable).with_name("zoo"))
    if not (args.data / "factors.csv").exists():
        subprocess.run([zoo, "data", "causal-pendulum", "--num", str(args.num_images), "--seed", "0",
                        "--out", str(args.data)], check=True)
    command = [zoo, "train", "deep-scm", "--images", str(args.data), "--attributes", str(args.data / "factors.csv"),
               "--columns", "pendulum_angle,light_angle,shadow_length,shadow_position", "--graph", GRAPH,
               "--out", str(args.run), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size)]
    if not args.skip_train:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        subprocess.run(command + ["--quiet"], check=True)
        print(f"training: {(time.perf_counter() - started) / 60:.1f} min (load {load:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after): {' '.join(command[1:])}")
    import torch

    import zoo_core
    from zoo_causalgen.dataset import draw
    from zoo_causalgen.evaluate import _psnr, _uint8
    from zoo_causalgen.scenes import pendulum

    factors, noise = draw("pendulum", args.num, 0, sigma=1.0, split="test")
    exact = pendulum.render_batch(factors, 64)
    images = torch.from_numpy(exact).permute(0, 3, 1, 2).float() / 127.5 - 1
    values = np.random.default_rng(17).uniform(*pendulum.PHI_PRIOR, args.num)
    # deep-scm's support is what its training rows span, a hair inside the prior: keep v in both
    learned = zoo_core.load(str(args.run), device="cpu").scm.by_name["light_angle"].support
    values = np.clip(values, *learned)
    truth = np.concatenate([pendulum.render_batch(pendulum.true_intervention(
        {k: v[i:i + 1] for k, v in noise.items()}, {"light_angle": float(values[i])}, 1.0), 64) for i in range(args.num)])
    true_factors = [pendulum.true_intervention({k: v[i:i + 1] for k, v in noise.items()},
                                               {"light_angle": float(values[i])}, 1.0) for i in range(args.num)]
    oracle = zoo_core.load("pendulum-oracle", device="cpu")
    exact_cf = {k: np.array([t[k][0] for t in true_factors]) for k in pendulum.FACTORS}
    for name in (str(args.run), "causal-pendulum"):
        model = zoo_core.load(name, device="cpu")
        made = []
        for i in range(args.num):
            made.append(_uint8(model.counterfactual(images[i:i + 1], {"light_angle": float(values[i])}).images))
        cf = np.concatenate(made)
        psnr = float(np.median(_psnr(cf, truth)))
        read = oracle.read(torch.from_numpy(cf).permute(0, 3, 1, 2).float() / 127.5 - 1)
        errors = {k: float(np.mean(np.abs(read[k] - exact_cf[k]))) for k in pendulum.FACTORS}
        print(f"{name}: counterfactual PSNR vs the exact render {psnr:.1f} dB (median of {args.num}); "
              "read by pendulum-oracle, mean abs. error vs the exact counterfactual's factors: "
              + ", ".join(f"{k} {v:.4f}" for k, v in errors.items()))
        print("  " + "; ".join(f"{what} {db:.1f} dB" for what, db in error_parts(model, images, factors, exact, values,
                                                                            exact_cf, truth).items()))
    print(f"the factual image itself: {float(np.median(_psnr(exact, truth))):.1f} dB")


if __name__ == "__main__":
    main()
