"""Differentiable augmentation for GAN training on small data (DiffAugment, Zhao et al. 2020).

A discriminator trained on a few thousand images memorises them within a few hundred steps;
its feedback to the generator then stops meaning "look like the data". DiffAugment shows the
discriminator every image, real and generated alike, through the same random colour,
translation and cutout transforms, so it cannot memorise pixels, and because the transforms
are differentiable the generator's step still gets gradients through them. The generator
itself never learns the augmentations: they are applied to both sides equally, never to what
the generator outputs for the user.

``AUGMENT_BELOW``: ``--augment auto`` (the default) turns it on for training sets smaller than
this. Measured on Fashion-MNIST (bench/bench_small_data.py, docs/your-images.md), it made FD
worse after 2,000-5,000 steps at 1,000 and 5,000 images (1.38-1.47x), where the plain runs were
still improving, and cost less at 200 images (1.14x) while leading early on (FD 56.5 against
76.3 after 500 steps): so it is on by default only for the smallest folders.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

__all__ = ["AUGMENT_BELOW", "DiffAugment", "POLICY", "augment_enabled"]

#: ``--augment auto`` augments training sets with fewer images than this.
AUGMENT_BELOW = 1_000

#: The paper's policy for small data: all three transform families, in this order.
POLICY = ("color", "translation", "cutout")


def _brightness(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)


def _saturation(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(1, keepdim=True)
    return (x - mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) * 2) + mean


def _contrast(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) + 0.5) + mean


def _color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness, saturation (a no-op on grey images) and contrast, per image."""
    return _contrast(_saturation(_brightness(x)))


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, filling with zeros (mid-grey)."""
    n, _, h, w = x.shape
    shift_y, shift_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-shift_y, shift_y + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-shift_x, shift_x + 1, (n, 1, 1), device=x.device)
    batch, rows, cols = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                       torch.arange(w, device=x.device), indexing="ij")
    rows = torch.clamp(rows + dy + 1, 0, h + 1)
    cols = torch.clamp(cols + dx + 1, 0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1))
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero (mid-grey) one square of ``ratio`` of the image's size at a random place, per image."""
    n, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - size_y % 2), (n, 1, 1), device=x.device)
    ox = torch.randint(0, w + (1 - size_x % 2), (n, 1, 1), device=x.device)
    batch, rows, cols = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(size_y, device=x.device),
                                       torch.arange(size_x, device=x.device), indexing="ij")
    rows = torch.clamp(rows + oy - size_y // 2, 0, h - 1)
    cols = torch.clamp(cols + ox - size_x // 2, 0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[batch, rows, cols] = 0
    return x * mask.unsqueeze(1)


_OPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "color": _color, "translation": _translation, "cutout": _cutout}


class DiffAugment:
    """Applies ``policy``'s transforms, freshly drawn per image, to everything the discriminator sees.

    Call it on the real batch and on the generated batch alike (same op kinds, independent
    random draws); it is differentiable, so the generator's loss back-propagates through it.
    """

    def __init__(self, policy: tuple[str, ...] = POLICY) -> None:
        unknown = [op for op in policy if op not in _OPS]
        if unknown:
            raise ValueError(f"unknown DiffAugment ops {unknown}; known: {sorted(_OPS)}")
        self.policy = tuple(policy)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        for op in self.policy:
            images = _OPS[op](images)
        return images.contiguous()

    def __repr__(self) -> str:
        return f"DiffAugment({','.join(self.policy)})"


def augment_enabled(mode: str, images: int) -> bool:
    """``--augment``: ``on``, ``off``, or ``auto`` (on for fewer than ``AUGMENT_BELOW`` training images)."""
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"--augment {mode!r}: use auto, on or off")
    return mode == "on" or (mode == "auto" and images < AUGMENT_BELOW)
