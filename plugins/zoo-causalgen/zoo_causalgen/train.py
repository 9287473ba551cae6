"""``zoo train scene-causal-generator``: learn a scene's image mechanism from its renders.

The training set is drawn from the scene's SCM with the seed and rendered exactly (nothing is
downloaded); a held-out set from another seed decides early stopping. One Adam optimiser
trains both networks: the decoder to draw the render from the factors (mean squared error on
pixels in [-1, 1]) and the encoder to read the factors back (mean squared error on factors
scaled to [-1, 1]). The core's ``fit`` does the rest: seeded shuffling, checkpoints and
``--resume``, DDP under ``torchrun``, the model repo with the best epoch.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import torch
from torch import nn

from zoo_core import InputError
from zoo_core.training import check_positive, command_recipe, training_options

__all__ = ["train_command", "scene_renders"]

HELD_OUT = 1000


def scene_renders(scene: str, num: int, seed: int, sigma: float, size: int) -> tuple[Any, Any]:
    """(images uint8 (N, H, W, C), factor values) of ``num`` draws of the scene's SCM from ``seed``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if scene == "fashion":
        from .scenes import fashion

        values, noise = fashion.sample(rng, num, sigma, "train")
        garments, _ = fashion.garments("train")
        return fashion.render_batch(values, garments[noise["garment"].astype(np.int64)], size), values
    from .scenes import pendulum

    values, _ = pendulum.scm(sigma).sample(rng, num)
    return pendulum.render_batch(values, size), values


class SceneTask:
    """Adam on decoder MSE (pixels) + encoder MSE (scaled factors); held out: their sum."""

    monitor = "val_loss"

    def __init__(self, ctx: Any, config: Any, *, lr: float, seed: int, val: tuple[Any, Any], recipe: str,
                 train_size: int) -> None:
        from .model import SceneCausalGenerator

        self.ctx, self.config, self.seed, self.recipe, self.train_size = ctx, config, seed, recipe, train_size
        torch.manual_seed(seed)  # identical initial weights on every rank
        self.model = SceneCausalGenerator(config).to(ctx.device)
        self.net = ctx.wrap(_Both(self.model))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.val_images, self.val_codes = val

    def modules(self) -> dict[str, Any]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"model": self.optimizer}

    def train_step(self, images: Any, codes: Any) -> dict[str, Any]:
        with self.ctx.autocast():
            pixel, factor, kl = self.net(images, codes)
        loss = pixel.float() + factor.float() + kl.float()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        shown = {"pixel_mse": pixel.detach(), "factor_mse": factor.detach()}
        if self.config.image_noise_dim:
            shown["kl"] = kl.detach()
        return shown

    def validate(self) -> dict[str, float]:
        pixel_total = factor_total = 0.0
        psnrs = []
        with torch.no_grad():
            for start in range(0, len(self.val_images), 250):
                images = self.val_images[start:start + 250]
                codes = self.val_codes[start:start + 250]
                _, noise = self.model.read(images)  # the image noise's posterior mean, if any
                drawn = self.model.decoder(codes if noise is None else torch.cat([codes, noise], dim=1))
                per_image = ((drawn - images) ** 2).mean(dim=(1, 2, 3))
                pixel_total += float(per_image.sum())
                read = self.model.encoder(images)[:, :codes.shape[1]]
                factor_total += float(((read - codes) ** 2).mean(dim=1).sum())
                psnrs.append(10 * torch.log10(4.0 / per_image.clamp_min(1e-12)))  # range 2: peak^2 = 4
        n = len(self.val_images)
        return {"val_loss": (pixel_total + factor_total) / n, "val_pixel_mse": pixel_total / n,
                "val_factor_mse": factor_total / n, "val_psnr": float(torch.cat(psnrs).median())}

    def preview(self) -> Any:
        with torch.no_grad():
            _, noise = self.model.read(self.val_images[:64])
            codes = self.val_codes[:64]
            return self.model.decoder(codes if noise is None else torch.cat([codes, noise], dim=1)).float()

    def export(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.model.state_dict(), asdict(self.config)

    def model_card(self, result: Any) -> str:
        best = ", ".join(f"{k} {v:.4g}" for k, v in result.best.items())
        return (f"# scene-causal-generator: {self.config.scene}\n\n"
                f"A causal image generator for zoo (`zoo_causalgen`): the {self.config.scene} scene's SCM with a "
                f"decoder and encoder learned from {self.train_size} exact renders.\n\n"
                f"- config: `{asdict(self.config)}`\n"
                f"- best epoch {result.best_epoch} of {result.epochs}: {best} (held out: {len(self.val_images)} renders "
                f"from another seed; val_psnr is the decoder's median PSNR in dB against the exact render)\n"
                f"- wall time {result.seconds / 60:.1f} min, {result.images_per_second:.0f} images/s\n\n"
                f"## Recipe\n\n```bash\n{self.recipe}\n```\n")


class _Both(nn.Module):
    """Both losses in one forward pass (one module, so DDP sees every parameter used)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, images: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        losses = self.inner.training_losses(images, codes)  # type: ignore[operator]  # the model, not any Module
        return losses["pixel"], losses["factor"], losses["kl"]


@click.command()
@training_options(epochs=40, patience=4, batch_size=64, datasets=("scene",))
@click.option("--scene", type=click.Choice(["pendulum", "fashion"]), default="pendulum", show_default=True)
@click.option("--sigma", type=float, default=1.0, show_default=True, help="the scene's noise scale")
@click.option("--image-size", type=int, default=None, help="default: the scene's (pendulum 64, fashion 32)")
@click.option("--image-noise-dim", type=int, default=None,
              help="size of the learned image noise (default: pendulum 0, fashion 16: the garment)")
@click.option("--width", type=int, default=32, show_default=True, help="base channel count of both networks")
@click.option("--train-size", type=int, default=20000, show_default=True, help="renders to train on")
@click.option("--lr", type=float, default=1e-3, show_default=True)
def train_command(out_dir: Path, dataset: str, data_dir: Path | None, scene: str, sigma: float,
                  image_size: int | None, image_noise_dim: int | None, width: int, train_size: int, lr: float,
                  epochs: int, patience: int, batch_size: int, seed: int, device: str, no_amp: bool, resume: bool,
                  force: bool, quiet: bool, limit: int | None) -> None:
    """Learn a scene's image mechanism (decoder and encoder) from exact renders of its SCM."""
    from zoo_core import ConfigError
    from zoo_core.training import fit, training_context

    from .model import SceneCausalGenerator, SceneCausalGeneratorConfig

    check_positive(epochs=epochs, patience=patience, batch_size=batch_size, lr=lr, train_size=train_size)
    if data_dir is not None:
        raise InputError("--data-dir: the training renders are drawn from the scene itself; there is no data folder")
    if sigma < 0:
        raise InputError(f"--sigma must be >= 0, got {sigma}")
    if limit is not None:
        train_size = min(train_size, limit)
    fashion = scene == "fashion"
    image_size = image_size or (32 if fashion else 64)
    image_noise_dim = (16 if fashion else 0) if image_noise_dim is None else image_noise_dim
    if fashion and image_noise_dim < 1:
        raise InputError("--image-noise-dim: the fashion scene's garment is image noise; give at least 1")
    try:
        config = SceneCausalGeneratorConfig(scene=scene, sigma=sigma, image_size=image_size, width=width,
                                            channels=1 if fashion else 3, image_noise_dim=image_noise_dim)
    except ConfigError as exc:
        raise InputError(f"--image-size/--width/--image-noise-dim: {exc}") from None
    with training_context(device, amp=not no_amp) as ctx:
        probe = SceneCausalGenerator(config)

        def tensors(num: int, draw_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
            pixels, values = scene_renders(scene, num, draw_seed, sigma, image_size)
            images = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 127.5 - 1
            codes = probe.scale({k: torch.from_numpy(v) for k, v in values.items()})
            return images, codes

        train_x, train_codes = tensors(train_size, seed)
        val_x, val_codes = tensors(HELD_OUT, seed + 1_000_003)
        task = SceneTask(ctx, config, lr=lr, seed=seed, val=(val_x.to(ctx.device), val_codes.to(ctx.device)),
                         recipe=command_recipe("zoo train scene-causal-generator"), train_size=train_size)
        result = fit(task, ctx, train_x, train_codes, out_dir=out_dir, batch_size=batch_size, max_epochs=epochs,
                     patience=patience, seed=seed, resume=resume, force=force, progress=not quiet)
        if ctx.is_main:
            click.echo(f"scene-causal-generator ({scene}): best epoch {result.best_epoch} of {result.epochs}: "
                       + ", ".join(f"{k} {v:.4g}" for k, v in result.best.items())
                       + f"; {result.seconds / 60:.1f} min; model repo in {out_dir}")


class OracleTask:
    """Adam on the scaled factors' mean squared error; held out: the same, and R^2 per factor."""

    monitor = "val_mse"

    def __init__(self, ctx: Any, config: Any, *, lr: float, seed: int, val: tuple[Any, Any], recipe: str,
                 train_size: int) -> None:
        from .oracle import FactorRegressor

        self.ctx, self.config, self.seed, self.recipe, self.train_size = ctx, config, seed, recipe, train_size
        torch.manual_seed(seed)
        self.model = FactorRegressor(config).to(ctx.device)
        self.net = ctx.wrap(self.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.val_images, self.val_codes = val

    def modules(self) -> dict[str, Any]:
        return {"oracle": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"oracle": self.optimizer}

    def train_step(self, images: torch.Tensor, codes: torch.Tensor) -> dict[str, Any]:
        with self.ctx.autocast():
            loss = ((self.net.encode(images) if not hasattr(self.net, "module") else self.net.module.encode(images))
                    .float() - codes).pow(2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"mse": loss.detach()}

    def validate(self) -> dict[str, float]:
        with torch.no_grad():
            predicted = torch.cat([self.model.encode(self.val_images[s:s + 250]).float()
                                   for s in range(0, len(self.val_images), 250)])
        errors = (predicted - self.val_codes) ** 2
        metrics = {"val_mse": float(errors.mean())}
        variance = self.val_codes.var(dim=0, unbiased=False)
        for i, name in enumerate(self.model.scm.factors):
            metrics[f"val_r2_{name}"] = float(1 - errors[:, i].mean() / variance[i])
        return metrics

    def preview(self) -> torch.Tensor:
        return self.val_images[:16].float()

    def export(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.model.state_dict(), asdict(self.config)

    def model_card(self, result: Any) -> str:
        best = ", ".join(f"{k} {v:.5g}" for k, v in result.best.items())
        return (f"# factor-regressor: {self.config.scene}\n\n"
                f"The oracle zoo-causalgen's `zoo eval` reads factors with, trained on {self.train_size} exact renders.\n\n"
                f"- config: `{asdict(self.config)}`\n- best epoch {result.best_epoch} of {result.epochs}: {best} "
                f"(held out: {len(self.val_images)} renders from another seed)\n"
                f"- wall time {result.seconds / 60:.1f} min\n\n## Recipe\n\n```bash\n{self.recipe}\n```\n")


@click.command()
@training_options(epochs=30, patience=4, batch_size=64, datasets=("scene",))
@click.option("--scene", type=click.Choice(["pendulum"]), default="pendulum", show_default=True)
@click.option("--sigma", type=float, default=1.0, show_default=True)
@click.option("--image-size", type=int, default=64, show_default=True)
@click.option("--width", type=int, default=16, show_default=True)
@click.option("--train-size", type=int, default=20000, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
def train_oracle_command(out_dir: Path, dataset: str, data_dir: Path | None, scene: str, sigma: float,
                         image_size: int, width: int, train_size: int, lr: float, epochs: int, patience: int,
                         batch_size: int, seed: int, device: str, no_amp: bool, resume: bool, force: bool,
                         quiet: bool, limit: int | None) -> None:
    """Train the factor regressor that judges generated images: exact renders in, factors out."""
    from zoo_core import ConfigError
    from zoo_core.training import fit, training_context

    from .model import SceneCausalGenerator, SceneCausalGeneratorConfig
    from .oracle import FactorRegressorConfig

    check_positive(epochs=epochs, patience=patience, batch_size=batch_size, lr=lr, train_size=train_size)
    if data_dir is not None:
        raise InputError("--data-dir: the training renders are drawn from the scene itself; there is no data folder")
    if limit is not None:
        train_size = min(train_size, limit)
    try:
        config = FactorRegressorConfig(scene=scene, sigma=sigma, image_size=image_size, width=width)
    except ConfigError as exc:
        raise InputError(f"--image-size/--width: {exc}") from None
    scaler = SceneCausalGenerator(SceneCausalGeneratorConfig(scene=scene, sigma=sigma, image_size=image_size, width=1))
    with training_context(device, amp=not no_amp) as ctx:
        def tensors(num: int, draw_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
            pixels, values = scene_renders(scene, num, draw_seed, sigma, image_size)
            images = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 127.5 - 1
            return images, scaler.scale({k: torch.from_numpy(v) for k, v in values.items()})

        train_x, train_codes = tensors(train_size, seed + 7)  # not the generator's training draws
        val_x, val_codes = tensors(HELD_OUT, seed + 2_000_003)
        task = OracleTask(ctx, config, lr=lr, seed=seed, val=(val_x.to(ctx.device), val_codes.to(ctx.device)),
                          recipe=command_recipe("zoo train factor-regressor"), train_size=train_size)
        result = fit(task, ctx, train_x, train_codes, out_dir=out_dir, batch_size=batch_size, max_epochs=epochs,
                     patience=patience, seed=seed, resume=resume, force=force, progress=not quiet)
        if ctx.is_main:
            click.echo(f"factor-regressor ({scene}): best epoch {result.best_epoch} of {result.epochs}: "
                       + ", ".join(f"{k} {v:.5g}" for k, v in result.best.items()) + f"; model repo in {out_dir}")
