"""``factor-regressor``: an oracle that reads a scene's factors from an image.

Trained on exact renders only, separately from any causal generator, it is the independent
judge ``zoo eval`` uses to read the factors back from generated images (as Monteiro et al.,
ICLR 2023, measure counterfactuals with anti-causal predictors). It is an ``Encoder``: its
latents are the factors scaled to [-1, 1] over their supports, in the scene's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import nn

from zoo_core import ConfigError, Encoder

from .scenes import SCENES, scene_scm
from .scm import SCM

__all__ = ["FactorRegressor", "FactorRegressorConfig"]


@dataclass
class FactorRegressorConfig:
    scene: str = "pendulum"
    sigma: float = 1.0
    image_size: int = 64
    channels: int = 3
    width: int = 16

    def __post_init__(self) -> None:
        if self.scene not in SCENES:
            raise ConfigError(f"scene {self.scene!r}: known scenes are {', '.join(SCENES)}")
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise ConfigError(f"image_size {self.image_size}: must be a power of two, at least 8")
        if self.channels not in (1, 3) or self.width < 1:
            raise ConfigError("channels must be 1 or 3, width positive")


class FactorRegressor(Encoder):
    """Strided convolutions over the image and its pixel coordinates, pooled, then an MLP."""

    config_class = FactorRegressorConfig
    size_multiple = 16  # four halvings before the pooled head

    def __init__(self, config: FactorRegressorConfig) -> None:
        super().__init__(config)
        layers: list[nn.Module] = []
        c_in, c_out, size = config.channels + 2, config.width, config.image_size
        while size > 4:
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.SiLU(),
                       nn.Conv2d(c_out, c_out, 3, padding=1), nn.SiLU()]
            c_in, c_out, size = c_out, min(8 * config.width, c_out * 2), size // 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(c_in * 16, 256), nn.SiLU(),
                                  nn.Linear(256, len(self.scm.factors)))
        self.ranges = [(max(m.support[0], -1e6), min(m.support[1], 1e6)) for m in self.scm.mechanisms]

    @cached_property
    def scm(self) -> SCM:
        return scene_scm(self.config.scene, self.config.sigma)

    @property
    def input_channels(self) -> int:
        return self.config.channels

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        n, _, h, w = images.shape
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h, device=images.device, dtype=images.dtype),
                                torch.linspace(-1, 1, w, device=images.device, dtype=images.dtype), indexing="ij")
        grid = torch.stack([xs, ys]).expand(n, 2, h, w)
        return self.head(self.body(torch.cat([images, grid], dim=1)))

    def read(self, images: torch.Tensor, batch: int = 500) -> dict[str, np.ndarray]:
        """The factors of images (N, C, H, W) in [-1, 1], in their own units (float64)."""
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(images), batch):
                outputs.append(self.encode(images[start:start + batch].to(self.device, self.dtype)).double().cpu())
        scaled = torch.cat(outputs).numpy()
        low, high = np.array(self.ranges).T
        values = (scaled + 1) / 2 * (high - low) + low
        return {name: values[:, i] for i, name in enumerate(self.scm.factors)}
