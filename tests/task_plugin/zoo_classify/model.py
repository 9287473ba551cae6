"""A linear classifier on each image's mean grey level: dark or bright."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .interface import ImageClassifier


@dataclass
class BrightnessConfig:
    channels: int = 1


class BrightnessClassifier(ImageClassifier):
    config_class = BrightnessConfig

    def __init__(self, config: BrightnessConfig) -> None:
        super().__init__(config)
        self.linear = nn.Linear(1, 2)  # mean grey level -> (dark, bright) scores

    @property
    def classes(self) -> tuple[str, ...]:
        return ("dark", "bright")

    @property
    def input_channels(self) -> int:
        return self.config.channels

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.linear(images.mean(dim=(1, 2, 3))[:, None])  # (N, 2)
