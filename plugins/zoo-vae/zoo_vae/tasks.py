"""The conv VAE's training task for ``zoo_core.training.fit``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch
from torch import nn

from zoo_core.interfaces import seeded_noise
from zoo_core.metrics import HeldOutQuality
from zoo_core.training import FitResult, TrainContext

from .conv_vae import ConvVAE, ConvVAEConfig

__all__ = ["VAETask", "heldout_elbo"]


@torch.no_grad()
def heldout_elbo(model: ConvVAE, images: torch.Tensor, *, seed: int, batch_size: int = 1000) -> dict[str, float]:
    """Mean negative ELBO (beta = 1), reconstruction and KL terms over ``images``, in nats per image.

    The posterior samples come from a generator seeded with ``seed``, so the number is the
    same every time it is measured on the same weights.
    """
    generator = torch.Generator().manual_seed(seed)
    totals = {"log_likelihood": 0.0, "kl": 0.0}
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].to(model.device, model.dtype)
        terms = model.elbo_terms(batch, generator=generator)
        for key in totals:
            totals[key] += float(terms[key].double().sum())
    n = len(images)
    reconstruction, kl = -totals["log_likelihood"] / n, totals["kl"] / n
    return {"neg_elbo": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}


class VAETask:
    """Adam on -ELBO_beta; held out: the negative ELBO (beta = 1) on images set aside from training.

    With ``quality``, each epoch also scores ``eval_samples`` samples against the held-out images
    (KID and FD, floors beside them): how the samples look, which the ELBO does not say. The
    ELBO still picks the best epoch: it is the model's own objective on every held-out image.
    """

    monitor = "val_neg_elbo"

    def __init__(self, ctx: TrainContext, config: ConvVAEConfig, *, lr: float, beta: float, seed: int,
                 val_images: torch.Tensor, recipe: str, dataset: str, quality: HeldOutQuality | None = None,
                 eval_samples: int = 1000) -> None:
        self.quality, self.eval_samples = quality, eval_samples
        self.ctx, self.config, self.beta, self.seed = ctx, config, beta, seed
        self.recipe, self.dataset = recipe, dataset
        torch.manual_seed(seed)  # identical initial weights on every rank
        self.model = ConvVAE(config).to(ctx.device)
        self.net = ctx.wrap(self.model)
        torch.manual_seed(seed * 1000 + ctx.rank + 1)  # different posterior noise on each rank
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.val_images = val_images

    def modules(self) -> dict[str, nn.Module]:
        return {"vae": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vae": self.optimizer}

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.ctx.autocast():
            losses = self.net(images, beta=self.beta)
        self.optimizer.zero_grad(set_to_none=True)
        losses["loss"].float().backward()
        self.optimizer.step()
        return {k: v.detach() for k, v in losses.items()}

    def validate(self) -> dict[str, float]:
        self.model.eval()
        metrics = heldout_elbo(self.model, self.val_images, seed=self.seed + 777)
        found = {f"val_{k}": v for k, v in metrics.items()}
        if self.quality is not None:
            found.update(self.quality.score(self.model.sample(self.eval_samples, seed=self.seed + 12345,
                                                              batch_size=1000).float()))
        return found

    def preview(self) -> torch.Tensor:
        self.model.eval()
        with torch.no_grad():
            z = seeded_noise((64, self.config.latent_dim), self.seed).to(self.ctx.device)
            return self.model.decode(z).float()

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return self.model.state_dict(), asdict(self.config)

    def model_card(self, result: FitResult) -> str:
        from .card import model_card

        note = (f"negative ELBO (beta = 1, one posterior sample per image, nats per image) on "
                f"{len(self.val_images)} training images held out from training; likelihood: "
                f"{self.config.likelihood}")
        if self.quality is not None:
            note += (f"; beside it, KID and FD of {self.eval_samples} samples to the held-out images in the "
                     f"{self.quality.features.name} feature space, with their floors (training images)")
        return model_card(title=f"conv VAE on {self.dataset}", config=asdict(self.config), result=result,
                          recipe=self.recipe, dataset=self.dataset, monitor_note=note)
