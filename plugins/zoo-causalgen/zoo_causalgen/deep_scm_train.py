"""Training a deep SCM on a user's labelled images (the model and losses; no CLI here).

One pass of the core's ``fit`` trains every part on the same training split, batch by batch:

- the **attribute mechanisms** by maximum likelihood (each attribute given its parents);
- the **anti-causal predictors** (image -> attribute: mean squared error on the normalised
  value, cross-entropy on categories), with their own optimiser;
- the **image mechanism**, a conditional VAE: a Gaussian decoder whose variance is the batch's
  mean squared error (the "calibrated decoder" of Rybkin et al. 2021: no pixel-vs-KL weight to
  tune), plus the KL of the encoder's posterior; and, after a warm-up, a **counterfactual term**
  (Ribeiro et al. 2023's counterfactual training, with this run's own predictors): each image is
  redrawn under do(one attribute = another unit's value), its descendants recomputed by the
  mechanisms, and the predictors must read the intended attributes from the redrawn image. It
  keeps the decoder from ignoring the attributes (a VAE can hide them in its latent).

The held-out split decides the best epoch (the VAE's loss) and is what ``zoo eval`` measures on.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import torch

from .deep_scm import DeepSCM, DeepSCMConfig

__all__ = ["DeepSCMTask", "predictor_losses", "random_interventions"]


def predictor_losses(model: DeepSCM, images: torch.Tensor, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each predictor's loss on ``images`` against ``values`` (normalised MSE or cross-entropy)."""
    losses = {}
    for spec in model.config.attributes:
        out = model.predictors[spec.name](images).float()
        mechanism: Any = model.attributes.mechanisms[spec.name]
        if spec.discrete:
            losses[spec.name] = torch.nn.functional.cross_entropy(out, mechanism.index(values[spec.name]))
        else:
            losses[spec.name] = ((out[:, 0] - mechanism.normalise(values[spec.name])) ** 2).mean()
    return losses


def random_interventions(model: DeepSCM, values: dict[str, torch.Tensor], generator: torch.Generator | None = None
                         ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """do(one attribute per unit = the value of another unit of the batch), the attribute at random."""
    names = [s.name for s in model.config.attributes]
    n = len(next(iter(values.values())))
    device = next(iter(values.values())).device
    which = torch.randint(len(names), (n,), generator=generator).to(device)
    donor = torch.randperm(n, generator=generator).to(device)
    return {name: (which == i, values[name][donor]) for i, name in enumerate(names)}


class DeepSCMTask:
    """The ``TrainingTask`` ``fit`` runs (see the module docstring)."""

    monitor = "val_loss"

    def __init__(self, ctx: Any, config: DeepSCMConfig, *, lr: float, seed: int, val: tuple[torch.Tensor, torch.Tensor],
                 steps_per_epoch: int, cf_weight: float = 1.0, warmup_epochs: float = 2.0, beta: float = 1.0,
                 card: Any = None) -> None:
        self.ctx, self.config, self.seed = ctx, config, seed
        torch.manual_seed(seed)
        self.model = DeepSCM(config).to(ctx.device)
        self.model.train()
        generative = [p for n, p in self.model.named_parameters() if not n.startswith("predictors.")]
        self.optimizer = torch.optim.Adam(generative, lr=lr)
        self.predictor_optimizer = torch.optim.Adam(self.model.predictors.parameters(), lr=lr)
        self.val_images, self.val_values = val
        self.cf_weight, self.beta = cf_weight, beta
        self.warmup_steps = max(1, int(warmup_epochs * steps_per_epoch))
        self.steps = 0
        self.card = card
        self.names = [s.name for s in config.attributes]
        self.discrete = {s.name: s.discrete for s in config.attributes}
        decoder: Any = self.model.decoder
        self.code_layers = [*decoder.level.parameters(), *(p for stage in decoder.stages for p in stage.film.parameters())]

    def modules(self) -> dict[str, Any]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"model": self.optimizer, "predictors": self.predictor_optimizer}

    def _values(self, table: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: table[:, i] for i, name in enumerate(self.names)}

    def vae_terms(self, images: torch.Tensor, values: dict[str, torch.Tensor], sample: bool = True
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mean squared error per image, KL per image, the latent used, the image code)."""
        model = self.model
        code = model.image_code(values)
        mean, log_var = model.encoder(images, code)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp() if sample else mean
        drawn = model.decoder(z, code).float()
        mse = ((drawn - images) ** 2).flatten(1).mean(dim=1)
        kl = 0.5 * (mean.float() ** 2 + log_var.float().exp() - 1 - log_var.float()).sum(dim=1)
        return mse, kl, z, code

    def elbo_loss(self, mse: torch.Tensor, kl: torch.Tensor) -> torch.Tensor:
        """The calibrated-decoder negative ELBO per pixel: 0.5 log(MSE) + beta * KL / pixels."""
        pixels = self.val_images[0].numel()
        return 0.5 * torch.log(mse.mean() + 1e-6) + self.beta * kl.mean() / pixels

    def train_step(self, images: torch.Tensor, table: torch.Tensor) -> dict[str, Any]:
        model, values = self.model, self._values(table)
        with self.ctx.autocast():
            predictor = sum(predictor_losses(model, images, values).values())
        self.predictor_optimizer.zero_grad(set_to_none=True)
        predictor.backward()  # type: ignore[union-attr]
        self.predictor_optimizer.step()

        with self.ctx.autocast():
            nll = -torch.stack([v.mean() for v in model.attributes.log_prob(values).values()]).sum()
            mse, kl, z, _ = self.vae_terms(images, values)
            loss = self.elbo_loss(mse, kl) + nll / len(self.names)
            shown = {"mse": mse.mean().detach(), "kl": kl.mean().detach(), "nll": nll.detach()}
            continuous: Any = 0
            ramp = min(1.0, self.steps / self.warmup_steps)
            if self.cf_weight > 0 and ramp > 0:
                with torch.no_grad():
                    do = random_interventions(model, values)
                    target = model.attributes.counterfactual(values, do)
                counterfactual = model.decoder(z, model.image_code(target))
                model.predictors.requires_grad_(False)
                cf = predictor_losses(model, counterfactual, target)
                model.predictors.requires_grad_(True)
                discrete = sum(v for k, v in cf.items() if self.discrete[k])
                continuous = sum(v for k, v in cf.items() if not self.discrete[k])
                loss = loss + self.cf_weight * ramp * discrete
                shown["cf"] = torch.stack(list(cf.values())).sum().detach()
        self.optimizer.zero_grad(set_to_none=True)
        if self.cf_weight > 0 and ramp > 0 and torch.is_tensor(continuous):
            loss.backward(retain_graph=True)
            # a regression read-out is easily fooled by a few bright pixels the decoder could learn
            # to draw: the continuous attributes' counterfactual term reaches only the layers that
            # turn the attributes into per-channel scales, shifts and the output's grey level
            (self.cf_weight * ramp * continuous).backward(inputs=self.code_layers)
        else:
            loss.backward()
        self.optimizer.step()
        self.steps += 1
        return shown

    def validate(self) -> dict[str, float]:
        model = self.model
        totals: dict[str, float] = {}
        n = len(self.val_images)
        with torch.no_grad():
            for start in range(0, n, 250):
                images = self.val_images[start:start + 250]
                values = self._values(self.val_values[start:start + 250])
                mse, kl, _, _ = self.vae_terms(images, values, sample=False)
                parts = {"mse": mse.sum(), "kl": kl.sum(),
                         "nll": -sum(v.sum() for v in model.attributes.log_prob(values).values())}
                read = model.predict(images)
                do = random_interventions(model, values, torch.Generator().manual_seed(start))
                target = model.attributes.counterfactual(values, do, torch.Generator().manual_seed(start))
                z = model.abduct_image(images, values)
                read_cf = model.predict(model.decoder(z, model.image_code(target)))
                for spec in model.config.attributes:
                    if spec.discrete:
                        parts[f"read_acc_{spec.name}"] = (read[spec.name] == values[spec.name]).float().sum()
                        parts[f"cf_acc_{spec.name}"] = (read_cf[spec.name] == target[spec.name]).float().sum()
                    else:
                        parts[f"read_mae_{spec.name}"] = (read[spec.name] - values[spec.name]).abs().sum()
                        parts[f"cf_mae_{spec.name}"] = (read_cf[spec.name] - target[spec.name]).abs().sum()
                for key, value in parts.items():
                    totals[key] = totals.get(key, 0.0) + float(value)
        metrics = {f"val_{k}": v / n for k, v in totals.items()}
        pixels = self.val_images[0].numel()
        metrics["val_loss"] = 0.5 * math.log(metrics["val_mse"] + 1e-6) + self.beta * metrics["val_kl"] / pixels
        metrics["val_psnr"] = 10 * math.log10(4.0 / max(metrics["val_mse"], 1e-12))
        return metrics

    def preview(self) -> torch.Tensor:
        """Rows of 8 held-out units: the images, their reconstructions, then do(attribute = its
        lowest / highest value) for each attribute in turn."""
        model = self.model
        images = self.val_images[:8]
        values = self._values(self.val_values[:8])
        rows = [images]
        with torch.no_grad():
            z = model.abduct_image(images, values)
            rows.append(model.decoder(z, model.image_code(values)).float())
            for spec in model.config.attributes:
                for value in (spec.low, spec.high):
                    mask = torch.ones(len(images), dtype=torch.bool, device=images.device)
                    do = {spec.name: (mask, torch.full((len(images),), float(value), device=images.device))}
                    target = model.attributes.counterfactual(values, do, torch.Generator().manual_seed(0))
                    rows.append(model.decoder(z, model.image_code(target)).float())
                if len(rows) >= 8:
                    break
        return torch.cat(rows[:8])

    def export(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.model.state_dict(), asdict(self.config)

    def model_card(self, result: Any) -> str:
        return self.card(result) if self.card else "# deep-scm\n"
