"""Is an input image like the ones a causal generator learned from? Abduction answers anyway.

A counterfactual reads an image's factors, abducts the noise and renders the intervened
factors. On a black, white or noise image the read still returns numbers (one noise value
12.9 standard deviations from its prior) and the counterfactual looks as confident as any.
Two checks flag such inputs, each per image:

- **reconstruction**: the RMSE (on [-1, 1] pixels) between the image and the model's render of
  the factors it read. The limit is ``RECONSTRUCTION_FACTOR`` (3) times the 99th percentile of
  that error on ``CALIBRATION_SAMPLES`` (128) of the model's own samples (seed 0), measured once
  per loaded model (about a second on a CPU). For causal-pendulum the limit is 0.18; 256 true
  renders of the scene: 0.034 median, 0.062 at the 99th percentile, 0.077 at most; a white
  image 0.37, noise 1.14, black 1.90.
- **abducted noise**: each exogenous noise value more than ``NOISE_SIGMAS`` (4) standard
  deviations from the mean of its prior (100,000 prior draws). Renders of the scene stay
  within 3.1; the black image's shadow_length noise is 12.9.

An image either check flags is out of distribution: ``zoo run`` prints one warning line and
``--json`` gives each sample a ``typicality`` object with the numbers and the verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .scm import Values

__all__ = ["NOISE_SIGMAS", "RECONSTRUCTION_FACTOR", "CALIBRATION_SAMPLES", "assess", "warning_line"]

NOISE_SIGMAS = 4.0
RECONSTRUCTION_FACTOR = 3.0
CALIBRATION_SAMPLES = 128
_PRIOR_DRAWS = 100_000


def _rmse(model: Any, images: torch.Tensor, factors: Values, image_noise: torch.Tensor | None) -> np.ndarray:
    rendered = model._render(factors, image_noise)
    return ((rendered - images.float().cpu()) ** 2).mean(dim=(1, 2, 3)).sqrt().numpy()


def reconstruction_limit(model: Any) -> float:
    """``RECONSTRUCTION_FACTOR`` x the 99th-percentile reconstruction RMSE on the model's own samples."""
    cached = getattr(model, "_zoo_reconstruction_limit", None)
    if cached is None:
        samples = model.generate(CALIBRATION_SAMPLES, seed=0)
        factors, image_noise = model.read_factors(samples.images)
        errors = _rmse(model, samples.images, factors, image_noise)
        cached = float(RECONSTRUCTION_FACTOR * np.quantile(errors, 0.99))
        model._zoo_reconstruction_limit = cached
    return float(cached)


def _prior_moments(model: Any) -> dict[str, tuple[float, float]]:
    cached = getattr(model, "_zoo_prior_moments", None)
    if cached is None:
        rng = np.random.default_rng(0)
        cached = {}
        for mechanism in model.scm.mechanisms:
            draws = np.asarray(mechanism.noise(rng, _PRIOR_DRAWS), dtype=np.float64)
            cached[mechanism.name] = (float(draws.mean()), float(draws.std()) or 1.0)
        model._zoo_prior_moments = cached
    return cached


def assess(model: Any, images: torch.Tensor, factual: Values, image_noise: torch.Tensor | None,
           noise: Values) -> list[dict[str, Any]]:
    """One ``typicality`` object per image: reconstruction RMSE and its limit, each abducted noise's
    distance from its prior in standard deviations, and ``out_of_distribution``."""
    errors = _rmse(model, images, factual, image_noise)
    limit = reconstruction_limit(model)
    moments = _prior_moments(model)
    rows = []
    for i, error in enumerate(errors):
        # a categorical factor's noise is one Gumbel per category: its farthest component counts
        sigmas = {name: float(np.max(np.abs(np.asarray(values[i], dtype=np.float64) - moments[name][0])))
                  / moments[name][1] for name, values in noise.items() if name in moments}
        far = sorted((name for name, z in sigmas.items() if not z <= NOISE_SIGMAS), key=lambda n: -sigmas[n])
        rows.append({
            "reconstruction_rmse": round(float(error), 4),
            "reconstruction_limit": round(limit, 4),
            "noise_sigmas": {name: round(z, 2) for name, z in sigmas.items()},
            "noise_limit": NOISE_SIGMAS,
            "far_noise": far,
            "out_of_distribution": bool(not error <= limit or far),
        })
    return rows


def warning_line(model_name: str, inputs: list[str], typicality: list[dict[str, Any]]) -> str | None:
    """One line naming the inputs that look unlike the training images, or None if none does."""
    flagged = [(name, t) for name, t in zip(inputs, typicality) if t["out_of_distribution"]]
    if not flagged:
        return None
    name, worst = max(flagged, key=lambda item: item[1]["reconstruction_rmse"] / item[1]["reconstruction_limit"])
    reasons = []
    if worst["reconstruction_rmse"] > worst["reconstruction_limit"]:
        reasons.append(f"reconstruction error {worst['reconstruction_rmse']:.3g} > {worst['reconstruction_limit']:.3g}")
    if worst["far_noise"]:
        noise = worst["far_noise"][0]
        reasons.append(f"{noise} noise {worst['noise_sigmas'][noise]:.1f} sd from its prior")
    others = f" and {len(flagged) - 1} more" if len(flagged) > 1 else ""
    return (f"{model_name}: {name}{others} look unlike the images the model learned from ({'; '.join(reasons)}); "
            "their counterfactuals are unreliable")
