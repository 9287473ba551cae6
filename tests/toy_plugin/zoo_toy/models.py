"""Toy architectures: small enough to test every zoo path in milliseconds."""

from dataclasses import dataclass

import torch
from torch import nn

import zoo_core


@dataclass
class ToyGeneratorConfig:
    latent_dim: int = 8  # size of one latent vector
    channels: int = 1  # 1 = greyscale
    size: int = 8  # images are size x size
    num_classes: int = 0  # > 0 makes the generator conditional


class ToyGenerator(zoo_core.Generator):
    config_class = ToyGeneratorConfig

    def __init__(self, config: ToyGeneratorConfig) -> None:
        super().__init__(config)
        c = config
        self.embed = nn.Embedding(c.num_classes, c.latent_dim) if c.num_classes else None
        self.linear = nn.Linear(c.latent_dim, c.channels * c.size * c.size)

    @property
    def latent_shape(self):
        return (self.config.latent_dim,)

    @property
    def image_shape(self):
        return (self.config.channels, self.config.size, self.config.size)

    @property
    def num_classes(self):
        return self.config.num_classes

    def decode(self, latents, labels=None, temperature=1.0):  # `zoo run --temperature T` arrives here
        latents = latents * temperature
        if self.embed is not None and labels is not None:
            latents = latents + self.embed(labels)
        return torch.tanh(self.linear(latents)).view(-1, *self.image_shape)  # (N, C, H, W)


@dataclass
class ToyAutoencoderConfig:
    channels: int = 3
    latent_channels: int = 2
    size: int = 8


class ToyAutoencoder(zoo_core.Autoencoder):
    config_class = ToyAutoencoderConfig
    size_multiple = 2

    def __init__(self, config: ToyAutoencoderConfig) -> None:
        super().__init__(config)
        self.encoder = nn.Conv2d(config.channels, config.latent_channels, 4, stride=2, padding=1)
        self.decoder = nn.ConvTranspose2d(config.latent_channels, config.channels, 4, stride=2, padding=1)

    @property
    def latent_shape(self):
        return (self.config.latent_channels, self.config.size // 2, self.config.size // 2)

    @property
    def image_shape(self):
        return (self.config.channels, self.config.size, self.config.size)

    def encode(self, images):
        return self.encoder(images)  # (N, latent_channels, H/2, W/2)

    def decode(self, latents, labels=None):
        return torch.tanh(self.decoder(latents))  # (N, C, H, W)


class ToyEncoder(zoo_core.Encoder):
    """The encoder half of ToyAutoencoder, as an encoder-only model."""

    config_class = ToyAutoencoderConfig
    size_multiple = 2

    def __init__(self, config: ToyAutoencoderConfig) -> None:
        super().__init__(config)
        self.encoder = nn.Conv2d(config.channels, config.latent_channels, 4, stride=2, padding=1)

    @property
    def input_channels(self):
        return self.config.channels

    def encode(self, images):
        return self.encoder(images)  # (N, latent_channels, H/2, W/2)


@dataclass
class ToyUpscalerConfig:
    channels: int = 3
    scale: int = 2  # output side / input side
    fixed: int = 0  # > 0: takes only fixed x fixed inputs (like a tile-based upscaler)


class ToyUpscaler(zoo_core.ImageToImage):
    """Nearest-neighbour upscaling plus a learned 3x3 correction: a local map, so tiles are exact."""

    config_class = ToyUpscalerConfig

    def __init__(self, config: ToyUpscalerConfig) -> None:
        super().__init__(config)
        self.correction = nn.Conv2d(config.channels, config.channels, 3, padding=1)
        self.scale = config.scale  # type: ignore[misc]
        self.fixed_input_size = config.fixed or None  # type: ignore[misc]

    @property
    def input_channels(self):
        return self.config.channels

    def transform(self, images):
        if self.fixed_input_size:
            assert images.shape[-2:] == (self.fixed_input_size, self.fixed_input_size), images.shape
        corrected = images + 0.1 * torch.tanh(self.correction(images))  # (N, C, H, W)
        up = nn.functional.interpolate(corrected, scale_factor=self.scale, mode="nearest")
        return up.clamp(-1, 1)  # (N, C, sH, sW)
