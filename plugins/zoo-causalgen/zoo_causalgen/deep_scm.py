"""``deep-scm``: a deep structural causal model learned from a user's labelled images.

After Pawlowski, Castro & Glocker 2020 ("Deep Structural Causal Models for Tractable
Counterfactual Inference"): the attributes' mechanisms are learned invertible flows and
Gumbel-max mechanisms (``mechanisms.py``), the image's mechanism a conditional VAE whose latent
is the image's exogenous noise. Abduction of an image inverts the flows and reads the latent
with the VAE's encoder (its posterior mean); a counterfactual is abduct, act, predict.

The model also holds one anti-causal **predictor** per attribute (image -> attribute), trained
on the same training split: it reads the attributes of an image given without them (a
counterfactual of a user's picture) and is the judge of ``zoo eval``'s soundness metrics.

Shapes: images (N, C, H, W) in [-1, 1]; any H, W (the networks halve them while both are even
and at least 8, at most 4 times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import torch
from torch import nn

from zoo_core import ConfigError

from .interface import CausalGenerator
from .mechanisms import AttributeSpec, TorchSCM
from .scm import SCM

__all__ = ["DeepSCM", "DeepSCMConfig", "AttributeSpec"]


@dataclass
class DeepSCMConfig:
    # in a topological order; the default (one attribute in [-1, 1] causing the image) is only a
    # model to build and check: zoo train deep-scm fits every attribute from the data
    attributes: list[AttributeSpec] = field(default_factory=lambda: [AttributeSpec(
        "x", "continuous", [], -1.0, 1.0, knots_x=[-1.0, 1.0], knots_y=[-1.0, 1.0])])
    image_parents: list[str] = field(default_factory=lambda: ["x"])
    channels: int = 1
    height: int = 28
    width: int = 28
    latent_dim: int = 16  # the image noise: small, so the attributes (given for free) carry what they can
    base_channels: int = 16  # the first convolution's channels, then twice that (small: CPUs train it)
    hidden: int = 64  # width of the attribute mechanisms' networks
    predictor_channels: int = 8
    # 3x3 convolutions per decoder stage; 0: two when both sides are at least 64 pixels (the
    # pendulum's thin rods were learned with two), else one (a 28x28 budget on CPUs has no room)
    stage_convs: int = 0

    def __post_init__(self) -> None:
        if not self.attributes:
            raise ConfigError("attributes: at least one attribute")
        names = [a.name for a in self.attributes]
        for a in self.attributes:
            if a.kind not in ("continuous", "binary", "categorical"):
                raise ConfigError(f"attributes.{a.name}.kind: {a.kind!r} is not continuous, binary or categorical")
            for p in a.parents:
                if p not in names[:names.index(a.name)]:
                    raise ConfigError(f"attributes.{a.name}.parents: {p!r} must be an attribute listed before it")
        for p in self.image_parents:
            if p not in names:
                raise ConfigError(f"image_parents: {p!r} is not an attribute")
        if self.channels not in (1, 3) or min(self.height, self.width) < 4:
            raise ConfigError("channels must be 1 or 3, height and width at least 4")
        if self.latent_dim < 1 or self.base_channels < 1 or self.hidden < 1:
            raise ConfigError("latent_dim, base_channels and hidden must be positive")
        if self.stage_convs not in (0, 1, 2):
            raise ConfigError(f"stage_convs: {self.stage_convs} is not 0 (by the image size), 1 or 2")

    @property
    def convolutions_per_stage(self) -> int:
        """``stage_convs``, or by the image size when it is 0."""
        return self.stage_convs or (2 if min(self.height, self.width) >= 64 else 1)


def halvings(height: int, width: int) -> int:
    """How many stride-2 stages the networks use: while both sides are even and at least 8, <= 4."""
    n = 0
    while n < 4 and height % 2 == 0 and width % 2 == 0 and min(height, width) >= 8:
        height, width, n = height // 2, width // 2, n + 1
    return n


def _widths(base: int, stages: int) -> list[int]:
    """Output channels of each halving: ``base``, then twice that (kept small: this trains on CPUs)."""
    return [base * min(2 ** i, 2) for i in range(stages)] or [base]


class ConvTrunk(nn.Module):
    """Stride-2 convolutions down to the smallest map, flattened: (N, C, H, W) -> (N, features)."""

    def __init__(self, channels: int, height: int, width: int, base: int) -> None:
        super().__init__()
        stages = halvings(height, width)
        layers: list[nn.Module] = []
        c_in = channels
        for c_out in _widths(base, stages)[:stages]:
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.SiLU()]
            c_in = c_out
        if not stages:  # an odd-sized image: one plain convolution
            layers += [nn.Conv2d(c_in, base, 3, padding=1), nn.SiLU()]
            c_in = base
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.features = c_in * (height >> stages) * (width >> stages)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)


class ImageEncoder(nn.Module):
    """q(z | image, attributes): the posterior mean and log-variance of the image noise."""

    def __init__(self, config: DeepSCMConfig, code: int) -> None:
        super().__init__()
        self.trunk = ConvTrunk(config.channels, config.height, config.width, config.base_channels)
        self.head = nn.Sequential(nn.Linear(self.trunk.features + code, 256), nn.SiLU(),
                                  nn.Linear(256, 2 * config.latent_dim))

    def forward(self, images: torch.Tensor, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.head(torch.cat([self.trunk(images), code], dim=1)).chunk(2, dim=1)
        return mean, log_var.clamp(-12, 6)


def coordinate_grid(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """(1, 2, H, W): each pixel's x and y, from -1 to 1 across the map."""
    ys = torch.linspace(-1, 1, height, device=like.device, dtype=like.dtype)
    xs = torch.linspace(-1, 1, width, device=like.device, dtype=like.dtype)
    return torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1])[None]


class _UpStage(nn.Module):
    """Double the map (nearest neighbour, then a 3x3 convolution: no transposed convolution's
    checkerboard for a judge to be fooled by), with ``convs=2`` then a second 3x3 convolution.
    The attributes and noise reach every stage as a per-channel scale and shift (FiLM, Perez et
    al. 2018), so the decoder cannot lose them; the pixel coordinates reach each convolution as
    a learned linear ramp per channel (what CoordConv's coordinate channels contribute, Liu et
    al. 2018). Without them a convolution is blind to where it is, and drawing a thin shape whose
    place an attribute sets (a rod at an angle, a shadow's end) is left to memorising every
    place: on the pendulum exported as user data, a decoder without ramps (and with one
    convolution per stage) drew no rod at all (17 dB); with them, 36 dB."""

    def __init__(self, c_in: int, c_out: int, code: int, convs: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.film = nn.Linear(code, 2 * c_out)
        self.ramp1 = nn.Conv2d(2, c_out, 1, bias=False)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1) if convs == 2 else None
        self.ramp2 = nn.Conv2d(2, c_out, 1, bias=False) if convs == 2 else None

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(code)[:, :, None, None].chunk(2, dim=1)
        x = self.conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))
        grid = coordinate_grid(x.shape[2], x.shape[3], x)
        x = nn.functional.silu(x * (1 + scale) + shift + self.ramp1(grid))
        if self.conv2 is None or self.ramp2 is None:
            return x
        return nn.functional.silu(self.conv2(x) + self.ramp2(grid))


#: how far the decoder's picture reaches past [0, 1] each side, before the gain and offset
_OVERSHOOT = 0.05


class ImageDecoder(nn.Module):
    """p(image | z, attributes): a linear map to the smallest grid, stride-2 stages, a 3x3
    convolution to a picture in [0, 1], then a per-channel gain and offset of the *attributes*
    alone (``pixel = picture * gain + offset * (1 - gain)``): a global grey level or contrast,
    common in labelled images (a stroke's intensity, an exposure), is then one multiplication the
    decoder applies to any shape, including shapes it never saw at that level. (Without the
    offset an independent judge scored do(intensity) worse, 8.2 grey levels off instead of 6.3,
    though the offset lifts the background of some dimmed thick strokes to grey.) The picture
    spans a little more than [0, 1] (``_OVERSHOOT``): with the gain a sigmoid below 1, a white
    background (0.95 at the start) was otherwise out of reach, and a pixel over 1 is clipped when
    the image is saved."""

    def __init__(self, config: DeepSCMConfig, code: int) -> None:
        super().__init__()
        stages = halvings(config.height, config.width)
        widths = list(reversed(_widths(config.base_channels, stages)))  # e.g. 28x28: 32 @ 7x7, 16 @ 14x14
        outs = widths[1:] + [config.base_channels]
        self.grid = (widths[0], config.height >> stages, config.width >> stages)
        total = config.latent_dim + code
        self.start = nn.Sequential(nn.Linear(total, 256), nn.SiLU(),
                                   nn.Linear(256, widths[0] * self.grid[1] * self.grid[2]))
        convs = config.convolutions_per_stage
        self.stages = nn.ModuleList(_UpStage(c_in, c_out, total, convs) for c_in, c_out in zip(widths[:stages], outs))
        last = outs[stages - 1] if stages else widths[0]
        self.out = nn.Conv2d(last, config.channels, 3, padding=1)
        self.level = nn.Linear(max(code, 1), 2 * config.channels)
        nn.init.zeros_(self.level.weight)
        nn.init.constant_(self.level.bias, 3.0)  # gain 0.95 at the start
        nn.init.constant_(self.level.bias[config.channels:], -3.0)  # offset 0.05
        self.code_size = code

    def forward(self, z: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        both = torch.cat([z, code], dim=1)
        x = nn.functional.silu(self.start(both)).view(len(z), *self.grid)
        for stage in self.stages:
            x = stage(x, both)
        picture = torch.sigmoid(self.out(x)) * (1 + 2 * _OVERSHOOT) - _OVERSHOOT
        level = self.level(code if self.code_size else code.new_zeros(len(code), 1))
        gain, offset = torch.sigmoid(level)[:, :, None, None].chunk(2, dim=1)
        return (picture * gain + offset * (1 - gain)) * 2 - 1


class Predictor(nn.Module):
    """Anti-causal: image -> one attribute (its normalised value, or its categories' logits).

    Besides the convolutional features, each channel's spatial maximum and mean, of the image
    and of the first feature map: a grey level or an amount of ink is then one step away (a
    stroke's intensity was read 5 grey levels off without them)."""

    def __init__(self, config: DeepSCMConfig, outputs: int) -> None:
        super().__init__()
        self.trunk = ConvTrunk(config.channels, config.height, config.width, config.predictor_channels)
        first = int(self.trunk.body[0].out_channels)  # type: ignore[arg-type]
        self.embed = nn.Sequential(nn.Linear(self.trunk.features + 2 * (config.channels + first), 64), nn.SiLU())
        self.head = nn.Linear(64, outputs)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        first = self.trunk.body[1](self.trunk.body[0](images))
        pooled = [images.amax(dim=(2, 3)), images.mean(dim=(2, 3)), first.amax(dim=(2, 3)), first.mean(dim=(2, 3))]
        rest = self.trunk.body[2:](first)
        return self.embed(torch.cat([rest, *pooled], dim=1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


class DeepSCM(CausalGenerator):
    """Learned attribute mechanisms + a conditional VAE for the image + anti-causal predictors."""

    config_class = DeepSCMConfig
    working_bytes_per_pixel = 4096.0

    def __init__(self, config: DeepSCMConfig) -> None:
        super().__init__(config)
        self.attributes = TorchSCM(config.attributes, config.image_parents, config.hidden)
        code = self.attributes.image_code_size
        self.encoder = ImageEncoder(config, code)
        self.decoder = ImageDecoder(config, code)
        self.predictors = nn.ModuleDict({a.name: Predictor(config, a.code_size) for a in config.attributes})

    @cached_property
    def scm(self) -> SCM:  # type: ignore[override]
        from .learned_scm import learned_scm

        return learned_scm(self.attributes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.config.channels, self.config.height, self.config.width)

    @property
    def image_noise_dim(self) -> int:
        return self.config.latent_dim

    def image_code(self, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.attributes.image_code({k: v.float() for k, v in values.items()}).to(self.dtype)

    def render(self, factors: Mapping[str, torch.Tensor], image_noise: torch.Tensor | None = None) -> torch.Tensor:
        if image_noise is None:
            raise ValueError("deep-scm draws an image from its attributes and its image noise (N, latent_dim)")
        return self.decoder(image_noise.to(self.dtype), self.image_code(factors))

    def predict(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each attribute as the predictors read it, in its own units (a category's value)."""
        out = {}
        for spec in self.config.attributes:
            raw = self.predictors[spec.name](images).float()
            mechanism: Any = self.attributes.mechanisms[spec.name]
            if spec.discrete:
                out[spec.name] = mechanism.values[raw.argmax(dim=1)]
            else:
                out[spec.name] = mechanism.denormalise(raw[:, 0]).clamp(spec.low, spec.high)
        return out

    def abduct_image(self, images: torch.Tensor, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The image noise: the encoder's posterior mean given the image and its attributes."""
        return self.encoder(images, self.image_code(values))[0]

    def read(self, images: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        values = self.predict(images)
        return values, self.abduct_image(images, values)
