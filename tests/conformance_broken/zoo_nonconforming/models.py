"""A tiny generator and autoencoder that conform, and subclasses that each break one contract."""

from dataclasses import dataclass

import torch
from torch import nn

import zoo_core


@dataclass
class TinyConfig:
    latent_dim: int = 4
    size: int = 4
    scale: float = 1.0


class Good(zoo_core.Generator):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.linear = nn.Linear(config.latent_dim, config.size * config.size)

    @property
    def latent_shape(self):
        return (self.config.latent_dim,)

    @property
    def image_shape(self):
        return (1, self.config.size, self.config.size)

    def decode(self, latents, labels=None):
        return torch.tanh(self.linear(latents) * self.config.scale).view(-1, *self.image_shape)


class NotAGenerator(nn.Module):
    config_class = TinyConfig


@dataclass
class DoublingConfig(TinyConfig):
    def __post_init__(self):
        self.scale = self.scale * 2  # applied again every time the config is rebuilt from its dict


class MutatingConfig(Good):
    config_class = DoublingConfig


class UnsavedBuffer(Good):
    def __init__(self, config):
        super().__init__(config)
        self.register_buffer("window", torch.ones(config.size), persistent=False)


class WrongShape(Good):
    def decode(self, latents, labels=None):
        return super().decode(latents)[:, :, :2, :2]  # image_shape says size x size


class WrongDtype(Good):
    def decode(self, latents, labels=None):
        return super().decode(latents).double()


class Unclamped(Good):
    def decode(self, latents, labels=None):
        return super().decode(latents) * 3

    def sample(self, num, seed=0, labels=None, batch_size=None):
        return self.decode(self.sample_latents(num, seed))  # forgets the clamp


class Unseeded(Good):
    def sample_latents(self, num, seed=0):
        return torch.randn(num, *self.latent_shape)  # ignores the seed


class Float32Only(Good):
    def decode(self, latents, labels=None):
        return torch.tanh(self.linear(latents.float())).view(-1, *self.image_shape)


class CpuOnly(Good):
    def decode(self, latents, labels=None):
        return super().decode(latents + torch.zeros(self.config.latent_dim, dtype=latents.dtype))  # on the CPU


class NanDecode(Good):
    def decode(self, latents, labels=None):
        images = super().decode(latents).clone()
        images[:, :, 0, 0] = float("nan")
        return images


@dataclass
class TinyAEConfig:
    channels: int = 1
    latent_channels: int = 2
    size: int = 8


class GoodAutoencoder(zoo_core.Autoencoder):
    config_class = TinyAEConfig
    size_multiple = 2

    def __init__(self, config):
        super().__init__(config)
        self.down = nn.Conv2d(config.channels, config.latent_channels, 2, stride=2)
        self.up = nn.ConvTranspose2d(config.latent_channels, config.channels, 2, stride=2)

    @property
    def latent_shape(self):
        return (self.config.latent_channels, self.config.size // 2, self.config.size // 2)

    @property
    def image_shape(self):
        return (self.config.channels, self.config.size, self.config.size)

    def encode(self, images):
        return self.down(images)

    def decode(self, latents, labels=None):
        return torch.tanh(self.up(latents))


class WrongLatentShape(GoodAutoencoder):
    @property
    def latent_shape(self):
        return (self.config.latent_channels, self.config.size, self.config.size)  # encode halves the size

    def decode(self, latents, labels=None):
        return torch.tanh(self.up(latents))[..., : self.config.size, : self.config.size]


class TupleEncoder(zoo_core.Encoder):
    config_class = TinyAEConfig

    def __init__(self, config):
        super().__init__(config)
        self.down = nn.Conv2d(config.channels, 2 * config.latent_channels, 2, stride=2)

    @property
    def input_channels(self):
        return self.config.channels

    def encode(self, images):
        return self.down(images).chunk(2, dim=1)  # (mean, logvar), not the latents


class NoisyEncoder(TupleEncoder):
    def encode(self, images):
        mean, logvar = super().encode(images)
        return mean + torch.randn_like(mean) * (0.5 * logvar).exp()  # a posterior sample, not its mean


class NoTanh(Good):
    """Forgets the final tanh (decode ranges over about ±7): Generator.sample() would hide it by clamping."""

    def decode(self, latents, labels=None):
        return (self.linear(latents) * 4).view(-1, *self.image_shape)


class UnboundedUpscaler(zoo_core.ImageToImage):
    """An x2 upscaler whose transform() overshoots [-1, 1] (apply() would hide it by clamping)."""

    config_class = TinyConfig
    scale = 2

    def __init__(self, config):
        super().__init__(config)
        self.gain = nn.Parameter(torch.tensor(3.0))

    @property
    def input_channels(self):
        return 1

    def transform(self, images):
        return nn.functional.interpolate(images, scale_factor=2) * self.gain


class ShrinkingUpscaler(UnboundedUpscaler):
    """Declares x2 but returns the input size."""

    def transform(self, images):
        return images.tanh()
