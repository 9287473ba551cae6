"""Small data sets made on the spot for tests (nothing is downloaded)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import torch

__all__ = ["idx_bytes", "write_fake_fashion_mnist", "fashion_mnist_available", "shape_images"]


def idx_bytes(tensor: torch.Tensor, code: int = 0x08) -> bytes:
    """Encode a tensor as an IDX file: 0x08 unsigned bytes, 0x0C big-endian int32."""
    header = struct.pack(">BBBB", 0, 0, code, tensor.ndim) + struct.pack(f">{tensor.ndim}I", *tensor.shape)
    if code == 0x08:
        return header + tensor.to(torch.uint8).numpy().tobytes()
    if code == 0x0C:
        return header + tensor.to(torch.int32).numpy().astype(">i4").tobytes()
    raise ValueError(f"unsupported IDX type code {code:#x}")


def write_fake_fashion_mnist(folder: Path, n_train: int = 60, n_test: int = 30, *, gz: bool = True,
                             seed: int = 0) -> Path:
    """A miniature Fashion-MNIST in the Debian package's layout: random 28×28 images, labels 0..9."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = torch.randint(0, 256, (n, 28, 28), generator=generator)
        labels = torch.arange(n) % 10
        for stem, tensor in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            data = idx_bytes(tensor)
            (folder / (stem + (".gz" if gz else ""))).write_bytes(gzip.compress(data) if gz else data)
    return folder


def fashion_mnist_available(folder: Path | None = None) -> bool:
    """Whether the real Fashion-MNIST IDX files are installed (Debian's dataset-fashion-mnist)."""
    import os

    from ..data import DEFAULT_FASHION_DIR

    root = Path(folder or os.environ.get("ZOO_FASHION_MNIST_DIR") or DEFAULT_FASHION_DIR)
    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    return all(any((root / f"{stem}{suffix}").exists() for suffix in (".gz", "")) for stem in stems)


def shape_images(n: int, size: int = 32, channels: int = 3, *, seed: int = 0) -> torch.Tensor:
    """``n`` drawn pictures (N, C, size, size) in [-1, 1]: one filled disc or box of a random
    colour, place and size on a random plain background, with sharp edges. A stand-in for a
    user's folder with real structure (edges, flat regions) that blur and noise visibly change.
    """
    generator = torch.Generator().manual_seed(seed)
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = coords.view(1, -1, 1), coords.view(1, 1, -1)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, 1, 1, generator=generator)

    cx, cy, radius = uniform(0.25, 0.75), uniform(0.25, 0.75), uniform(0.12, 0.3)
    disc = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2
    box = ((x - cx).abs() < radius) & ((y - cy).abs() < radius * uniform(0.5, 1.0))
    is_disc = torch.rand(n, 1, 1, generator=generator) < 0.5
    mask = torch.where(is_disc, disc, box).unsqueeze(1).float()  # (N, 1, S, S)
    background = torch.rand(n, channels, 1, 1, generator=generator) * 2 - 1
    colour = torch.rand(n, channels, 1, 1, generator=generator) * 2 - 1
    return background * (1 - mask) + colour * mask
