"""``scene-causal-generator``: a scene's SCM with a convolutional image mechanism learned from renders.

The SCM is the scene's own (``zoo_causalgen.scenes``): its mechanisms are known equations.
What is learned is the image mechanism: a decoder from the factors (each scaled to [-1, 1]
over its support) to pixels, and an encoder from pixels back to the factors. The decoder
starts from a 4x4 map and doubles it to the image size; every stage sees the factors (as a
per-channel scale and shift) and the pixel coordinates (as a learned ramp per channel, the
effect of CoordConv's coordinate channels, Liu et al. 2018), so placing a thin rod or a
shadow's end is a local computation rather than something to memorise. The scene's renderer
only makes the training data and the exact truth for evaluation; ``zoo run`` never calls it.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

import torch
from torch import nn

from zoo_core import ConfigError

from .interface import CausalGenerator
from .scenes import SCENES, scene_scm
from .scm import SCM

__all__ = ["SceneCausalGenerator", "SceneCausalGeneratorConfig", "scene_scm"]

@dataclass
class SceneCausalGeneratorConfig:
    scene: str = "pendulum"
    sigma: float = 1.0  # the scene's noise scale (its SCM's sigma)
    image_size: int = 64
    channels: int = 3
    width: int = 32  # channels of the widest decoder stage / 8
    image_noise_dim: int = 0

    def __post_init__(self) -> None:
        if self.scene not in SCENES:
            raise ConfigError(f"scene {self.scene!r}: known scenes are {', '.join(SCENES)}")
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise ConfigError(f"image_size {self.image_size}: must be a power of two, at least 8")
        if self.channels not in (1, 3):
            raise ConfigError(f"channels {self.channels}: must be 1 or 3")
        if self.width < 1 or self.image_noise_dim < 0 or self.sigma < 0:
            raise ConfigError("width must be positive; image_noise_dim and sigma at least 0")


def _coordinates(size: int, batch: int, like: torch.Tensor) -> torch.Tensor:
    axis = torch.linspace(-1, 1, size, device=like.device, dtype=like.dtype)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs, ys]).expand(batch, 2, size, size)


class _Stage(nn.Module):
    """Double the map (a transposed convolution), then a 3x3 convolution. The factors reach
    every stage as a per-channel scale and shift (FiLM, Perez et al. 2018), the pixel
    coordinates as a learned linear ramp per channel: what CoordConv's extra input channels
    contribute, without copying them into every activation."""

    def __init__(self, in_channels: int, out_channels: int, code: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1)
        self.film = nn.Linear(code, 2 * out_channels)
        self.ramp1 = nn.Conv2d(2, out_channels, 1, bias=False)
        self.conv = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.ramp2 = nn.Conv2d(2, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        grid = _coordinates(x.shape[-1], 1, x)
        scale, shift = self.film(code).chunk(2, dim=1)
        x = nn.functional.silu(x * (1 + scale[:, :, None, None]) + shift[:, :, None, None] + self.ramp1(grid))
        return nn.functional.silu(self.conv(x) + self.ramp2(grid))


class Decoder(nn.Module):
    def __init__(self, code: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        stages = int(math.log2(size // 4))
        widths = [min(8 * width, width * 2 ** (stages - i)) for i in range(stages + 1)]
        self.start = nn.Linear(code, widths[0] * 16)
        self.widths = widths
        self.stages = nn.ModuleList(_Stage(widths[i], widths[i + 1], code) for i in range(stages))
        self.out = nn.Conv2d(widths[-1], channels, 3, padding=1)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        x = nn.functional.silu(self.start(code)).view(len(code), self.widths[0], 4, 4)
        for stage in self.stages:
            x = stage(x, code)
        return torch.tanh(self.out(x))


class Encoder(nn.Module):
    def __init__(self, outputs: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in, c_out, s = channels + 2, width, size
        while s > 4:
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.GroupNorm(min(8, c_out), c_out), nn.SiLU(),
                       nn.Conv2d(c_out, c_out, 3, padding=1), nn.SiLU()]
            c_in, c_out, s = c_out, min(8 * width, c_out * 2), s // 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * 16, 256), nn.SiLU(), nn.Linear(256, outputs))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        n, _, size, _ = images.shape
        return self.head(self.body(torch.cat([images, _coordinates(size, n, images)], dim=1)))


class SceneCausalGenerator(CausalGenerator):
    """A scene's SCM plus a learned decoder (factors -> image) and encoder (image -> factors)."""

    config_class = SceneCausalGeneratorConfig
    working_bytes_per_pixel = 2048.0

    def __init__(self, config: SceneCausalGeneratorConfig) -> None:
        super().__init__(config)
        n = len(self.scm.factors)
        self.decoder = Decoder(n + config.image_noise_dim, config.channels, config.image_size, config.width)
        # the encoder reads the factors and, for image noise, its posterior mean and log-variance (a VAE)
        self.encoder = Encoder(n + 2 * config.image_noise_dim, config.channels, config.image_size, config.width)
        # each factor's support, for scaling (plain numbers: nothing to load, safe on the meta device)
        self.ranges = [(max(m.support[0], -1e6), min(m.support[1], 1e6)) for m in self.scm.mechanisms]

    @cached_property
    def scm(self) -> SCM:  # type: ignore[override]
        return scene_scm(self.config.scene, self.config.sigma)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.config.channels, self.config.image_size, self.config.image_size)

    @property
    def not_intervenable(self) -> tuple[str, ...]:  # type: ignore[override]
        """The scene's factors that are properties of its image noise (e.g. a garment's class)."""
        module = importlib.import_module(f"zoo_causalgen.scenes.{self.config.scene}")
        return tuple(getattr(module, "NOT_INTERVENABLE", ()))

    @property
    def image_noise_dim(self) -> int:
        return self.config.image_noise_dim

    def _bounds(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        low, high = torch.tensor(self.ranges, dtype=torch.float32, device=like.device).unbind(1)
        return low, high

    def scale(self, factors: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(N, factors) scaled to [-1, 1] over each factor's support, in float32."""
        values = torch.stack([factors[name].float() for name in self.scm.factors], dim=1)
        low, high = self._bounds(values)
        return (values - low) / (high - low) * 2 - 1

    def unscale(self, scaled: torch.Tensor) -> dict[str, torch.Tensor]:
        low, high = self._bounds(scaled)
        values = (scaled.float() + 1) / 2 * (high - low) + low
        return {name: values[:, i] for i, name in enumerate(self.scm.factors)}

    def render(self, factors: Mapping[str, torch.Tensor], image_noise: torch.Tensor | None = None) -> torch.Tensor:
        code = self.scale(factors).to(self.dtype)
        if self.image_noise_dim:
            if image_noise is None:
                raise ValueError("this model needs image noise")
            code = torch.cat([code, image_noise.to(code)], dim=1)
        return self.decoder(code)

    def read(self, images: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        out = self.encoder(images)
        n, d = len(self.scm.factors), self.image_noise_dim
        return self.unscale(out[:, :n]), (out[:, n:n + d] if d else None)  # image noise: the posterior mean

    def training_losses(self, images: torch.Tensor, codes: torch.Tensor) -> dict[str, torch.Tensor]:
        """Decoder pixel MSE (from the true factors, and the image noise sampled from the encoder's
        posterior), encoder factor MSE, and the posterior's KL to N(0, I) per pixel (0 without image noise)."""
        out = self.encoder(images)
        n, d = len(self.scm.factors), self.image_noise_dim
        factor = ((out[:, :n] - codes) ** 2).mean()
        code, kl = codes, images.new_zeros(())
        if d:
            mean, log_var = out[:, n:n + d], out[:, n + d:].clamp(-10, 10)
            noise = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
            code = torch.cat([codes, noise], dim=1)
            kl = 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum(dim=1).mean() / images[0].numel()
        pixel = ((self.decoder(code) - images) ** 2).mean()
        return {"pixel": pixel, "factor": factor, "kl": kl}
