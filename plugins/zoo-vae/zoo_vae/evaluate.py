"""``zoo eval NAME`` for the conv VAE: the numbers its registry entry records.

On the Fashion-MNIST test split (10,000 images), under the model's likelihood (the bundled
model: Bernoulli on grey levels in [0, 1], i.e. pixel-wise cross-entropy with the grey level
as target; not a normalised likelihood for non-binary pixels, so these numbers compare only
with numbers measured the same way, and not with MNIST or binarised-MNIST results):

- ``neg_elbo``: -ELBO in nats per image (one posterior sample per image, seeded), and in bits/dim;
- ``iwae_nll``: the importance-weighted bound -log p(x) <= -log (1/k) sum_i w_i, k samples, in
  nats per image and bits/dim (k >= 100 for the recorded numbers);
- ``recon_psnr_db``: mean per-image PSNR of decode(posterior mean) against the image ([-1, 1] range);
- ``fd``: Fréchet distance between samples from the prior and the test images in the feature
  space of zoo-gan's ``fashion-classifier`` (the space the GANs are measured in; not Inception FID),
  beside ``fd_floor`` (training vs test images). Needs zoo-gan installed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
import torch

import zoo_core
from zoo_core.data import load_fashion_mnist, to_model_range
from zoo_core import InputError, ZooError

__all__ = ["evaluate", "likelihood_metrics", "sample_metrics"]


def _psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for images in [-1, 1] (peak-to-peak 2)."""
    mse = (((a.float() - b.float()) / 2) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp(min=1e-12))


@torch.no_grad()
def likelihood_metrics(model: Any, images: torch.Tensor, *, k: int, seed: int, batch_size: int = 500
                       ) -> dict[str, float]:
    """-ELBO and the IWAE bound (nats per image and bits/dim) and reconstruction PSNR on ``images``."""
    from .tasks import heldout_elbo

    dims = images[0].numel()
    per_bit = 1.0 / (dims * math.log(2))
    elbo = heldout_elbo(model, images, seed=seed, batch_size=batch_size)
    generator = torch.Generator().manual_seed(seed + 1)
    iwae_total, psnr_total = 0.0, 0.0
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].to(model.device, model.dtype)
        iwae_total += float(model.iwae_log_likelihood(batch, k, generator=generator).sum())
        psnr_total += float(_psnr(model.reconstruct(batch), batch).sum())
    n = len(images)
    return {
        "neg_elbo": elbo["neg_elbo"],
        "neg_elbo_bpd": elbo["neg_elbo"] * per_bit,
        "reconstruction_nats": elbo["reconstruction"],
        "kl_nats": elbo["kl"],
        "iwae_nll": -iwae_total / n,
        "iwae_nll_bpd": -iwae_total / n * per_bit,
        "recon_psnr_db": psnr_total / n,
    }


def _load_classifier(spec: str, device: Any) -> Any:
    try:
        return zoo_core.load(spec, device=device)
    except ZooError as exc:
        raise InputError(f"--classifier {spec}: {exc}. The sample Fréchet distance is measured in zoo-gan's "
                         "fashion-classifier space: pip install zoo-gan, or pass --classifier none to skip it") from None


@torch.no_grad()
def sample_metrics(model: Any, classifier: Any, test: torch.Tensor, train: torch.Tensor, *, samples: int,
                   seed: int) -> dict[str, float]:
    from zoo_core.metrics import frechet_distance

    f_test = classifier.features_of(test)
    f_train = classifier.features_of(train)
    generated = model.sample(samples, seed=seed, batch_size=1000).float()
    f_gen = classifier.features_of(generated)
    return {"fd": frechet_distance(f_gen, f_test), "fd_floor": frechet_distance(f_train, f_test)}


@click.command()
@click.argument("name")
@click.option("--k", "k", type=int, default=100, show_default=True,
              help="importance samples for the IWAE bound (>= 100 for the recorded numbers; fewer is faster)")
@click.option("--limit", type=int, help="use the first N test images only (faster; the registry uses all 10,000)")
@click.option("--samples", type=int, default=10000, show_default=True, help="prior samples for the Fréchet distance")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), help="folder with the Fashion-MNIST IDX files")
@click.option("--classifier", default="fashion-classifier", show_default=True,
              help="feature network for the Fréchet distance (zoo-gan's), or 'none' to skip it")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def evaluate(name: str, k: int, limit: int | None, samples: int, seed: int, device: str, data_dir: Path | None,
             classifier: str, as_json: bool) -> None:
    """Recompute NAME's likelihood, reconstruction and sample metrics on the Fashion-MNIST test split."""
    if k < 1:
        raise InputError(f"--k must be at least 1, got {k}")
    if limit is not None and limit < 2:
        raise InputError(f"--limit must be at least 2, got {limit}")
    if samples < 2:
        raise InputError(f"--samples must be at least 2 (a Fréchet distance needs a covariance), got {samples}")
    entry = zoo_core.get_entry(name)
    model = zoo_core.load(name, device=device)
    if tuple(model.image_shape) != (1, 28, 28):
        raise InputError(f"{name}: zoo eval measures models of 1x28x28 Fashion-MNIST images; this one makes "
                         f"{'x'.join(map(str, model.image_shape))}")
    test = load_fashion_mnist("test", data_dir)
    test_x = to_model_range(test.images[:limit] if limit else test.images, 28)
    feature_net = None if classifier == "none" else _load_classifier(classifier, model.device)
    measured = likelihood_metrics(model, test_x, k=k, seed=seed)
    if feature_net is not None:
        train = load_fashion_mnist("train", data_dir)
        pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:len(test_x)]
        measured.update(sample_metrics(model, feature_net, test_x, to_model_range(train.images[pick], 28),
                                       samples=samples, seed=seed))
    setup = {"test_images": len(test_x), "k": k, "samples": samples if feature_net is not None else 0,
             "seed": seed, "likelihood": model.config.likelihood}
    if as_json:
        click.echo(json.dumps({"model": name, "setup": setup, "metrics": measured,
                               "registry": {key: m.value for key, m in entry.metrics.items()}}, indent=2))
        return
    click.echo(f"{name}: {setup['test_images']} test images, {model.config.likelihood} likelihood, IWAE k={k}"
               + (f", FD of {samples} samples in fashion-classifier space" if feature_net is not None else ""))
    click.echo(f"  {'metric':22} {'measured':>12} {'registry':>12}")
    for key, value in measured.items():
        recorded = entry.metrics.get(key)
        shown = f"{recorded.value:12.5g}" if recorded else f"{'-':>12}"
        click.echo(f"  {key:22} {value:12.5g} {shown}")
