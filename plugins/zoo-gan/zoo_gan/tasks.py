"""Training tasks for ``zoo_core.training.fit``: the DCGANs and the feature classifier."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo_core.interfaces import seeded_noise
from zoo_core.metrics import HeldOutQuality, frechet_distance
from zoo_core.training import FitResult, TrainContext

from .augment import DiffAugment
from .classifier import ClassifierConfig, FeatureClassifier
from .dcgan import DCGAN, DCGANConfig

__all__ = ["GANTask", "ClassifierTask", "init_dcgan_weights", "warm_start"]


def init_dcgan_weights(module: nn.Module) -> None:
    """The paper's initialisation: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def warm_start(model: DCGAN, source: str, device: torch.device) -> int:
    """Copy a trained unconditional DCGAN into a class-conditional one of the same shape.

    Every tensor of the same name and shape is copied; the generator's first layer takes the
    unconditional one's weights for z and zeros for the class embedding's half, so at the start
    the conditional model draws exactly the unconditional model's (varied) images and learns to
    steer them by class. The projection and class heads of the discriminator start fresh.
    Returns how many tensors were copied.
    """
    import json
    from pathlib import Path

    import zoo_core
    from zoo_core import InputError

    path = Path(source)
    if path.is_dir() or path.suffix == ".safetensors":
        weights = path / "model.safetensors" if path.is_dir() else path
        config_file = weights.with_name("config.json")
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
        donor = zoo_core.load_weights(zoo_core.build(DCGAN, config), weights, device=device)
    else:
        donor = zoo_core.load(source, device=device)
    if not isinstance(donor, DCGAN) or donor.config.num_classes:
        raise InputError(f"--init-from {source}: not an unconditional DCGAN")
    mine, theirs = model.state_dict(), donor.state_dict()
    copied = 0
    with torch.no_grad():
        for name, tensor in theirs.items():
            target = mine.get(name)
            if target is None:
                continue
            if target.shape == tensor.shape:
                target.copy_(tensor)
                copied += 1
            elif name == "generator.net.0.weight" and target.shape[1:] == tensor.shape[1:]:
                target.zero_()  # (latent + class, C, k, k): z's rows from the donor, the class's rows at zero
                target[: tensor.shape[0]].copy_(tensor)
                copied += 1
    if not copied:
        raise InputError(f"--init-from {source}: no tensor fits this model (image size, width or latent size differ)")
    return copied


class GANTask:
    """Non-saturating GAN training with Adam(2e-4, β1=0.5), as in the DCGAN paper.

    The held-out metric is either the Fréchet distance, in the feature classifier's space,
    between ``eval_samples`` generated images and ``reference`` features of real images
    (Fashion-MNIST-shaped data), or, given ``quality``, the KID of ``eval_samples`` generated
    images against a held-out split in any feature space (any folder), its floor beside it.
    With ``augment``, every image the discriminator sees, real or generated, goes through it.
    """

    def __init__(self, ctx: TrainContext, config: DCGANConfig, *, lr: float, seed: int,
                 classifier: FeatureClassifier | None, reference: torch.Tensor | None, eval_samples: int,
                 recipe: str, dataset: str, classes: tuple[str, ...], ac_weight: float = 1.0,
                 reference_labels: torch.Tensor | None = None, quality: HeldOutQuality | None = None,
                 augment: DiffAugment | None = None) -> None:
        self.ctx, self.config, self.seed = ctx, config, seed
        self.quality, self.augment = quality, augment
        self.ac_weight = ac_weight
        self.reference_labels = reference_labels
        self.recipe, self.dataset, self.classes = recipe, dataset, classes
        torch.manual_seed(seed)  # identical initial weights on every rank
        self.model = DCGAN(config).to(ctx.device)
        self.model.apply(init_dcgan_weights)
        self.generator = ctx.wrap(self.model.generator)
        self.discriminator = ctx.wrap(self.model.discriminator)
        torch.manual_seed(seed * 1000 + ctx.rank + 1)  # different noise on each rank
        betas = (0.5, 0.999)
        self.opt_g = torch.optim.Adam(self.model.generator.parameters(), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.model.discriminator.parameters(), lr=lr, betas=betas)
        self.classifier, self.reference, self.eval_samples = classifier, reference, eval_samples
        # without a classifier there is no held-out metric: every epoch is kept, up to --epochs
        # (a count-down metric did that until a --resume with a larger --epochs kept the old last epoch).
        # A conditional model is judged class by class: a sample of the wrong class, or a class that
        # repeats one picture, is far from that class's real images (the overall FD forgives both)
        class_aware = config.num_classes and reference_labels is not None
        if quality is not None:  # KID: unbiased however few held-out images there are
            self.monitor: str | None = "kid"
        else:
            self.monitor = None if classifier is None else ("class_fd" if class_aware else "fd")

    def modules(self) -> dict[str, nn.Module]:
        return {"dcgan": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        n = len(images)
        conditional = bool(self.config.num_classes)
        y = labels if conditional else None
        z = torch.randn(n, self.config.latent_dim, device=self.ctx.device)
        ones = torch.ones(n, device=self.ctx.device)
        zeros = torch.zeros(n, device=self.ctx.device)
        with self.ctx.autocast():
            fake = self.generator(z, y)
            d_real, c_real = self._discriminate(self._seen(images), y)
            d_fake, _ = self._discriminate(self._seen(fake.detach()), y)
            loss_d = F.binary_cross_entropy_with_logits(d_real, ones) + \
                F.binary_cross_entropy_with_logits(d_fake, zeros)
            if conditional:
                loss_d = loss_d + F.cross_entropy(c_real, labels)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        with self.ctx.autocast():
            d_gen, c_gen = self._discriminate(self._seen(fake), y)
            loss_g = F.binary_cross_entropy_with_logits(d_gen, ones)
            if conditional and self.ac_weight:
                loss_g = loss_g + self.ac_weight * F.cross_entropy(c_gen, labels)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}

    def _seen(self, images: torch.Tensor) -> torch.Tensor:
        """What the discriminator is shown: the images through DiffAugment when it is on."""
        return images if self.augment is None else self.augment(images)

    def _discriminate(self, images: torch.Tensor, labels: torch.Tensor | None):
        """Real/fake logits and (conditional model) class logits, through DDP when distributed."""
        if labels is None:
            return self.discriminator(images).float(), None
        logits, classes = self.discriminator(images, labels, with_classes=True)
        return logits.float(), classes.float()

    @torch.no_grad()
    def _generate(self, num: int, seed: int) -> torch.Tensor:
        self.model.eval()
        z = seeded_noise((num, self.config.latent_dim), seed).to(self.ctx.device)
        y = (torch.arange(num) % self.config.num_classes).to(self.ctx.device) if self.config.num_classes else None
        out = torch.cat([self.model.decode(z[i:i + 1000], None if y is None else y[i:i + 1000])
                         for i in range(0, num, 1000)])
        return out.float()

    def validate(self) -> dict[str, float]:
        if self.quality is not None:
            return self.quality.score(self._generate(self.eval_samples, seed=self.seed + 12345))
        if self.classifier is None:
            return {}
        samples = self._generate(self.eval_samples, seed=self.seed + 12345)
        features = self.classifier.features_of(samples)
        assert self.reference is not None  # a classifier comes with the reference features it measures against
        metrics = {"fd": frechet_distance(features, self.reference)}
        if self.config.num_classes:
            predicted = self.classifier.classify(samples)
            wanted = torch.arange(len(samples)) % self.config.num_classes
            metrics["class_accuracy"] = float((predicted == wanted).float().mean())
            if self.reference_labels is not None and self.reference is not None:
                per_class = [frechet_distance(features[wanted == c], self.reference[self.reference_labels == c])
                             for c in range(self.config.num_classes)]
                metrics["class_fd"] = sum(per_class) / len(per_class)
        return metrics

    def preview(self) -> torch.Tensor:
        return self._generate(64, seed=self.seed)

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return self.model.state_dict(), asdict(self.config)

    def model_card(self, result: FitResult) -> str:
        from .card import model_card

        kind = "class-conditional DCGAN" if self.config.num_classes else "DCGAN"
        if self.quality is not None:
            note = (f"KID of {self.eval_samples} samples to {len(self.quality.reference)} held-out real images "
                    f"(never trained on) in the feature space {self.quality.features.name}; its floor, training "
                    "images against the same held-out images, is `kid_floor` (FD and `fd_floor` beside it)")
        elif self.classifier is None or self.reference is None:
            note = "none (no feature classifier for these images): the last epoch is the model"
        else:
            per_class = "averaged over the classes, each class's samples against that class's images: " \
                if self.monitor == "class_fd" else ""
            note = (f"{per_class}Fréchet distance of {self.eval_samples} samples to {len(self.reference)} real training "
                    "images "
                    "in the feature space of zoo's Fashion-MNIST classifier (not Inception FID)")
        if self.augment is not None:
            note += f"; trained with {self.augment!r} on what the discriminator sees"
        return model_card(title=f"{kind} on {self.dataset}", config=asdict(self.config), result=result,
                          recipe=self.recipe, dataset=self.dataset,
                          classes=self.classes if self.config.num_classes else (), monitor_note=note)


class ClassifierTask:
    """Cross-entropy training of the feature classifier; held out: 5k training images."""

    monitor = "val_error"

    def __init__(self, ctx: TrainContext, config: ClassifierConfig, *, lr: float, seed: int,
                 val_images: torch.Tensor, val_labels: torch.Tensor, recipe: str) -> None:
        self.ctx, self.config, self.recipe = ctx, config, recipe
        torch.manual_seed(seed)
        self.model = FeatureClassifier(config).to(ctx.device)
        self.net = ctx.wrap(self.model)
        torch.manual_seed(seed * 1000 + ctx.rank + 1)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=5e-4)
        self.val_images, self.val_labels = val_images, val_labels
        self.test_accuracy: float | None = None

    def modules(self) -> dict[str, nn.Module]:
        return {"classifier": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"classifier": self.optimizer}

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        flip = torch.rand(len(images), device=images.device) < 0.5  # left-right flips: free augmentation
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        with self.ctx.autocast():
            loss = F.cross_entropy(self.net(images).float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.detach()}

    def validate(self) -> dict[str, float]:
        self.model.eval()
        predicted = self.model.classify(self.val_images)
        accuracy = float((predicted == self.val_labels.cpu()).float().mean())
        return {"val_error": 1.0 - accuracy, "val_accuracy": accuracy}

    def preview(self) -> torch.Tensor:
        return self.val_images[:64]

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return self.model.state_dict(), asdict(self.config)

    def model_card(self, result: FitResult) -> str:
        from .card import model_card

        extra = {} if self.test_accuracy is None else {"test_accuracy": self.test_accuracy}
        return model_card(title="Fashion-MNIST feature classifier", config=asdict(self.config), result=result,
                          task="image-classification",
                          recipe=self.recipe, dataset="fashion-mnist", classes=(), extra=extra,
                          monitor_note="error on 5,000 held-out training images")
