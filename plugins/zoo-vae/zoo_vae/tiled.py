"""What zoo's Hub autoencoders share: scaled random latents for sampling, and encode/decode hooks.

Tiling is the core's (``zoo_core.Autoencoder.encode_tiled``/``decode_tiled``, ``--tile``):
these architectures declare ``tiling=True`` because they are fully convolutional with
latents at ``1 / downsampling`` of the image size.
"""

from __future__ import annotations

import torch

import zoo_core
from zoo_core import InputError

__all__ = ["TiledAutoencoder"]


class TiledAutoencoder(zoo_core.Autoencoder):
    """What the KL and tiny autoencoders share."""

    # like diffusers' decoders, these end without a bound: outputs slightly beyond [-1, 1] are
    # clamped by sample() and zoo run (and by diffusers' image processor)
    decode_range = None

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def size_multiple(self) -> int:  # type: ignore[override]
        return self.config.downsampling

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Latents (N, L, H/f, W/f), not multiplied by ``scaling_factor``."""
        return self._encode(images)

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (N, C, H, W), about [-1, 1]."""
        if labels is not None:
            raise InputError("this autoencoder is unconditional; it takes no label")
        return self._decode(latents)

    def latents_from_noise(self, noise: torch.Tensor) -> torch.Tensor:
        """Random unit-variance latents divided by ``latent_scale``: what ``sample`` decodes. Textures,
        not pictures (the prior of a diffusion VAE is not a model of images); useful to check a model runs."""
        return noise / self.latent_scale

    @property
    def latent_scale(self) -> float:
        """Random unit-variance latents are divided by this before decoding."""
        return 1.0

    @property
    def latent_shape(self) -> tuple[int, ...]:
        side = self.config.sample_size // self.config.downsampling
        return (self.config.latent_channels, side, side)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.config.in_channels, self.config.sample_size, self.config.sample_size)
