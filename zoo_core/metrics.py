"""Sample-quality metrics on features: Fréchet distance and kernel inception distance (KID).

Both compare two sets of feature vectors. Which network made the features matters: zoo's
plugins say which (e.g. a Fashion-MNIST classifier), and these are never Inception FID
unless the features really are Inception's.

For any images (a user's folder), ``HeldOutQuality`` scores generated images against a
held-out split in a ``FeatureSpace``: ``random_features()`` (a fixed, seeded random conv
network, no download) by default, or any zoo encoder by name (``feature_space(NAME)``),
with the floor (real training images against the same held-out images) beside the score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["frechet_distance", "kernel_distance", "FeatureSpace", "RandomFeatures", "random_features",
           "feature_space", "HeldOutQuality", "split_held_out", "blur", "add_noise"]


def _stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need at least 2 feature vectors (N, D), got shape {tuple(features.shape)}")
    x = features.double()
    mean = x.mean(0)
    centred = x - mean
    return mean, centred.T @ centred / (len(x) - 1)


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` and ``b`` (N, D).

    ||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2), in float64 via
    symmetric eigendecompositions, so it stays real and non-negative where sqrtm would not.
    """
    mu_a, cov_a = _stats(a)
    mu_b, cov_b = _stats(b)
    root_a = _sqrt_psd(cov_a)
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    value = (mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    return float(value.clamp(min=0))


def kernel_distance(a: torch.Tensor, b: torch.Tensor, *, subsets: int = 100, subset_size: int = 1000,
                    seed: int = 0) -> tuple[float, float]:
    """KID: unbiased MMD² with the kernel (x·y/d + 1)³, mean and std over random subsets."""
    generator = torch.Generator().manual_seed(seed)
    x, y = a.double(), b.double()
    m = min(subset_size, len(x), len(y))
    if m < 2:  # the unbiased estimate leaves out the diagonal: m(m-1) pairs
        raise ValueError(f"KID needs at least 2 feature vectors per set, got {len(x)} and {len(y)}")
    d = x.shape[1]
    values = []
    for _ in range(subsets):
        xs = x[torch.randperm(len(x), generator=generator)[:m]]
        ys = y[torch.randperm(len(y), generator=generator)[:m]]
        kxx = (xs @ xs.T / d + 1) ** 3
        kyy = (ys @ ys.T / d + 1) ** 3
        kxy = (xs @ ys.T / d + 1) ** 3
        off = m * (m - 1)
        values.append((kxx.sum() - kxx.diagonal().sum()) / off + (kyy.sum() - kyy.diagonal().sum()) / off
                      - 2 * kxy.mean())
    stacked = torch.stack(values)
    return float(stacked.mean()), float(stacked.std()) if len(values) > 1 else 0.0


# --- feature spaces and the held-out quality signal -------------------------------------------------------------

#: The random feature network sees images whose shorter side is in this range (others are resized).
RANDOM_FEATURES_SIDES = (16, 128)


class FeatureSpace(Protocol):
    """Maps images (N, C, H, W) in [-1, 1] to feature vectors (N, D), float32 on the CPU."""

    name: str

    def __call__(self, images: torch.Tensor) -> torch.Tensor: ...


def _as_rgb(images: torch.Tensor) -> torch.Tensor:
    """Grey repeated to three channels, alpha dropped: one input format for any image."""
    if images.ndim != 4 or images.shape[1] not in (1, 2, 3, 4):
        raise ValueError(f"expected images (N, C, H, W) with 1-4 channels, got shape {tuple(images.shape)}")
    channels = images.shape[1]
    if channels in (1, 2):  # grey (+ alpha)
        return images[:, :1].expand(-1, 3, -1, -1)
    return images[:, :3]


class RandomFeatures(nn.Module):
    """A fixed, seeded, untrained convolutional network: zoo's download-free feature space.

    Why random: a network with random weights still maps images through many local filters of
    every orientation and frequency, so the statistics of its responses move when images get
    blurred, noisy, blotchy or repetitive, and Fréchet/kernel distances in its space rank
    sample quality sensibly (Naeem et al. 2020 found random-init embeddings a reasonable
    FID backbone). Unlike a trained classifier it needs no download and no labels and knows
    nothing about one data set, so it means the same on any folder. It is only comparable with
    itself: the weights follow from ``seed``, and numbers from different seeds or from other
    feature spaces are not comparable.

    Any size and channel count: images are made RGB (grey repeated, alpha dropped) and seen at
    their own size, resized only where the shorter side is under 16 or over 128 pixels (the
    network is fully convolutional and pools over the image; compare images of one size). The features are the image's mean and spread per colour channel, then, for each of
    four stride-2 convolutions (16, 32, 64, 128 zero-mean random filters, He-scaled, LeakyReLU),
    the mean and spread of every filter's response over the image: 486 in all. Zero-mean filters
    do not respond to flat colour, so the filter statistics measure edges and texture (what
    blur removes and noise adds), and the first six measure colour.
    """

    widths = (16, 32, 64, 128)

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.seed = seed
        generator = torch.Generator().manual_seed(seed)
        layers, c_in = [], 3
        for c_out in self.widths:
            conv = nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False)
            weight = torch.randn(conv.weight.shape, generator=generator)
            weight = weight - weight.mean((2, 3), keepdim=True)  # zero-mean filters: blind to flat colour
            with torch.no_grad():
                conv.weight.copy_(weight * math.sqrt(2.0 / (c_in * 16)))
            layers.append(conv)
            c_in = c_out
        self.layers = nn.ModuleList(layers)
        self.requires_grad_(False)
        self.eval()

    @property
    def features(self) -> int:
        return 6 + 2 * sum(self.widths)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _as_rgb(images.float())
        h, w = x.shape[-2:]
        low, high = RANDOM_FEATURES_SIDES
        scale = max(1.0, low / min(h, w)) * min(1.0, high / min(h, w))
        if scale != 1.0:  # fully convolutional and pooled: any size works; this bounds the cost and the blur
            x = F.interpolate(x, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="bilinear",
                              antialias=True, align_corners=False)
        pooled = [x.mean((2, 3)), x.std((2, 3), unbiased=False)]  # colour and contrast
        for conv in self.layers:
            x = F.leaky_relu(conv(x), 0.2)
            pooled += [x.mean((2, 3)), x.std((2, 3), unbiased=False)]  # how much of each pattern, how unevenly
        return torch.cat(pooled, 1)


class _Batched:
    """A feature space that runs ``network`` in batches on ``device`` and returns float32 CPU features."""

    def __init__(self, name: str, network: Callable[[torch.Tensor], torch.Tensor], device: torch.device,
                 prepare: Callable[[torch.Tensor], torch.Tensor] = lambda x: x, batch_size: int = 500) -> None:
        self.name, self.network, self.device, self.prepare, self.batch_size = name, network, device, prepare, batch_size

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        parts = []
        for i in range(0, len(images), self.batch_size):
            out = self.network(self.prepare(images[i:i + self.batch_size].to(self.device).float()))
            if out.ndim > 2:  # spatial latents: their mean and spread over positions, per channel
                flat = out.float().flatten(2)
                out = torch.cat([flat.mean(2), flat.std(2, unbiased=False)], 1)
            parts.append(out.float().cpu())
        if not parts:
            raise ValueError("no images to compute features of")
        return torch.cat(parts)


def random_features(seed: int = 0, *, device: str | torch.device = "cpu") -> FeatureSpace:
    """The default feature space: ``RandomFeatures(seed)`` in batches (see its docstring for why)."""
    device = torch.device(device)
    return _Batched(f"random-conv (seed {seed})", RandomFeatures(seed).to(device), device)


def _fit_to(images: torch.Tensor, channels: int, size: tuple[int, int] | None, multiple: int) -> torch.Tensor:
    """Images converted to ``channels`` and resized to ``size`` (or to a multiple of ``multiple``)."""
    from .resize import resize_to

    have = images.shape[1]
    if have != channels:
        rgb = _as_rgb(images)
        images = rgb.mean(1, keepdim=True) if channels == 1 else rgb if channels == 3 else images
    h, w = images.shape[-2:]
    if size is None and multiple > 1:
        size = (max(multiple, round(h / multiple) * multiple), max(multiple, round(w / multiple) * multiple))
    return images if size is None else resize_to(images, size, "stretch")


def feature_space(spec: str = "random", *, device: str | torch.device = "cpu") -> FeatureSpace:
    """A feature space by name: ``random`` (``random_features()``), or any zoo model with an
    ``encode`` (an ``Encoder`` or ``Autoencoder``: a registry name or a training folder), loaded
    with ``zoo_core.load``. Images are converted to the encoder's channel count and stretched to
    its ``input_size`` where it has one (else to a multiple of its ``size_multiple``);
    spatial latents are summarised by their per-channel mean and spread.
    """
    if spec == "random":
        return random_features(device=device)
    from .api import load
    from .errors import InputError, UnknownModelError
    from .interfaces import Encoder

    try:
        model = load(spec, device=device)
    except UnknownModelError:
        raise InputError(f"--feature-model {spec}: no such model; name an encoder or autoencoder (zoo list --task "
                         "encoder), a training folder, or 'random'") from None
    if not isinstance(model, Encoder):
        raise InputError(f"--feature-model {spec}: a {type(model).__name__} has no encode(); name an encoder or "
                         "autoencoder (zoo list --task encoder), or 'random'")
    size = model.input_size
    channels, multiple = int(model.input_channels), int(getattr(model, "size_multiple", 1))

    def prepare(images: torch.Tensor) -> torch.Tensor:
        return _fit_to(images, channels, size, multiple).to(model.dtype)

    return _Batched(spec, model.encode, model.device, prepare)


def blur(images: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian blur (5×5 kernel) of (N, C, H, W) images, edges replicated: a degraded copy that
    a quality metric must rank worse than the images themselves."""
    x = torch.arange(5, dtype=torch.float32) - 2
    kernel = torch.exp(-x ** 2 / (2 * sigma ** 2))
    kernel = (kernel / kernel.sum()).to(images)
    c = images.shape[1]
    padded = F.pad(images, (2, 2, 2, 2), mode="replicate")
    out = F.conv2d(padded, kernel.view(1, 1, 1, 5).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(out, kernel.view(1, 1, 5, 1).repeat(c, 1, 1, 1), groups=c)


def add_noise(images: torch.Tensor, std: float = 0.2, *, seed: int = 0) -> torch.Tensor:
    """Images plus seeded Gaussian noise of ``std`` (images in [-1, 1]), clamped back to [-1, 1]."""
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed)) * std
    return (images + noise.to(images)).clamp(-1, 1)


class HeldOutQuality:
    """KID and Fréchet distance of generated images to held-out real images, floor beside them.

    The reference is ``held_out`` (real images training never sees). Features are standardised
    by their mean and spread over the training images (fixed at construction), so that every
    feature counts. The floor is what real images score: ``samples`` training images (or all, if fewer) against the same reference,
    i.e. what a model that reproduced its training data would get. KID is the one to rank by
    on small data: it is unbiased at any sample size, while FD's bias grows as the reference
    shrinks (it is shown for comparison, with its own floor at the same sample count).
    """

    def __init__(self, features: FeatureSpace, held_out: torch.Tensor, train: torch.Tensor, *, samples: int,
                 seed: int = 0, subsets: int = 20, subset_size: int = 500) -> None:
        if len(held_out) < 2:
            raise ValueError(f"need at least 2 held-out images, got {len(held_out)}")
        self.features, self.samples, self.seed = features, samples, seed
        self.subsets, self.subset_size = subsets, subset_size
        pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:samples]
        real = features(train[pick])
        # every feature in units of its spread over the training images, fixed from here on: else
        # the few features that vary most between images (overall brightness) swamp the kernel,
        # and noise, which moves many features a little, hardly registers
        self.mean, self.scale = real.mean(0), real.std(0).clamp_min(1e-6)
        self.reference = self._standard(features(held_out))
        self.floor = {f"{k}_floor": v for k, v in self.distances(self._standard(real)).items()}

    def _standard(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.mean) / self.scale

    def distances(self, features: torch.Tensor) -> dict[str, float]:
        """KID and FD of standardised ``features`` to the held-out images'."""
        kid, _ = kernel_distance(features, self.reference, subsets=self.subsets, subset_size=self.subset_size,
                                 seed=self.seed)
        return {"kid": kid, "fd": frechet_distance(features, self.reference)}

    def score(self, images: torch.Tensor) -> dict[str, float]:
        """``kid`` and ``fd`` of ``images`` against the held-out set, and their floors."""
        return {**self.distances(self._standard(self.features(images))), **self.floor}


def split_held_out(count: int, *, seed: int = 0, fraction: float = 0.1, minimum: int = 2,
                   maximum: int = 5000) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held-out) index tensors: a seeded random ``fraction`` of ``count`` items held out,
    at least ``minimum`` and at most ``maximum``, and never all of them."""
    held = min(maximum, max(minimum, round(count * fraction)))
    if held >= count:
        raise ValueError(f"cannot hold out {held} of {count} images")
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    return order[held:].sort().values, order[:held].sort().values
