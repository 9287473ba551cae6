"""A small Fashion-MNIST classifier whose penultimate layer is zoo's feature space for
measuring generated images (Fréchet distance, KID) where Inception weights are out of reach.

It takes 1×32×32 images in [-1, 1] (28×28 padded by two pixels, as the GANs produce) and
maps them to 128 features (``encode``) and 10 class logits (``classify``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

import zoo_core
from zoo_core import InputError

__all__ = ["ClassifierConfig", "FeatureClassifier", "load_classifier"]


@dataclass
class ClassifierConfig:
    image_size: int = 32  # input side; Fashion-MNIST is padded from 28
    channels: int = 1
    num_classes: int = 10
    features: int = 128  # size of the feature vector used by the quality metrics
    dropout: float = 0.3


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class FeatureClassifier(zoo_core.Encoder):
    config_class = ClassifierConfig

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__(config)
        c = config
        self.body = nn.Sequential(
            *_block(c.channels, 32), *_block(32, 32), nn.MaxPool2d(2),  # (N, 32, S/2, S/2)
            *_block(32, 64), *_block(64, 64), nn.MaxPool2d(2),  # (N, 64, S/4, S/4)
            *_block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, 128)
            nn.Linear(128, c.features), nn.ReLU(inplace=True),  # (N, features)
        )
        self.dropout = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.features, c.num_classes)

    @property
    def input_channels(self) -> int:
        return self.config.channels

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.config.image_size, self.config.image_size)

    def check_images(self, images: torch.Tensor) -> None:
        size = self.config.image_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (self.config.channels, size, size):
            raise InputError(f"the classifier takes ({self.config.channels}, {size}, {size}) images, "
                             f"got {tuple(images.shape[1:])}")

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)  # (N, features)

    def fit(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] at another size, as the classifier takes them: 28×28 (Fashion-MNIST's
        size) padded with background to 32×32, any other size resized."""
        size, target = images.shape[-1], self.config.image_size
        if size == target:
            return images
        if (size, target) == (28, 32):
            return F.pad(images, (2, 2, 2, 2), value=-1.0)
        return F.interpolate(images, size=(target, target), mode="bilinear", antialias=True, align_corners=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.body(images)))  # (N, num_classes) logits

    @torch.inference_mode()
    def features_of(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Features of many images (any size, see ``fit``), in batches, as float32 on the CPU."""
        images = self.fit(images)
        self.check_images(images)
        out = [self.encode(images[i:i + batch_size].to(self.device, self.dtype)).float().cpu()
               for i in range(0, len(images), batch_size)]
        return torch.cat(out)

    @torch.inference_mode()
    def classify(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Predicted class of each image (N,), any size (see ``fit``)."""
        images = self.fit(images)
        self.check_images(images)
        out = [self(images[i:i + batch_size].to(self.device, self.dtype)).argmax(1).cpu()
               for i in range(0, len(images), batch_size)]
        return torch.cat(out)


def load_classifier(spec: str, device: Any) -> FeatureClassifier:
    """A registry name, or a training output folder / .safetensors file of the classifier."""
    import zoo_core
    from zoo_core import ConfigError
    from zoo_core.config import build_config

    path = Path(spec)
    if path.suffix == ".safetensors" or path.is_dir():
        weights = path / "model.safetensors" if path.is_dir() else path
        config_file = weights.with_name("config.json")
        config = json.loads(config_file.read_text()) if config_file.exists() else {}
        try:  # e.g. a GAN's output folder given by mistake
            classifier_config = build_config(ClassifierConfig, config, where=str(config_file))
        except ConfigError as exc:
            raise InputError(f"--classifier {spec}: not a feature classifier ({exc})") from exc
        model = zoo_core.build(FeatureClassifier, classifier_config)
        return zoo_core.load_weights(model, weights, device=device, dtype=torch.float32)
    return zoo_core.load(spec, device=device)
