"""A small Fashion-MNIST classifier whose penultimate layer is zoo's feature space for
measuring generated images (Fréchet distance, KID) where Inception weights are out of reach.

It takes 1×32×32 images in [-1, 1] (28×28 padded by two pixels, as the GANs produce) and
maps them to 128 features (``encode``) and 10 class logits (``classify``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

import zoo_core
from zoo_core.errors import InputError

__all__ = ["ClassifierConfig", "FeatureClassifier"]


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

    def check_images(self, images: torch.Tensor) -> None:
        size = self.config.image_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (self.config.channels, size, size):
            raise InputError(f"the classifier takes ({self.config.channels}, {size}, {size}) images, "
                             f"got {tuple(images.shape[1:])}")

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)  # (N, features)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.body(images)))  # (N, num_classes) logits

    @torch.inference_mode()
    def features_of(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Features of many images, in batches, as float32 on the CPU."""
        self.check_images(images)
        out = [self.encode(images[i:i + batch_size].to(self.device, self.dtype)).float().cpu()
               for i in range(0, len(images), batch_size)]
        return torch.cat(out)

    @torch.inference_mode()
    def classify(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Predicted class of each image (N,)."""
        self.check_images(images)
        out = [self(images[i:i + batch_size].to(self.device, self.dtype)).argmax(1).cpu()
               for i in range(0, len(images), batch_size)]
        return torch.cat(out)
