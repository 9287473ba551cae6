"""The interface of the ``pattern-generator`` task and its one architecture."""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass

import torch
from torch import nn

import zoo_core


class PatternModel(zoo_core.Model):
    """Draws 16x16 RGB patterns in [-1, 1], and tints images."""

    @abc.abstractmethod
    def draw(self, seed: int, index: int) -> torch.Tensor:
        """Pattern ``index`` of ``seed``: (1, 3, 16, 16) in [-1, 1]."""

    @abc.abstractmethod
    def tint(self, image: torch.Tensor) -> torch.Tensor:
        """The image (1, C, H, W) in [-1, 1], tinted."""


@dataclass
class StripesConfig:
    size: int = 16


class Stripes(PatternModel):
    config_class = StripesConfig

    def __init__(self, config: StripesConfig) -> None:
        super().__init__(config)
        self.level = nn.Parameter(torch.ones(1))

    def draw(self, seed: int, index: int, pause: float = 0.0) -> torch.Tensor:
        time.sleep(pause)
        size = self.config.size
        phase = torch.Generator().manual_seed(seed * 100_003 + index)
        offset = int(torch.randint(0, 8, (1,), generator=phase))
        grid = torch.arange(size)[:, None] + torch.arange(size)[None, :] + offset
        stripes = ((grid // 4) % 2).float() * 2 - 1
        return (stripes.expand(1, 3, size, size) * self.level).clamp(-1, 1)

    def tint(self, image: torch.Tensor, pause: float = 0.0) -> torch.Tensor:
        time.sleep(pause)
        return (image * self.level * 0.5).clamp(-1, 1)
