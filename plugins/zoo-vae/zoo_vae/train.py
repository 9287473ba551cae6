"""``zoo train conv-vae``: the click command the core's ``zoo train`` runs."""

from __future__ import annotations

from pathlib import Path

import click

from zoo_core import InputError
from zoo_core.training import check_positive, command_recipe, training_options

HELD_OUT = 5000  # training images set aside for the early-stopping metric (the test split stays untouched)


@click.command()
@training_options(epochs=60, patience=4, batch_size=128)
@click.option("--image-size", type=int, default=28, show_default=True,
              help="a multiple of 4; Fashion-MNIST is 28")
@click.option("--channels", type=click.Choice(["1", "3"]), default="1", show_default=True)
@click.option("--latent-dim", type=int, default=32, show_default=True)
@click.option("--width", type=int, default=32, show_default=True, help="channels of the first convolution")
@click.option("--hidden", type=int, default=512, show_default=True, help="units of the fully connected layer")
@click.option("--likelihood", type=click.Choice(["bernoulli", "gaussian"]), default="bernoulli",
              show_default=True, help="p(x|z): Bernoulli on grey levels in [0, 1], or Gaussian with a learned scale")
@click.option("--beta", type=float, default=1.0, show_default=True,
              help="weight of the KL term in the training loss (the held-out metric always uses 1)")
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--feature-model", default="random", show_default=True,
              help="feature space for the KID/FD of samples against the held-out images, reported beside the "
                   "ELBO: 'random' (a fixed random conv network, no download), any zoo encoder (a registry name or "
                   "training folder), or 'none'")
@click.option("--eval-samples", type=int, default=1000, show_default=True,
              help="samples per epoch for the KID/FD")
def train_conv_vae(out_dir: Path, dataset: str, data_dir: Path | None, image_size: int, channels: str,
                   latent_dim: int, width: int, hidden: int, likelihood: str, beta: float, lr: float, epochs: int,
                   patience: int, batch_size: int, seed: int, device: str, no_amp: bool, resume: bool, force: bool,
                   quiet: bool, limit: int | None, feature_model: str, eval_samples: int) -> None:
    """Train the conv VAE on Fashion-MNIST or a folder of images, stopping when the held-out ELBO stalls."""
    from zoo_core.data import load_dataset, to_model_range
    from zoo_core import ConfigError
    from zoo_core.training import fit, training_context

    from .conv_vae import ConvVAEConfig
    from .tasks import VAETask

    check_positive(epochs=epochs, patience=patience, batch_size=batch_size, lr=lr)
    if beta < 0:
        raise InputError(f"--beta must be >= 0, got {beta}")
    if eval_samples < 2:  # a Fréchet distance needs a covariance
        raise InputError(f"--eval-samples must be at least 2, got {eval_samples}")
    if limit is not None and limit <= 0:
        raise InputError(f"--limit must be positive, got {limit}")
    n_channels = int(channels)
    if dataset == "fashion-mnist" and n_channels != 1:
        raise InputError(f"--channels {channels}: Fashion-MNIST is greyscale; use --channels 1")
    try:
        config = ConvVAEConfig(image_size=image_size, channels=n_channels, latent_dim=latent_dim, width=width,
                               hidden=hidden, likelihood=likelihood)
    except ConfigError as exc:
        raise InputError(f"--image-size/--latent-dim/--width/--hidden: {exc}") from None
    with training_context(device, amp=not no_amp) as ctx:
        data = load_dataset(dataset, "train", data_dir=data_dir, channels=n_channels, size=image_size)
        images = to_model_range(data.images[:limit] if limit else data.images, image_size)
        if len(images) < 20:
            raise InputError(f"the conv VAE needs at least 20 training images (a tenth is held out), got {len(images)}")
        held_out = min(HELD_OUT, len(images) // 10)
        train_x, val_x = images[:-held_out], images[-held_out:]
        labels = (data.labels[:limit] if limit else data.labels)[:-held_out]
        quality = None
        if feature_model != "none":
            from zoo_core.metrics import HeldOutQuality, feature_space

            features = feature_space(feature_model, device=ctx.device)
            quality = HeldOutQuality(features, val_x, train_x, samples=eval_samples, seed=seed)
            if ctx.is_main:
                click.echo(f"sample quality: KID of {eval_samples} samples to {len(val_x)} held-out images in the "
                           f"{features.name} feature space; floor (training images): kid "
                           f"{quality.floor['kid_floor']:.4g}, fd {quality.floor['fd_floor']:.4g}", err=True)
        task = VAETask(ctx, config, lr=lr, beta=beta, seed=seed, val_images=val_x.to(ctx.device),
                       recipe=command_recipe("zoo train conv-vae"), dataset=data.name, quality=quality,
                       eval_samples=eval_samples)
        result = fit(task, ctx, train_x, labels, out_dir=out_dir, batch_size=batch_size, max_epochs=epochs,
                     patience=patience, seed=seed, resume=resume, force=force, progress=not quiet)
        if ctx.is_main:
            click.echo(f"conv-vae: {result.summary()}; {result.seconds / 60:.1f} min, "
                       f"{result.images_per_second:.0f} images/s; model repo in {out_dir}")
