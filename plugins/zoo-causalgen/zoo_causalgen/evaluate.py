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

With ``--oracle NAME`` (default ``pendulum-oracle``, a ``factor-regressor`` trained on exact
renders only), factors are also read back from the model's *generated* images by that
independent judge:

- ``oracle_r2_<factor>``: the oracle's R^2 on the exact held-out renders (how far to trust it);
- ``do_mae_<factor>``: under do(factor = v), 5 values of v x 200 images, the read-out's mean
  absolute error from v (effectiveness);
- ``mechanism_residual_mean/std_<factor>``: under do() of a root, the shadow factors read back
  minus their mechanism of the read-back angles, over sigma: should be a standard normal;
- ``nondescendant_shift_<root>``: under do() of a shadow factor, how far the read-back angles'
  mean moves from their observational mean, in prior standard deviations (should be ~0);
- ``composition_psnr_1/10``: the null intervention (do(light_angle = its abducted value))
  applied once and ten times, against the input;
- ``reversibility_psnr``: do(light_angle = v') then back to the true value, against the input;
- ``given_light_mean`` vs ``given_light_exact`` and ``do_light_mean`` vs ``do_light_exact``:
  the light angle read back under given shadow_length = 12 and under do(shadow_length = 12),
  beside the exact posterior and prior means (conditioning moves the light, intervening not).

- ``discovery_same_graph_<test>``: zoo-docalculus's PC on 5,000 factor rows read back from
  generated images finds the same CPDAG as on 5,000 true rows of the scene (1) or not (0), in
  the same run, with Fisher-z and with the G-test on 6 quantile bins per column (the shadow
  length depends on its parents through |cos|, which Fisher-z misses even on true rows).
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


def evaluate(model: Any, num: int = 1000, seed: int = 0, oracle: Any = None) -> dict[str, float]:
    """The metrics above on ``num`` test units of the model's scene."""
    import torch

    from .dataset import draw
    from .scenes import pendulum

    if model.config.scene == "fashion":
        return fashion_metrics(model, num, seed)
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
    if oracle is not None:
        metrics.update(oracle_metrics(model, oracle, images, factors, seed))
    return metrics


DO_VALUES = {"pendulum_angle": (-0.5, 0.55), "light_angle": (1.05, 2.2), "shadow_length": (3.0, 12.0),
             "shadow_position": (5.0, 15.0)}


def _psnr_t(a: Any, b: Any) -> np.ndarray:
    return _psnr(_uint8(a), _uint8(b))


def oracle_metrics(model: Any, oracle: Any, images: Any, factors: Any, seed: int) -> dict[str, float]:
    """What the independent oracle reads back from the model's generated images (see above)."""
    from .scenes import pendulum

    scm, sigma = model.scm, model.config.sigma
    metrics: dict[str, float] = {}
    exact = {k: v[:len(images)] for k, v in factors.items()}
    read = oracle.read(images)
    inside = ~pendulum.shadow_cut_off(exact)  # a shadow run out of the window hides its far end
    for name in pendulum.FACTORS:
        residual = read[name] - exact[name]
        metrics[f"oracle_r2_{name}"] = float(1 - np.mean(residual ** 2) / np.var(exact[name]))
        if name.startswith("shadow"):
            metrics[f"oracle_r2_{name}_in_window"] = float(
                1 - np.mean(residual[inside] ** 2) / np.var(exact[name][inside]))
    observational = oracle.read(model.generate(1000, seed=seed + 1).images)
    residuals: dict[str, list[np.ndarray]] = {"shadow_length": [], "shadow_position": []}
    for name, (low, high) in DO_VALUES.items():
        errors: list[np.ndarray] = []
        shifts: dict[str, list[Any]] = {"pendulum_angle": [], "light_angle": []}
        for k, value in enumerate(np.linspace(low, high, 5)):
            seen = oracle.read(model.generate(200, seed=seed + 10 + k, do={name: float(value)}).images)
            errors.append(np.abs(seen[name] - value))
            if name in ("pendulum_angle", "light_angle"):
                parents = {p: np.where(p == name, float(value), seen[p]) for p in ("pendulum_angle", "light_angle")}
                for child in residuals:
                    mechanism = scm.by_name[child]
                    residuals[child].append(mechanism.invert(parents, seen[child]))  # type: ignore[misc]
            else:
                for root in shifts:
                    shifts[root].append(abs(seen[root].mean() - observational[root].mean()) / observational[root].std())
        metrics[f"do_mae_{name}"] = float(np.mean(np.concatenate(errors)))
        for root, values in shifts.items():
            if values:
                key = f"nondescendant_shift_{root}"
                metrics[key] = max(metrics.get(key, 0.0), float(np.max(values)))
    for child, parts in residuals.items():
        pooled = np.concatenate(parts)
        metrics[f"mechanism_residual_mean_{child}"] = float(pooled.mean())
        metrics[f"mechanism_residual_std_{child}"] = float(pooled.std())
    images = images[:200]  # composition and reversibility: 200 units (each is many passes)
    # composition: the null intervention, once and ten times
    current = images
    for step in range(1, 11):
        abducted, _ = model.read_factors(current)
        current = _null_step(model, current, abducted)
        if step in (1, 10):
            metrics[f"composition_psnr_{step}"] = float(np.median(_psnr_t(current, images)))
    # reversibility: to v' and back to the true value
    rng = np.random.default_rng(seed + 99)
    away = rng.uniform(*pendulum.PHI_PRIOR, len(images))
    back = []
    for i in range(len(images)):
        there = model.counterfactual(images[i:i + 1], {"light_angle": float(away[i])}).images
        back.append(model.counterfactual(there, {"light_angle": float(exact["light_angle"][i])}).images)
    metrics["reversibility_psnr"] = float(np.median(_psnr_t(__import__("torch").cat(back), images)))
    # conditioning vs intervening on the shadow
    given = oracle.read(model.generate(1000, seed=seed + 3, given={"shadow_length": 12.0}).images)
    done = oracle.read(model.generate(1000, seed=seed + 3, do={"shadow_length": 12.0}).images)
    theta = np.linspace(*pendulum.THETA_PRIOR, 400)[:, None]
    phi = np.linspace(*pendulum.PHI_PRIOR, 400)[None, :]
    base = np.maximum(3, 9.5 * np.abs(np.cos(phi - theta)) / np.sin(phi))
    weight = np.exp(-0.5 * ((12.0 - base) / max(sigma, 1e-9)) ** 2)
    metrics["given_light_mean"] = float(given["light_angle"].mean())
    metrics["given_light_exact"] = float((weight * phi).sum() / weight.sum())
    metrics["do_light_mean"] = float(done["light_angle"].mean())
    metrics["do_light_exact"] = float(np.mean(pendulum.PHI_PRIOR))
    metrics.update(discovery_metrics(model, oracle, seed))
    return metrics


def _pc_edges(rows: dict[str, np.ndarray], test: str, bins: int) -> set[str]:
    """PC (zoo-docalculus, through zoo_core.run) on the rows: the CPDAG's edges as text.

    With ``bins``, each column is cut at its quantiles into that many levels first (the
    shadow length depends on its parents through |cos|, which a linear test misses)."""
    import csv
    import tempfile

    import zoo_core

    names = list(rows)
    columns = []
    for name in names:
        column = rows[name]
        if bins:
            edges = np.quantile(column, np.linspace(0, 1, bins + 1)[1:-1])
            column = np.searchsorted(edges, column)
        columns.append(column)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows(zip(*columns))
        found = zoo_core.run("pc", data=path, test=test).to_dict()
    return ({f"{a} -> {b}" for a, b in found["directed"]} | {f"{a} -- {b}" for a, b in found["undirected"]})


def discovery_metrics(model: Any, oracle: Any, seed: int, num: int = 5000) -> dict[str, float]:
    """PC on ``num`` factor rows read back from generated images and on ``num`` true rows of the
    scene, in the same run, with Fisher-z and with the G-test on quantile bins: 1 where the two
    graphs agree (``discovery_same_graph_<test>``), and how many edges each has."""
    try:
        zoo_core.get_entry("pc")
    except zoo_core.ZooError:
        return {}  # zoo-docalculus not installed: nothing to discover with
    generated = oracle.read(model.generate(num, seed=seed + 5).images)
    true, _ = model.scm.sample(np.random.default_rng(seed + 6), num)
    metrics: dict[str, float] = {}
    for label, test, bins in (("fisherz", "fisherz", 0), ("gsq_bins6", "gsq", 6)):
        from_model, from_truth = _pc_edges(generated, test, bins), _pc_edges(true, test, bins)
        metrics[f"discovery_same_graph_{label}"] = float(from_model == from_truth)
        metrics[f"discovery_edges_model_{label}"] = float(len(from_model))
        metrics[f"discovery_edges_truth_{label}"] = float(len(from_truth))
    return metrics


def _null_step(model: Any, images: Any, abducted: Any) -> Any:
    """One null intervention per image: do(light_angle = the value the model reads)."""
    import torch

    low, high = model.scm.by_name["light_angle"].support  # a read-out a hair outside the prior is clipped
    out = [model.counterfactual(images[i:i + 1],
                                {"light_angle": float(np.clip(abducted["light_angle"][i], low, high))}).images
           for i in range(len(images))]
    return torch.cat(out)


@click.command()
@click.argument("name")
@click.option("--num", type=int, default=1000, show_default=True, help="test units (and counterfactuals)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--weights", type=click.Path(path_type=Path), help="a .safetensors file instead of the registry's")
@click.option("--oracle", default="pendulum-oracle", show_default=True,
              help="the factor-regressor model that reads generated images ('none': skip those metrics)")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as one JSON object")
def evaluate_command(name: str, num: int, seed: int, device: str, weights: Path | None, oracle: str,
                     as_json: bool) -> None:
    """Measure NAME against the exact renders of its scene (see zoo_causalgen.evaluate)."""
    if num <= 0:
        raise InputError(f"--num must be positive, got {num}")
    model = zoo_core.load(name, device=device, weights=weights)
    if model.config.scene != "pendulum":
        oracle = "none"  # the oracle reads the pendulum scene
    judge = None if oracle == "none" else zoo_core.load(oracle, device=device)
    if judge is not None and (judge.config.scene, judge.config.image_size) != (model.config.scene,
                                                                               model.config.image_size):
        raise InputError(f"--oracle {oracle}: reads {judge.config.image_size}px {judge.config.scene} images, "
                         f"but {name} draws {model.config.image_size}px {model.config.scene} images; "
                         "pass a matching oracle or --oracle none")
    metrics = evaluate(model, num, seed, judge)
    if as_json:
        click.echo(json.dumps({"model": name, "setup": {"num": num, "seed": seed}, "metrics": metrics}, indent=2))
        return
    for key, value in metrics.items():
        click.echo(f"{key:36s} {value:.4g}")


def fashion_metrics(model: Any, num: int = 1000, seed: int = 0) -> dict[str, float]:
    """The fashion scene: held-out garments (the test split), do(scale = v) counterfactuals
    against the exact ones, the class kept (zoo-gan's fashion-classifier), sample FD."""
    import torch

    import zoo_core
    from zoo_core.metrics import frechet_distance

    from .dataset import draw
    from .scenes import fashion

    sigma, size = model.config.sigma, model.config.image_size
    factors, noise = draw("fashion", num, seed, sigma=sigma, split="test")
    garments, _ = fashion.garments("test")
    index = noise["garment"].astype(np.int64)
    exact = fashion.render_batch(factors, garments[index], size)
    images = torch.from_numpy(exact).permute(0, 3, 1, 2).float() / 127.5 - 1
    metrics: dict[str, float] = {}
    read, image_noise = model.read_factors(images)
    metrics["read_class_accuracy"] = float(np.mean(np.rint(read["garment_class"]) == factors["garment_class"]))
    for name in ("scale", "brightness"):
        metrics[f"read_mae_{name}"] = float(np.mean(np.abs(read[name] - factors[name])))
    metrics["render_psnr"] = float(np.median(_psnr(_uint8(model._render(factors, image_noise)), exact)))
    rng = np.random.default_rng(seed + 17)
    values = rng.uniform(*fashion.SCALE_SUPPORT, num)
    counterfactual, truth = [], []
    for i in range(num):
        do = {"scale": float(values[i])}
        counterfactual.append(_uint8(model.counterfactual(images[i:i + 1], do).images))
        unit = {k: v[i:i + 1] for k, v in noise.items()}
        truth.append(fashion.render_batch(fashion.true_intervention(unit, do, sigma), garments[index[i:i + 1]], size))
    cf, true_cf = np.concatenate(counterfactual), np.concatenate(truth)
    metrics["counterfactual_psnr"] = float(np.median(_psnr(cf, true_cf)))
    metrics["factual_psnr"] = float(np.median(_psnr(exact, true_cf)))
    as_tensor = lambda pixels: torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 127.5 - 1  # noqa: E731
    try:
        classifier = zoo_core.load("fashion-classifier", device="cpu")
    except zoo_core.ZooError:
        return metrics  # zoo-gan not installed: no class or feature-space metrics
    labels = torch.from_numpy(factors["garment_class"].astype(np.int64))
    metrics["class_kept"] = float((classifier.classify(as_tensor(cf)) == labels).float().mean())
    metrics["class_kept_exact"] = float((classifier.classify(as_tensor(true_cf)) == labels).float().mean())
    samples = model.generate(num, seed=seed + 1).images
    train_units, train_noise = draw("fashion", num, seed + 2, sigma=sigma, split="train")
    train_garments, _ = fashion.garments("train")
    reference = fashion.render_batch(train_units, train_garments[train_noise["garment"].astype(np.int64)], size)
    test_features = classifier.features_of(images)
    metrics["sample_fd"] = frechet_distance(classifier.features_of(samples), test_features)
    metrics["sample_fd_floor"] = frechet_distance(classifier.features_of(as_tensor(reference)), test_features)
    return metrics
