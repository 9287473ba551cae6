"""``zoo eval RUN``: the soundness of a deep SCM's counterfactuals on its held-out split.

The judges are the run's own anti-causal predictors (one per attribute, trained on the same
training split as the model, saved in its weights). Counterfactuals start from held-out images
*with their true attributes* (from the CSV): abduct (flows inverted, image noise from the
encoder), act, predict. Reported (continuous attributes in their own units, images in 0-255):

- ``effectiveness_<x>``: under do(x = v), the predictor's read-out of x on the counterfactual
  against v: mean absolute error, or accuracy for a discrete x. v is drawn uniformly from
  another of 10 quantile bins than the unit's own value (a discrete x: another category), as in
  Melistas et al. 2024. ``effect_<x>_on_<y>``: the same for each descendant y against the value
  the mechanisms give it. Floor ``read_<x>``: the predictor on the real held-out images.
- ``composition_l1_1`` / ``_10``: the null intervention (abduct, predict, no change) applied 1
  and 10 times in a row: mean absolute pixel difference from the input (0-255), as Monteiro et
  al. 2023 report it. 0 is ideal; the floor of a VAE is its reconstruction error.
- ``reversibility_l1_<x>``: do(x = v), then do(x = its original value) on that image (abducted
  again, with the counterfactual's attributes): mean absolute pixel difference from the input.
- ``preservation_<x>_keeps_<y>``: under do(x), how far the read-out of each non-descendant y
  moves from its read-out on the input image (MAE; for a discrete y the fraction that changes).
  Ideal 0; beside it the read-out's own error on real images (``read_<y>``).
- ``realism_fd_samples`` / ``realism_fd_counterfactuals``: Frechet distance, in the space of
  the predictors' features (side by side), of samples from the model and of the effectiveness
  counterfactuals against the held-out images; floor ``realism_fd_floor``: as many training
  images against the same held-out images.

Where this differs from the papers: Monteiro et al. and Melistas et al. judge with predictors
trained apart from the model; here they are trained in the same run (on the same split, but
also used by the counterfactual training term, so a model can learn to please them: judge
with an independent measurement too, as the README's numbers do). Melistas et al. report
composition in [-1, 1] pixel units (here 0-255, divide by 127.5) and also in LPIPS/VGG spaces
(not here); realism here is FD in the predictors' space, not FID in Inception's (no download).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zoo_core import InputError

__all__ = ["evaluate", "held_out_data", "report_lines", "intervention_values", "counterfactuals"]


def held_out_data(model: Any, folder: Path, num: int | None, *, training: bool = False
                  ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The run's held-out images (N, C, H, W) in [-1, 1] and their true attributes, from data.json
    (``training``: as many of its training images instead, the realism floor's reference)."""
    from .deep_scm_cli import DATA_RECORD
    from .user_data import read_attributes, read_images

    record_path = Path(folder) / DATA_RECORD
    if not record_path.is_file():
        raise InputError(f"{folder}: no {DATA_RECORD}; zoo eval measures a run folder 'zoo train deep-scm' wrote")
    record = json.loads(record_path.read_text())
    data = read_attributes(Path(record["attributes"]), Path(record["images"]), columns=record["columns"],
                           categorical=[a.name for a in model.config.attributes if a.kind != "continuous"])
    index = {f.name: i for i, f in enumerate(data.files)}
    missing = [name for name in record["held_out"] if name not in index]
    if missing:
        raise InputError(f"{record['attributes']}: the held-out image {missing[0]!r} is no longer listed")
    rows = [index[name] for name in record["held_out"]][: num or 1000]
    if training:
        held = set(rows)
        rows = [i for i in range(len(data.files)) if i not in held][: len(rows)]
    pixels = read_images([data.files[i] for i in rows], Path(record["attributes"]))
    images = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 127.5 - 1
    values = {a.name: torch.as_tensor(data.values[a.name][rows], dtype=torch.float32) for a in model.config.attributes}
    return images, values


def intervention_values(spec: Any, factual: torch.Tensor, reference: torch.Tensor, rng: np.random.Generator
                        ) -> torch.Tensor:
    """One do() value per unit: another category, or a value from another of 10 quantile bins."""
    x = factual.double().cpu().numpy()
    if spec.discrete:
        categories = np.asarray(spec.categories)
        own = np.abs(x[:, None] - categories[None, :]).argmin(1)
        shift = rng.integers(1, len(categories), len(x))
        return torch.as_tensor(categories[(own + shift) % len(categories)], dtype=torch.float32)
    edges = np.quantile(reference.double().cpu().numpy(), np.linspace(0, 1, 11))
    edges[0], edges[-1] = spec.low, spec.high
    own = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, 9)
    other = (own + rng.integers(1, 10, len(x))) % 10
    return torch.as_tensor(rng.uniform(edges[other], edges[other + 1]), dtype=torch.float32)


def _batches(n: int, size: int = 250) -> list[slice]:
    return [slice(s, min(n, s + size)) for s in range(0, n, size)]


def counterfactuals(model: Any, images: torch.Tensor, values: dict[str, torch.Tensor],
                    do: dict[str, torch.Tensor], seed: int = 0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Per-unit counterfactuals of images with known attributes: (images, their attributes)."""
    device = model.device
    out_images, out_values = [], {k: [] for k in values}  # type: ignore[var-annotated]
    generator = torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        for part in _batches(len(images)):
            x = images[part].to(device, model.dtype)
            v = {k: t[part].to(device) for k, t in values.items()}
            acts = {k: (torch.ones(len(x), dtype=torch.bool, device=device), t[part].to(device)) for k, t in do.items()}
            z = model.abduct_image(x, v)
            target = model.attributes.counterfactual(v, acts, generator)
            out_images.append(model.decoder(z, model.image_code(target)).float().cpu())
            for k in out_values:
                out_values[k].append(target[k].cpu())
    return torch.cat(out_images), {k: torch.cat(t) for k, t in out_values.items()}


def _read(model: Any, images: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The predictors' read-outs and their features side by side (for the FD)."""
    reads: dict[str, list[torch.Tensor]] = {}
    features = []
    with torch.inference_mode():
        for part in _batches(len(images)):
            x = images[part].to(model.device, model.dtype)
            for k, v in model.predict(x).items():
                reads.setdefault(k, []).append(v.float().cpu())
            features.append(torch.cat([model.predictors[k].features(x).float().cpu() for k in model.predictors], 1))
    return {k: torch.cat(v) for k, v in reads.items()}, torch.cat(features)


def _error(spec: Any, read: torch.Tensor, truth: torch.Tensor) -> float:
    if spec.discrete:
        return float((read == truth).float().mean())
    return float((read - truth).abs().mean())


def _l1(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a.clamp(-1, 1) - b.clamp(-1, 1)).abs() * 127.5).mean())


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N, D)."""
    from scipy import linalg  # type: ignore[import-untyped]

    x, y = a.double().numpy(), b.double().numpy()
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(root)))


def _reconstruct(model: Any, images: torch.Tensor, values: dict[str, torch.Tensor]) -> torch.Tensor:
    return counterfactuals(model, images, values, {})[0]


def evaluate(model: Any, images: torch.Tensor, values: dict[str, torch.Tensor], *, seed: int = 0,
             reference: torch.Tensor | None = None) -> dict[str, float]:
    """The metrics of the module docstring on held-out ``images`` with true ``values``.

    ``reference``: training images for the realism floor (default: half the held-out images
    against the other half)."""
    specs = {s.name: s for s in model.config.attributes}
    scm = model.scm
    rng = np.random.default_rng(seed)
    metrics: dict[str, float] = {}
    read, real_features = _read(model, images)
    for name, spec in specs.items():
        metrics[f"read_{name}"] = _error(spec, read[name], values[name])
    cf_images = []
    for name, spec in specs.items():
        chosen = intervention_values(spec, values[name], values[name], rng)
        cf, target = counterfactuals(model, images, values, {name: chosen}, seed)
        cf_images.append(cf)
        cf_read, _ = _read(model, cf)
        metrics[f"effectiveness_{name}"] = _error(spec, cf_read[name], chosen)
        descendants = scm.descendants([name]) - {name}  # under do(x): recomputed by the mechanisms
        for other, other_spec in specs.items():
            if other in descendants:
                metrics[f"effect_{name}_on_{other}"] = _error(other_spec, cf_read[other], target[other])
            elif other != name:
                if other_spec.discrete:
                    metrics[f"preservation_{name}_keeps_{other}"] = float((cf_read[other] != read[other]).float().mean())
                else:
                    metrics[f"preservation_{name}_keeps_{other}"] = float((cf_read[other] - read[other]).abs().mean())
        back, _ = counterfactuals(model, cf, target, {name: values[name]}, seed)
        metrics[f"reversibility_l1_{name}"] = _l1(back, images)
    current = images
    for step in range(1, 11):
        current = _reconstruct(model, current, values)
        if step in (1, 10):
            metrics[f"composition_l1_{step}"] = _l1(current, images)
    samples = model.generate(len(images), seed=seed).images
    _, sample_features = _read(model, samples)
    _, cf_features = _read(model, torch.cat(cf_images)[torch.randperm(len(images) * len(specs),
                                                                       generator=torch.Generator().manual_seed(seed))[:len(images)]])
    metrics["realism_fd_samples"] = frechet_distance(sample_features, real_features)
    metrics["realism_fd_counterfactuals"] = frechet_distance(cf_features, real_features)
    if reference is not None:
        _, reference_features = _read(model, reference)
        metrics["realism_fd_floor"] = frechet_distance(reference_features, real_features)
    else:
        half = len(images) // 2
        metrics["realism_fd_floor"] = frechet_distance(real_features[:half], real_features[half:])
    return metrics


def metrics_kind(specs: Any, name: str) -> bool:
    """Whether attribute ``name`` is discrete (its metrics are accuracies)."""
    return any(s.name == name and s.discrete for s in specs)


def report_lines(model: Any, metrics: dict[str, float], units: int) -> list[str]:
    """The metrics as a table people read: each beside its floor."""
    specs = model.config.attributes
    lines = [f"deep-scm soundness on {units} held-out images (read by the run's own predictors; "
             "continuous attributes: mean absolute error in their units, discrete: accuracy)"]
    for spec in specs:
        unit = "accuracy" if spec.discrete else "MAE"
        lines.append(f"  do({spec.name}): effectiveness {unit} {metrics[f'effectiveness_{spec.name}']:.4g} "
                     f"(floor, real images: {metrics[f'read_{spec.name}']:.4g}); "
                     f"reversibility L1 {metrics[f'reversibility_l1_{spec.name}']:.3g}/255")
        for key, value in metrics.items():
            if key.startswith(f"effect_{spec.name}_on_"):
                other = key.removeprefix(f"effect_{spec.name}_on_")
                lines.append(f"    descendant {other} follows its mechanism: {value:.4g} "
                             f"(floor {metrics[f'read_{other}']:.4g})")
            if key.startswith(f"preservation_{spec.name}_keeps_"):
                other = key.removeprefix(f"preservation_{spec.name}_keeps_")
                how = "accuracy" if metrics_kind(specs, other) else "error"
                lines.append(f"    non-descendant {other} read-out shift: {value:.4g} (ideal 0; its read-out "
                             f"{how} on real images {metrics[f'read_{other}']:.4g})")
    lines.append(f"  composition L1 (0-255) after 1 / 10 null interventions: {metrics['composition_l1_1']:.3g} / "
                 f"{metrics['composition_l1_10']:.3g}")
    lines.append(f"  realism FD in the predictors' features: samples {metrics['realism_fd_samples']:.4g}, "
                 f"counterfactuals {metrics['realism_fd_counterfactuals']:.4g} (floor: as many training images, "
                 f"{metrics['realism_fd_floor']:.4g})")
    return lines
