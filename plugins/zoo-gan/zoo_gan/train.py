"""``zoo train dcgan|cdcgan|fashion-classifier``: click commands the core's ``zoo train`` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zoo_core import InputError
from zoo_core.training import check_positive, command_recipe, training_options

from .augment import AUGMENT_BELOW
from .classifier import load_classifier

_common = training_options()  # --out, --dataset, --epochs, ... shared with every zoo train command
AC_WEIGHT = 1.0


def _limited(data: Any, limit: int | None) -> Any:
    if limit is None:
        return data
    if limit <= 0:
        raise InputError(f"--limit must be positive, got {limit}")
    data.images, data.labels = data.images[:limit], data.labels[:limit]
    return data


def _check(epochs: int, patience: int, batch_size: int) -> None:
    check_positive(epochs=epochs, patience=patience, batch_size=batch_size)


def _given(name: str) -> bool:
    """Whether the user typed option ``name`` (rather than taking its default)."""
    from click.core import ParameterSource

    context = click.get_current_context(silent=True)
    source = context.get_parameter_source(name) if context is not None else None
    return source not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _train_gan(conditional: bool, *, out_dir: Path, dataset: str, data_dir: Path | None, epochs: int,
               patience: int, batch_size: int, seed: int, device: str, no_amp: bool, resume: bool, force: bool,
               quiet: bool,
               limit: int | None, image_size: int, channels: int, width: int, latent_dim: int, lr: float,
               classifier: str, eval_samples: int, feature_model: str = "auto", augment: str = "auto",
               ac_weight: float = 1.0, init_from: str | None = None) -> None:
    import torch

    from zoo_core.data import load_dataset, to_model_range
    from zoo_core.training import fit, training_context

    from .dcgan import DCGANConfig
    from .tasks import GANTask

    _check(epochs, patience, batch_size)
    if eval_samples < 2:  # a Fréchet distance needs a covariance
        raise InputError(f"--eval-samples must be at least 2, got {eval_samples}")
    if ac_weight < 0:
        raise InputError(f"--ac-weight must be >= 0, got {ac_weight}")
    name = "cdcgan" if conditional else "dcgan"
    with training_context(device, amp=not no_amp) as ctx:
        if dataset == "fashion-mnist" and channels != 1:
            raise InputError(f"--channels {channels}: Fashion-MNIST is greyscale; use --channels 1")
        data = _limited(load_dataset(dataset, "train", data_dir=data_dir, channels=channels, size=image_size), limit)
        if conditional and (data.labels < 0).any():
            raise InputError("cdcgan needs labelled data: --dataset folder with one subfolder per class")
        config = DCGANConfig(image_size=image_size, channels=channels, latent_dim=latent_dim, width=width,
                             num_classes=len(data.classes) if conditional else 0)
        images, labels = to_model_range(data.images, image_size), data.labels
        feature_net, reference, reference_labels, quality = None, None, None, None
        fashion_shaped = channels == 1 and image_size == 32
        if feature_model == "auto" and classifier != "none" and (_given("classifier") or fashion_shaped):
            feature_net = load_classifier(classifier, ctx.device)
            c, s = feature_net.config.channels, feature_net.config.image_size
            if (c, s) != (channels, image_size):  # asked for by name: an error, not a silent fallback
                raise InputError(f"--classifier {classifier} takes {c}x{s}x{s} images, but these are "
                                 f"{channels}x{image_size}x{image_size}: use --image-size {s} or --classifier none")
            pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:10000]
            reference = feature_net.features_of(images[pick])
            reference_labels = data.labels[pick]
        else:
            images, labels, quality, eval_samples = _held_out_quality(
                images, labels, feature_model, ctx.device, seed=seed, eval_samples=eval_samples, show=ctx.is_main)
        augmenter = _augmenter(augment, len(images), show=ctx.is_main)
        task = GANTask(ctx, config, lr=lr, seed=seed, classifier=feature_net, reference=reference,
                       reference_labels=reference_labels, eval_samples=eval_samples, ac_weight=ac_weight,
                       recipe=command_recipe(f"zoo train {name}"), dataset=data.name,
                       classes=data.classes, quality=quality, augment=augmenter)
        if init_from is not None and not resume:
            from .tasks import warm_start

            copied = warm_start(task.model, init_from, ctx.device)
            if ctx.is_main:
                click.echo(f"--init-from {init_from}: started from its {copied} tensors", err=True)
        result = fit(task, ctx, images, labels, out_dir=out_dir, batch_size=batch_size, max_epochs=epochs,
                     patience=patience, seed=seed, resume=resume, force=force, progress=not quiet)
        if ctx.is_main:
            click.echo(f"{name}: {result.summary()}; {result.seconds / 60:.1f} min, "
                       f"{result.images_per_second:.0f} images/s; model repo in {out_dir}")


#: Generated images scored per epoch against a held-out split (KID is unbiased at any count).
HELD_OUT_SAMPLES = 1000


def _held_out_quality(images: Any, labels: Any, feature_model: str, device: Any, *, seed: int, eval_samples: int,
                      show: bool) -> tuple[Any, Any, Any, int]:
    """Training images and labels less a held-out split, the quality meter on that split, and the
    sample count it scores (``--eval-samples`` if given, else ``HELD_OUT_SAMPLES``)."""
    from zoo_core.metrics import HeldOutQuality, feature_space, split_held_out

    if len(images) < 4:  # two to train on, two held out (KID needs two on each side)
        raise InputError(f"the held-out metric needs at least 4 images (a tenth, at least 2, is held out), "
                         f"got {len(images)}")
    spec = "random" if feature_model == "auto" else feature_model
    features = feature_space(spec, device=device)
    if not _given("eval_samples"):
        eval_samples = HELD_OUT_SAMPLES
    train, held = split_held_out(len(images), seed=seed)
    quality = HeldOutQuality(features, images[held], images[train], samples=eval_samples, seed=seed)
    if show:
        click.echo(f"held-out metric: KID of {eval_samples} samples to {len(held)} held-out images in the "
                   f"{features.name} feature space; floor (training images): kid {quality.floor['kid_floor']:.4g}, "
                   f"fd {quality.floor['fd_floor']:.4g}", err=True)
    return images[train], labels[train], quality, eval_samples


def _augmenter(mode: str, count: int, *, show: bool) -> Any:
    """DiffAugment for ``--augment`` on ``count`` training images, or None."""
    from .augment import AUGMENT_BELOW, DiffAugment, augment_enabled

    if not augment_enabled(mode, count):
        return None
    augmenter = DiffAugment()
    if show:
        why = f"{count} training images < {AUGMENT_BELOW}" if mode == "auto" else "--augment on"
        click.echo(f"{augmenter!r} on what the discriminator sees ({why}; --augment off to disable)", err=True)
    return augmenter


def _gan_command(conditional: bool) -> click.Command:
    @click.command()
    @_common
    @click.option("--image-size", type=click.Choice(["28", "32", "64"]), default="32", show_default=True)
    @click.option("--channels", type=click.Choice(["1", "3"]), default="1", show_default=True,
                  help="1 = greyscale, 3 = RGB (for --dataset folder)")
    @click.option("--width", type=int, default=64, show_default=True, help="ngf = ndf")
    @click.option("--latent-dim", type=int, default=100, show_default=True)
    @click.option("--lr", type=float, default=2e-4, show_default=True)
    @click.option("--classifier", default="fashion-classifier", show_default=True,
                  help="feature network for the held-out Fréchet distance: a registry name, a training output "
                       "folder, or 'none'")
    @click.option("--eval-samples", type=int, default=5000, show_default=True,
                  help=f"samples per epoch for the held-out metric ({HELD_OUT_SAMPLES} when it is KID on a held-out "
                       "split)")
    @click.option("--feature-model", default="auto", show_default=True,
                  help="feature space of the held-out metric: 'random' (a fixed random conv network, no download), "
                       "any zoo encoder (a registry name or training folder), or 'auto': the --classifier for "
                       "1x32x32 images, else 'random'. Except for the classifier, a tenth of the images is held "
                       "out and the metric is KID against them, its floor beside it")
    @click.option("--augment", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
                  help="DiffAugment (colour, translation, cutout) on everything the discriminator sees; auto: on "
                       f"below {AUGMENT_BELOW:,} training images")
    def command(image_size: str, channels: str, **options: Any) -> None:
        """Train a DCGAN (class-conditional for cdcgan) on Fashion-MNIST or a folder of images."""
        _train_gan(conditional, image_size=int(image_size), channels=int(channels), **options)

    if conditional:  # the auxiliary classifier term only exists in the conditional model
        command = click.option(
            "--ac-weight", type=float, default=AC_WEIGHT, show_default=True,
            help="weight of the auxiliary-classifier term in the generator's loss: it makes samples class-faithful "
                 "and, too strong, collapses each class to a few images")(command)
        command = click.option(
            "--init-from", help="start from a trained unconditional DCGAN (a registry name or a training folder): "
                                "its varied images, with the class input at zero, are what conditioning is "
                                "learnt on")(command)

    return command


train_dcgan = _gan_command(conditional=False)
train_cdcgan = _gan_command(conditional=True)


@click.command()
@_common
@click.option("--lr", type=float, default=1e-3, show_default=True)
def train_classifier(out_dir: Path, dataset: str, data_dir: Path | None, epochs: int, patience: int,
                     batch_size: int, seed: int, device: str, no_amp: bool, resume: bool, force: bool,
                     quiet: bool, limit: int | None, lr: float) -> None:
    """Train the Fashion-MNIST feature classifier (held out: the last 5,000 training images)."""
    from zoo_core.data import load_dataset, to_model_range
    from zoo_core.training import fit, training_context

    from .classifier import ClassifierConfig
    from .tasks import ClassifierTask

    _check(epochs, patience, batch_size)
    if dataset != "fashion-mnist":
        raise InputError("the feature classifier is trained on --dataset fashion-mnist")
    with training_context(device, amp=not no_amp) as ctx:
        train = _limited(load_dataset(dataset, "train", data_dir=data_dir), limit)
        if len(train) < 10:  # a tenth is held out: with none, images[-0:] would be all of them
            given = f"--limit {limit}" if limit is not None else f"--data-dir {data_dir}"
            raise InputError(f"{given}: the classifier needs at least 10 training images, got {len(train)}")
        test = load_dataset(dataset, "test", data_dir=data_dir)
        images = to_model_range(train.images, 32)
        held_out = min(5000, len(images) // 10)
        val_images, val_labels = images[-held_out:], train.labels[-held_out:]
        task = ClassifierTask(ctx, ClassifierConfig(), lr=lr, seed=seed, val_images=val_images.to(ctx.device),
                              val_labels=val_labels, recipe=command_recipe("zoo train fashion-classifier"))
        result = fit(task, ctx, images[:-held_out], train.labels[:-held_out], out_dir=out_dir, batch_size=batch_size,
                     max_epochs=epochs, patience=patience, seed=seed, resume=resume, force=force, progress=not quiet)
        if ctx.is_main:
            best = load_classifier(str(out_dir), ctx.device)
            predicted = best.classify(to_model_range(test.images, 32))
            task.test_accuracy = float((predicted == test.labels).float().mean())
            from zoo_core.atomic import write_atomic

            write_atomic(out_dir / "README.md", task.model_card(result))
            click.echo(f"fashion-classifier: best epoch {result.best_epoch} of {result.epochs}, validation accuracy "
                       f"{result.best['val_accuracy']:.4f}, test accuracy {task.test_accuracy:.4f}; "
                       f"{result.seconds / 60:.1f} min; model repo in {out_dir}")
