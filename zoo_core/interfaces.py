"""The generative interfaces: ``Generator``, ``Encoder`` and ``Autoencoder``.

Images are float NCHW tensors in [-1, 1]. A model is an ``nn.Module`` built from a config
dataclass (``config_class``); its ``state_dict()`` layout is the layout its safetensors
files use. Noise is drawn on the CPU from a generator seeded with the seed and then moved,
so one seed gives the same latents on every device.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from .config import build_config, config_to_dict
from .errors import InputError

__all__ = ["Model", "Generator", "Encoder", "Autoencoder", "seeded_noise", "slerp"]


def seeded_noise(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Standard normal noise of ``shape`` drawn on the CPU from ``seed`` (device-independent)."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn(shape, generator=generator, dtype=torch.float32)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latents ``a`` and ``b`` (any shape) at fractions ``t`` (T,).

    Gaussian latents concentrate near a sphere, so a straight line between two of them passes
    through unlikely, low-norm points; the great-circle path stays where the model was trained.
    """
    flat_a, flat_b = a.reshape(-1).double(), b.reshape(-1).double()
    cos = torch.clamp(flat_a @ flat_b / (flat_a.norm() * flat_b.norm()), -1.0, 1.0)
    omega = torch.arccos(cos)
    t = t.double()[:, None]
    if omega.abs() < 1e-6:
        out = flat_a + (flat_b - flat_a) * t
    else:
        out = (torch.sin((1 - t) * omega) * flat_a + torch.sin(t * omega) * flat_b) / torch.sin(omega)
    return out.to(a.dtype).reshape(len(t), *a.shape)


class Model(nn.Module, abc.ABC):
    """Base of every zoo model: built from a validated config, loaded from safetensors."""

    task: ClassVar[str] = ""
    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    @classmethod
    def from_config(cls, values: Mapping[str, Any] | Any) -> Model:
        """Build the model from a config mapping (validated) or a config instance."""
        return cls(build_config(cls.config_class, values))

    def file_key_renames(self, file_keys: Collection[str]) -> dict[str, str]:
        """Names in a weights file written in an older layout, mapped to this model's state-dict names.

        Some published files name tensors the way an earlier release of their library did (e.g.
        diffusers' ``query``/``proj_attn`` attention names); a model maps them here, given every key
        in the file, and strict loading then checks the renamed set. Default: no renames.
        """
        return {}

    def config_dict(self) -> dict[str, Any]:
        """The config as a JSON-ready dict (for ``config.json``)."""
        return config_to_dict(self.config)

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        for tensor in self.parameters():
            return tensor.dtype
        return torch.float32


class Generator(Model):
    """Maps latents (and, if conditional, class labels) to images in [-1, 1]."""

    task: ClassVar[str] = "generator"

    @property
    @abc.abstractmethod
    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one latent, without the batch dimension."""

    @property
    @abc.abstractmethod
    def image_shape(self) -> tuple[int, int, int]:
        """Shape (C, H, W) of one generated image."""

    @property
    def num_classes(self) -> int:
        """Number of classes a conditional generator takes; 0 for unconditional ones."""
        return 0

    @abc.abstractmethod
    def decode(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1] from latents (N, *latent_shape)."""

    def sample_latents(self, num: int, seed: int = 0) -> torch.Tensor:
        """``num`` latents from ``seed``: drawn on the CPU, then moved to the model."""
        if num <= 0:
            raise InputError(f"number of samples must be positive, got {num}")
        noise = seeded_noise((num, *self.latent_shape), seed)
        return noise.to(device=self.device, dtype=self.dtype)

    def _labels(self, num: int, labels: int | torch.Tensor | None) -> torch.Tensor | None:
        if self.num_classes == 0:
            if labels is not None:
                raise InputError("this model is unconditional; it takes no label")
            return None
        if labels is None:
            values = torch.arange(num) % self.num_classes
        elif isinstance(labels, int):
            values = torch.full((num,), labels, dtype=torch.long)
        else:
            values = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
            if values.numel() != num:
                raise InputError(f"got {values.numel()} labels for {num} samples")
        if values.min() < 0 or values.max() >= self.num_classes:
            raise InputError(f"labels must be in 0..{self.num_classes - 1}")
        return values.to(self.device)

    @torch.inference_mode()
    def sample(self, num: int, seed: int = 0, labels: int | torch.Tensor | None = None,
               batch_size: int | None = None) -> torch.Tensor:
        """``num`` images from ``seed``; all latents are drawn first, so the batch size does
        not change which latents each image gets (only float rounding may differ).

        Unconditional models take no labels; conditional ones take one class for all, one
        per sample, or none (cycling through the classes).
        """
        latents = self.sample_latents(num, seed)
        label_tensor = self._labels(num, labels)
        step = batch_size or num
        if step <= 0:
            raise InputError(f"batch size must be positive, got {step}")
        chunks = []
        for start in range(0, num, step):
            batch_labels = None if label_tensor is None else label_tensor[start:start + step]
            chunks.append(self.decode(latents[start:start + step], batch_labels).clamp(-1, 1))
        return torch.cat(chunks)


    @torch.inference_mode()
    def interpolate(self, seed: int, to_seed: int, frames: int = 8, labels: int | None = None) -> torch.Tensor:
        """``frames`` images along the spherical path from ``seed``'s latent to ``to_seed``'s."""
        if frames < 2:
            raise InputError(f"frames must be at least 2, got {frames}")
        start = seeded_noise(tuple(self.latent_shape), seed)
        end = seeded_noise(tuple(self.latent_shape), to_seed)
        path = slerp(start, end, torch.linspace(0, 1, frames)).to(self.device, self.dtype)
        return self.decode(path, self._labels(frames, labels)).clamp(-1, 1)


class Encoder(Model):
    """Maps images in [-1, 1] to latents."""

    task: ClassVar[str] = "encoder"
    #: Input height and width must be multiples of this (the model's total downsampling).
    size_multiple: ClassVar[int] = 1

    @property
    @abc.abstractmethod
    def input_channels(self) -> int:
        """Channels the encoder expects (1 for greyscale, 3 for RGB)."""

    @abc.abstractmethod
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Latents for images (N, C, H, W) in [-1, 1] (a VAE returns its posterior mean)."""

    def check_images(self, images: torch.Tensor) -> None:
        """Raise ``InputError`` for images this encoder cannot take."""
        if images.ndim != 4 or images.shape[1] != self.input_channels:
            raise InputError(f"expected images of shape (N, {self.input_channels}, H, W), got {tuple(images.shape)}")
        h, w = images.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple or h < self.size_multiple:
            raise InputError(f"image size {h}x{w} must be a positive multiple of {self.size_multiple}")


class Autoencoder(Generator, Encoder):
    """Both a ``Generator`` (decode latents) and an ``Encoder``; reconstructs images."""

    task: ClassVar[str] = "autoencoder"

    @property
    def input_channels(self) -> int:
        return self.image_shape[0]

    @torch.inference_mode()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """decode(encode(images)), clamped to [-1, 1]."""
        self.check_images(images)
        return self.decode(self.encode(images)).clamp(-1, 1)
