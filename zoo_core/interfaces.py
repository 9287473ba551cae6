"""The image interfaces: ``Generator``, ``Encoder``, ``Autoencoder`` and ``ImageToImage``.

Images are float NCHW tensors in [-1, 1]. A model is an ``nn.Module`` built from a config
dataclass (``config_class``); its ``state_dict()`` layout is the layout its safetensors
files use. Noise is drawn on the CPU from a generator seeded with the seed and then moved,
so one seed gives the same latents on every device.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from .config import build_config, config_to_dict
from .errors import InputError

__all__ = ["Model", "Generator", "Encoder", "Autoencoder", "ImageToImage", "seeded_noise", "seeded_noise_batches",
           "slerp"]

#: torch's CPU normal sampler transforms uniforms in blocks of this many values (see seeded_noise_batches).
_NORMAL_BLOCK = 16


def seeded_noise(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Standard normal noise of ``shape`` drawn on the CPU from ``seed`` (device-independent)."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn(shape, generator=generator, dtype=torch.float32)


def seeded_noise_batches(item_shape: tuple[int, ...], num: int, seed: int, batch: int
                         ) -> Iterator[tuple[int, torch.Tensor]]:
    """``seeded_noise((num, *item_shape), seed)`` in pieces of ``batch`` items: ``(start, noise)``.

    The concatenated pieces equal the single draw exactly, so a run of a hundred million
    samples streams in constant memory and still gives every index the noise it would get
    at once. torch's CPU sampler fills uniforms one per value, then transforms them in
    blocks of 16 (and redraws the last block when the size is no multiple of 16), so every
    draw but the last spans a multiple of 16 values and the last at least 16 (a test checks
    this against the single draw).
    """
    if num <= 0:
        raise InputError(f"number of samples must be positive, got {num}")
    if batch <= 0:
        raise InputError(f"batch size must be positive, got {batch}")
    per_item = math.prod(item_shape)
    total = num * per_item
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    if total < 2 * _NORMAL_BLOCK or num <= batch:
        noise = torch.randn((num, *item_shape), generator=generator, dtype=torch.float32)
        for start in range(0, num, batch):
            yield start, noise[start:start + batch]
        return
    align = _NORMAL_BLOCK // math.gcd(_NORMAL_BLOCK, per_item)  # items per draw must be a multiple of this
    draw = max(align, -(-batch // align) * align)
    pending: list[torch.Tensor] = []
    produced = 0  # items drawn so far
    start = 0  # first item not yet yielded
    while produced < num:
        count = draw
        if num - produced - count < -(-_NORMAL_BLOCK // per_item) or produced + count >= num:
            count = num - produced  # the last draw: the rest, never fewer than 16 values
        pending.append(torch.randn((count, *item_shape), generator=generator, dtype=torch.float32))
        produced += count
        buffered = torch.cat(pending) if len(pending) > 1 else pending[0]
        offset = 0
        while buffered.shape[0] - offset >= batch or (produced == num and offset < buffered.shape[0]):
            piece = buffered[offset:offset + batch]
            yield start, piece
            start += piece.shape[0]
            offset += piece.shape[0]
        pending = [buffered[offset:]] if offset < buffered.shape[0] else []


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

    config_class: ClassVar[type]
    #: Bytes of activations per output pixel that one float32 forward pass holds at its peak
    #: (measured; 0 if unknown). The core scales it by the dtype to refuse runs that cannot
    #: fit in memory before they start, and to suggest ``--tile`` or ``--batch-size``.
    working_bytes_per_pixel: ClassVar[float] = 0.0

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
        """Where the model's tensors live (its first parameter's or buffer's device; cpu if none)."""
        for parameter in self.parameters():
            return parameter.device
        for buffer in self.buffers():
            return buffer.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """The floating-point type of its parameters (float32 if it has none)."""
        for tensor in self.parameters():
            return tensor.dtype
        return torch.float32


class Generator(Model):
    """Maps latents (and, if conditional, class labels) to images in [-1, 1]."""

    #: The range ``decode`` stays in, as returned (the conformance kit checks it before any
    #: clamping). None declares a decoder that is unbounded by design, e.g. a diffusion VAE's,
    #: which diffusers clamps afterwards; ``sample`` and ``zoo run`` clamp to [-1, 1] either way.
    decode_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "decode" in cls.__dict__ and not getattr(cls.decode, "__isabstractmethod__", False):
            from .shapes import checked_decode

            cls.decode = checked_decode(cls.__dict__["decode"])  # type: ignore[method-assign]

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
        """Images (N, C, H, W) in [-1, 1] from latents (N, *latent_shape).

        An architecture's own ``zoo run`` options arrive here as keywords (declare them as
        parameters). The output is checked, not clamped, by the conformance kit: end in a
        ``tanh`` or an equivalent bound.
        """

    def latents_from_noise(self, noise: torch.Tensor) -> torch.Tensor:
        """Prior latents from standard normal noise (default: the noise itself).

        A model whose prior is not N(0, I) maps it here (e.g. a diffusion VAE divides by its
        latent scaling factor); ``sample``, ``interpolate`` and ``zoo run`` all go through it.
        """
        return noise

    def sample_latents(self, num: int, seed: int = 0) -> torch.Tensor:
        """``num`` latents from ``seed``: drawn on the CPU, then moved to the model."""
        if num <= 0:
            raise InputError(f"number of samples must be positive, got {num}")
        noise = seeded_noise((num, *self.latent_shape), seed)
        return self.latents_from_noise(noise).to(device=self.device, dtype=self.dtype)

    def latent_batches(self, num: int, seed: int = 0, batch_size: int | None = None
                       ) -> Iterator[tuple[int, torch.Tensor]]:
        """``(start, latents)`` for ``num`` samples from ``seed``, ``batch_size`` at a time, on the model's
        device: the same latents ``sample_latents(num, seed)`` gives, without holding them all."""
        step = batch_size or num
        if type(self).sample_latents is not Generator.sample_latents:  # a model that draws its own latents
            latents = self.sample_latents(num, seed)
            for start in range(0, num, step):
                yield start, latents[start:start + step]
            return
        for start, noise in seeded_noise_batches(tuple(self.latent_shape), num, seed, step):
            yield start, self.latents_from_noise(noise).to(device=self.device, dtype=self.dtype)

    def labels_for(self, num: int, labels: int | torch.Tensor | None = None) -> torch.Tensor | None:
        """The class of each of ``num`` samples: one for all, one each, or cycling (None for
        unconditional models, which refuse labels)."""
        return self._labels(num, labels)

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
               batch_size: int | None = None, **options: Any) -> torch.Tensor:
        """``num`` images from ``seed``; all latents are drawn first, so the batch size does
        not change which latents each image gets (only float rounding may differ).

        Unconditional models take no labels; conditional ones take one class for all, one
        per sample, or none (cycling through the classes). ``options`` (an architecture's own
        ``zoo run`` options) are passed on to ``decode``.
        """
        label_tensor = self._labels(num, labels)
        step = batch_size or num
        if step <= 0:
            raise InputError(f"batch size must be positive, got {step}")
        chunks = []
        for start, latents in self.latent_batches(num, seed, step):
            batch_labels = None if label_tensor is None else label_tensor[start:start + len(latents)]
            chunks.append(self.decode(latents, batch_labels, **options).clamp(-1, 1))
        return torch.cat(chunks)

    @torch.inference_mode()
    def interpolate(self, seed: int, to_seed: int, frames: int = 8, labels: int | None = None,
                    **options: Any) -> torch.Tensor:
        """``frames`` images along the spherical path from ``seed``'s latent to ``to_seed``'s."""
        if frames < 2:
            raise InputError(f"frames must be at least 2, got {frames}")
        start = seeded_noise(tuple(self.latent_shape), seed)
        end = seeded_noise(tuple(self.latent_shape), to_seed)
        path = self.latents_from_noise(slerp(start, end, torch.linspace(0, 1, frames))).to(self.device, self.dtype)
        return self.decode(path, self._labels(frames, labels), **options).clamp(-1, 1)


class Encoder(Model):
    """Maps images in [-1, 1] to latents."""

    #: Input height and width must be multiples of this (the model's total downsampling).
    size_multiple: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "encode" in cls.__dict__ and not getattr(cls.encode, "__isabstractmethod__", False):
            from .shapes import checked_encode

            cls.encode = checked_encode(cls.__dict__["encode"])  # type: ignore[method-assign]

    @property
    @abc.abstractmethod
    def input_channels(self) -> int:
        """Channels the encoder expects (1 for greyscale, 3 for RGB)."""

    @property
    def input_size(self) -> tuple[int, int] | None:
        """(height, width) of the only images the model takes, or None when it takes any size (a
        multiple of ``size_multiple``). ``zoo run`` brings inputs of other sizes to it (``--resize``)."""
        return None

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
    """Both a ``Generator`` (decode latents) and an ``Encoder``; reconstructs images.

    An autoencoder whose architecture declares ``tiling=True`` is fully convolutional with
    spatial latents at ``1 / size_multiple`` of the image size; the core then encodes and
    decodes it tile by tile (``encode_tiled``, ``decode_tiled``, ``--tile``).
    """


    @property
    def input_channels(self) -> int:
        """Channels it reads: those of the images it makes."""
        return self.image_shape[0]

    def encode_tiled(self, images: torch.Tensor, tile: int, overlap: int = 32, progress: Any = None) -> torch.Tensor:
        """``encode`` on ``tile``-pixel tiles overlapping by ``overlap`` pixels (0: all at once)."""
        from .tiling import tiled_map

        if not tile:
            return self.encode(images)
        from .tiling import check_tiles

        f = int(self.size_multiple)
        check_tiles(tile, overlap, multiple=f)
        return tiled_map(self.encode, images, tile=tile, overlap=overlap, scale=1 / f, multiple=f, progress=progress)

    def decode_tiled(self, latents: torch.Tensor, tile: int, overlap: int = 32, progress: Any = None,
                     **options: Any) -> torch.Tensor:
        """``decode`` producing ``tile``-pixel tiles overlapping by ``overlap`` pixels (0: all at once);
        ``options`` are passed on to ``decode``."""
        from .tiling import tiled_map

        if not tile:
            return self.decode(latents, **options)
        from .tiling import check_tiles

        f = int(self.size_multiple)
        check_tiles(tile, overlap, multiple=f)  # in pixels, before they become latent units
        return tiled_map(lambda z: self.decode(z, **options), latents, tile=tile // f, overlap=overlap // f,
                         scale=f, progress=progress)

    @torch.inference_mode()
    def reconstruct(self, images: torch.Tensor, tile: int = 0, tile_overlap: int = 32) -> torch.Tensor:
        """decode(encode(images)), clamped to [-1, 1]; ``tile`` > 0 works tile by tile (see the class).

        An architecture's own ``zoo run`` options arrive here as keywords when it is given images:
        override this to take them.
        """
        self.check_images(images)
        if tile:
            latents = self.encode_tiled(images, tile, tile_overlap)
            return self.decode_tiled(latents, tile, tile_overlap).clamp(-1, 1)
        return self.decode(self.encode(images)).clamp(-1, 1)


class ImageToImage(Model):
    """Maps images in [-1, 1] to images in [-1, 1]: upscalers, restorers, colorizers.

    Implement ``transform(images)`` for one batch the model can take as it is, and declare
    the geometry: ``scale`` (output size over input size), and either ``size_multiple``
    (inputs of any size that is a multiple of it) or ``fixed_input_size`` (inputs of exactly
    that many pixels square, e.g. 64 for a tile-based upscaler). ``process`` then takes any
    image: it pads to a multiple, or runs fixed-size models tile by tile, and crops back.
    """

    #: Output height (and width) over input height.
    scale: ClassVar[int] = 1
    #: Inputs' height and width must be multiples of this (``process`` pads and crops).
    size_multiple: ClassVar[int] = 1
    #: Set for models that only take inputs of exactly this side (``process`` tiles).
    fixed_input_size: ClassVar[int | None] = None
    #: Overlap of the tiles ``process`` runs a fixed-size model on, in input pixels.
    default_tile_overlap: ClassVar[int] = 8

    @property
    @abc.abstractmethod
    def input_channels(self) -> int:
        """Channels the model reads (3 for RGB)."""

    @property
    def output_channels(self) -> int:
        """Channels it writes (by default as many as it reads)."""
        return self.input_channels

    @abc.abstractmethod
    def transform(self, images: torch.Tensor) -> torch.Tensor:
        """Images (N, C_out, H * scale, W * scale) for images (N, C_in, H, W) in [-1, 1] the model takes as
        they are (H and W a multiple of ``size_multiple``, or exactly ``fixed_input_size``)."""

    def check_images(self, images: torch.Tensor) -> None:
        """Raise ``InputError`` for images of the wrong rank or channel count."""
        if images.ndim != 4 or images.shape[1] != self.input_channels:
            raise InputError(f"expected images of shape (N, {self.input_channels}, H, W), got {tuple(images.shape)}")

    def tiling(self, tile: int = 0, tile_overlap: int | None = None) -> tuple[int, int]:
        """The ``(tile, overlap)`` in input pixels ``process`` works with (tile 0: the whole image),
        checked: a fixed-size model always uses its own size, and the overlap defaults to
        ``default_tile_overlap`` (at most a quarter of the tile)."""
        from .tiling import check_tiles

        fixed = self.fixed_input_size
        if fixed:
            if tile and tile != fixed:
                raise InputError(f"--tile {tile}: this model takes {fixed}-pixel tiles only; leave --tile out")
            tile = fixed
        if not tile:
            return 0, 0
        overlap = min(self.default_tile_overlap, tile // 4) if tile_overlap is None else tile_overlap
        check_tiles(tile, overlap, multiple=max(1, int(self.size_multiple)))
        return tile, overlap

    @torch.inference_mode()
    def process(self, images: torch.Tensor, *, tile: int = 0, tile_overlap: int | None = None,
              progress: Any = None, **options: Any) -> torch.Tensor:
        """``transform`` for images of any size, clamped to [-1, 1].

        ``tile`` > 0 runs it on tiles of that many input pixels (bounded memory: only the
        output grows with the image); a fixed-size model always runs on tiles of its size.
        Inputs are padded by reflection to what the model takes, and the output cropped.
        ``options`` (an architecture's own ``zoo run`` options) are passed on to ``transform``.
        """
        from .tiling import tiled_map

        self.check_images(images)
        height, width = images.shape[-2:]
        tile, overlap = self.tiling(tile, tile_overlap)
        m = max(1, int(self.size_multiple))
        need_h, need_w = -(-height // m) * m, -(-width // m) * m
        if tile:  # every tile must be whole: pad small images up to one tile
            need_h, need_w = max(need_h, tile), max(need_w, tile)
        padded = _reflect_pad(images, need_h, need_w)

        def run(batch: torch.Tensor) -> torch.Tensor:
            return self.transform(batch, **options)

        if tile:
            out = tiled_map(run, padded, tile=tile, overlap=overlap, scale=self.scale, multiple=m, progress=progress)
        else:
            out = run(padded)
            if progress is not None:
                progress.update(1)
        return out[:, :, :height * self.scale, :width * self.scale].clamp(-1, 1)


def _reflect_pad(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``images`` padded at the bottom and right to ``height`` x ``width`` (reflection, then edge
    replication where the image is too small to reflect)."""
    pad_h, pad_w = height - images.shape[-2], width - images.shape[-1]
    if pad_h == 0 and pad_w == 0:
        return images
    import torch.nn.functional as F

    out = images
    while pad_h > 0 or pad_w > 0:  # reflection pads at most size - 1 at a time
        step_h = min(pad_h, out.shape[-2] - 1)
        step_w = min(pad_w, out.shape[-1] - 1)
        if step_h <= 0 and step_w <= 0:
            return F.pad(out, (0, pad_w, 0, pad_h), mode="replicate")
        out = F.pad(out, (0, max(step_w, 0), 0, max(step_h, 0)), mode="reflect")
        pad_h, pad_w = pad_h - max(step_h, 0), pad_w - max(step_w, 0)
    return out
