"""What zoo's Hub autoencoders share: tiled encode/decode, and reconstruct and sample that take tiles.

``zoo run`` hands an architecture's own options (``--tile``, ``--tile-overlap``) to ``reconstruct``
and ``sample`` as keywords, so both accept them here.
"""

from __future__ import annotations

import torch

import zoo_core
from zoo_core.errors import InputError
from zoo_core.interfaces import seeded_noise, slerp

from .tiling import tiled_map

__all__ = ["TiledAutoencoder"]


class TiledAutoencoder(zoo_core.Autoencoder):
    """What the KL and tiny autoencoders share: tiled encode/decode, reconstruct and sample with tiles."""

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def size_multiple(self) -> int:  # type: ignore[override]
        return self.config.downsampling

    def encode(self, images: torch.Tensor, tile: int = 0, tile_overlap: int = 32) -> torch.Tensor:
        """Latents (N, L, H/f, W/f), not multiplied by ``scaling_factor``; ``tile`` > 0 encodes in tiles."""
        if not tile:
            return self._encode(images)
        f = self.size_multiple
        return tiled_map(self._encode, images, tile=tile, overlap=tile_overlap, scale=1 / f, multiple=f)

    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None, tile: int = 0,
               tile_overlap: int = 32) -> torch.Tensor:
        """Images (N, C, H, W), about [-1, 1]; ``tile`` > 0 (pixels) decodes in tiles."""
        if labels is not None:
            raise InputError("this autoencoder is unconditional; it takes no label")
        if not tile:
            return self._decode(latents)
        f = self.size_multiple
        if tile % f or tile_overlap % f:
            raise InputError(f"--tile {tile} and --tile-overlap {tile_overlap} must be multiples of {f}")
        return tiled_map(self._decode, latents, tile=tile // f, overlap=tile_overlap // f, scale=f, multiple=1)

    @torch.inference_mode()
    def reconstruct(self, images: torch.Tensor, tile: int = 0, tile_overlap: int = 32) -> torch.Tensor:
        self.check_images(images)
        latents = self.encode(images, tile=tile, tile_overlap=tile_overlap)
        return self.decode(latents, tile=tile, tile_overlap=tile_overlap).clamp(-1, 1)

    @torch.inference_mode()
    def sample(self, num: int, seed: int = 0, labels: int | torch.Tensor | None = None,
               batch_size: int | None = None, tile: int = 0, tile_overlap: int = 32) -> torch.Tensor:
        """Decode random latents from ``seed``: textures, not pictures (the prior of a diffusion VAE is not
        a model of images); useful to check a model runs."""
        latents = self.sample_latents(num, seed) / self.latent_scale
        self._labels(num, labels)
        step = batch_size or num
        if step <= 0:
            raise InputError(f"batch size must be positive, got {step}")
        return torch.cat([self.decode(latents[i:i + step], tile=tile, tile_overlap=tile_overlap).clamp(-1, 1)
                          for i in range(0, num, step)])

    @torch.inference_mode()
    def interpolate(self, seed: int, to_seed: int, frames: int = 8, labels: int | None = None) -> torch.Tensor:
        """Decode the spherical path between two seeds' random latents (scaled like ``sample``'s)."""
        if frames < 2:
            raise InputError(f"frames must be at least 2, got {frames}")
        self._labels(frames, labels)
        start = seeded_noise(tuple(self.latent_shape), seed)
        end = seeded_noise(tuple(self.latent_shape), to_seed)
        path = slerp(start, end, torch.linspace(0, 1, frames)).to(self.device, self.dtype)
        return self.decode(path / self.latent_scale).clamp(-1, 1)

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
