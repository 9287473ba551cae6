"""``zoo eval MODEL``: a causal generator measured against the exact renders of its scene.

Units are drawn from the scene's SCM on the test stream (never seen in training), rendered
exactly, and given to the model as images. Reported:

- ``render_psnr``: median PSNR (dB) of the model's image of the true factors against the exact
  render (how well the learned image mechanism draws);
- ``read_mae_<factor>``: mean absolute error of the factors the model reads back from exact
  renders (the abduction's input);
- ``counterfactual_psnr``: median PSNR of the model's counterfactual of each image under
  do(light_angle = v), v drawn from the prior, against the exact counterfactual render; beside
  it ``no_abduction_psnr`` (the exact renderer with the noise set to 0: the best any model
  without abduction can do) and ``factual_psnr`` (the input image itself), the scene's two
  reference points;
- ``counterfactual_mae_<factor>``: the counterfactual's factors against the exact ones, and
  ``no_abduction_mae_<factor>`` for the shadow factors (the issue's "at least 3x smaller").

Factor read-outs by an independent oracle regressor (effectiveness of do(), composition,
reversibility, discovery on samples) are not part of this command yet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

import zoo_core
from zoo_core import InputError

__all__ = ["evaluate_command", "evaluate"]

INTERVENED = "light_angle"


def _psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR (dB) of uint8 images (N, H, W, C)."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(1)
    return 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-12))


def _uint8(images: Any) -> np.ndarray:
    """Model images (N, C, H, W) in [-1, 1] as uint8 (N, H, W, C), rounded like a saved PNG."""
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(dtype=__import__("torch").uint8) \
        .permute(0, 2, 3, 1).numpy()


def evaluate(model: Any, num: int = 1000, seed: int = 0) -> dict[str, float]:
    """The metrics above on ``num`` test units of the model's scene."""
    import torch

    from .dataset import draw
    from .scenes import pendulum

    if model.config.scene != "pendulum":
        raise InputError(f"zoo eval measures the pendulum scene so far, not {model.config.scene!r}")
    sigma, size = model.config.sigma, model.config.image_size
    factors, noise = draw("pendulum", num, seed, sigma=sigma, split="test")
    exact = pendulum.render_batch(factors, size)
    images = torch.from_numpy(exact).permute(0, 3, 1, 2).float() / 127.5 - 1
    metrics: dict[str, float] = {}
    drawn = _uint8(model._render(factors, None))
    metrics["render_psnr"] = float(np.median(_psnr(drawn, exact)))
    read, _ = model.read_factors(images)
    for name in pendulum.FACTORS:
        metrics[f"read_mae_{name}"] = float(np.mean(np.abs(read[name] - factors[name])))
    rng = np.random.default_rng(seed + 17)
    values = rng.uniform(*pendulum.PHI_PRIOR, num)
    counterfactual_images, counterfactual_factors = [], {name: np.empty(num) for name in pendulum.FACTORS}
    truth_images, truth_factors = [], {name: np.empty(num) for name in pendulum.FACTORS}
    blind_images, blind_factors = [], {name: np.empty(num) for name in pendulum.FACTORS}
    zero = {k: np.zeros(1) for k in noise}
    for i in range(num):  # one intervention value per unit
        do = {INTERVENED: float(values[i])}
        result = model.counterfactual(images[i:i + 1], do)
        counterfactual_images.append(_uint8(result.images))
        unit = {k: v[i:i + 1] for k, v in noise.items()}
        true = pendulum.true_intervention(unit, do, sigma)
        truth_images.append(pendulum.render_batch(true, size))
        blind = pendulum.true_intervention({**zero, **{k: unit[k] for k in ("pendulum_angle", INTERVENED)}}, do, sigma)
        blind_images.append(pendulum.render_batch(blind, size))
        for name in pendulum.FACTORS:
            counterfactual_factors[name][i] = result.factors[name][0]
            truth_factors[name][i] = true[name][0]
            blind_factors[name][i] = blind[name][0]
    cf, truth, blind_render = (np.concatenate(x) for x in (counterfactual_images, truth_images, blind_images))
    metrics["counterfactual_psnr"] = float(np.median(_psnr(cf, truth)))
    metrics["no_abduction_psnr"] = float(np.median(_psnr(blind_render, truth)))
    metrics["factual_psnr"] = float(np.median(_psnr(exact, truth)))
    for name in pendulum.FACTORS:
        metrics[f"counterfactual_mae_{name}"] = float(np.mean(np.abs(counterfactual_factors[name] - truth_factors[name])))
    for name in ("shadow_length", "shadow_position"):
        metrics[f"no_abduction_mae_{name}"] = float(np.mean(np.abs(blind_factors[name] - truth_factors[name])))
    return metrics


@click.command()
@click.argument("name")
@click.option("--num", type=int, default=1000, show_default=True, help="test units (and counterfactuals)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--weights", type=click.Path(path_type=Path), help="a .safetensors file instead of the registry's")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as one JSON object")
def evaluate_command(name: str, num: int, seed: int, device: str, weights: Path | None, as_json: bool) -> None:
    """Measure NAME against the exact renders of its scene (see zoo_causalgen.evaluate)."""
    if num <= 0:
        raise InputError(f"--num must be positive, got {num}")
    model = zoo_core.load(name, device=device, weights=weights)
    metrics = evaluate(model, num, seed)
    if as_json:
        click.echo(json.dumps({"model": name, "setup": {"num": num, "seed": seed}, "metrics": metrics}, indent=2))
        return
    for key, value in metrics.items():
        click.echo(f"{key:36s} {value:.4g}")
