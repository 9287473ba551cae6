"""Offline image data: Fashion-MNIST from IDX files, and a user's folder of images.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` package
(``/usr/share/datasets/fashion-mnist``), the folder named by ``ZOO_FASHION_MNIST_DIR``, or
any folder given as ``data_dir`` with the same four IDX files (torchvision's ``raw/``
layout); nothing is downloaded. Images come back as uint8 tensors
(N, C, H, W); ``to_model_range`` scales them to [-1, 1] at the model's size.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import InputError

__all__ = ["ImageDataset", "FASHION_MNIST_CLASSES", "DEFAULT_FASHION_DIR", "read_idx", "load_fashion_mnist",
           "load_image_folder", "load_dataset", "to_model_range"]

DEFAULT_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
FASHION_MNIST_CLASSES = ("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
                         "bag", "ankle boot")
_IDX_TYPES = {0x08: (torch.uint8, 1), 0x09: (torch.int8, 1), 0x0B: (torch.int16, 2), 0x0C: (torch.int32, 4),
              0x0D: (torch.float32, 4), 0x0E: (torch.float64, 8)}


@dataclass
class ImageDataset:
    """uint8 images (N, C, H, W), integer labels (N,) (or -1 when unlabelled), class names."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...] = ()
    name: str = ""

    def __len__(self) -> int:
        return len(self.images)


def read_idx(path: Path) -> torch.Tensor:
    """Read an IDX file (gzip or plain) into a tensor; a malformed file is an ``InputError``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:  # zlib.error: a damaged compressed stream
        raise InputError(f"{path}: cannot read IDX file ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise InputError(f"{path}: not an IDX file (bad magic number)")
    dtype, size = _IDX_TYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InputError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = size * math.prod(shape)  # Python ints: a hostile shape cannot overflow into a match
    if len(raw) - header != expected:
        raise InputError(f"{path}: IDX data has {len(raw) - header} bytes, expected {expected} for shape {shape}")
    if expected == 0:  # a dimension of 0: frombuffer refuses an empty buffer
        return torch.empty(shape, dtype=dtype)
    data = torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8)
    if size > 1:  # IDX is big-endian
        data = data.view(-1, size).flip(1).contiguous().view(dtype)
    else:
        data = data.view(dtype)
    return data.reshape(shape)


def _idx_file(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise InputError(f"--data-dir {folder}: no {stem}(.gz); install Debian's dataset-fashion-mnist "
                     "(apt-get install dataset-fashion-mnist) or point --data-dir at a folder with the IDX files")


def load_fashion_mnist(split: str = "train", data_dir: Path | None = None) -> ImageDataset:
    """The 60k train or 10k test split as uint8 (N, 1, 28, 28) images and labels."""
    if split not in ("train", "test"):
        raise InputError(f"split must be 'train' or 'test', got {split!r}")
    if data_dir is not None:
        folder = Path(data_dir)
    else:
        folder = Path(os.environ.get("ZOO_FASHION_MNIST_DIR") or DEFAULT_FASHION_DIR)
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(_idx_file(folder, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_idx_file(folder, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise InputError(f"{folder}: {prefix} images {tuple(images.shape)} and labels {tuple(labels.shape)} "
                         "do not match")
    if images.dtype != torch.uint8:
        raise InputError(f"{folder}: {prefix} images are {str(images.dtype).replace('torch.', '')}, not unsigned bytes")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(FASHION_MNIST_CLASSES)):
        raise InputError(f"{folder}: {prefix} labels must be 0..{len(FASHION_MNIST_CLASSES) - 1}, found "
                         f"{int(labels.min())}..{int(labels.max())}")
    return ImageDataset(images.unsqueeze(1), labels.long(), FASHION_MNIST_CLASSES, f"fashion-mnist/{split}")


def load_image_folder(folder: Path, *, channels: int, size: int) -> ImageDataset:
    """Every image in ``folder`` (non-recursive) or, if it has subfolders, one class per subfolder."""
    from .images import IMAGE_SUFFIXES, read_pixels

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--data-dir {folder}: no such directory")
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))  # not .cache/
    loose = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if subdirs and loose:  # they would be silently left out of a class-per-subfolder data set
        raise InputError(f"--data-dir {folder}: has both class subfolders and images of its own ({loose[0].name}, "
                         "...); move every image into a subfolder, or use a folder without subfolders")
    groups = [(i, d) for i, d in enumerate(subdirs)] if subdirs else [(-1, folder)]
    images, labels = [], []
    for label, directory in groups:
        for path in sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            images.append(read_pixels(path, channels, size))
            labels.append(label)
    if not images:
        raise InputError(f"--data-dir {folder}: no images found")
    classes = tuple(d.name for d in subdirs)
    return ImageDataset(torch.stack(images), torch.tensor(labels), classes, f"folder:{folder.name}")


def load_dataset(name: str, split: str = "train", *, data_dir: Path | None = None, channels: int = 1,
                 size: int = 28) -> ImageDataset:
    """``fashion-mnist`` (from ``data_dir`` or the Debian package) or ``folder`` (``data_dir``)."""
    if name == "fashion-mnist":
        return load_fashion_mnist(split, data_dir)
    if name == "folder":
        if data_dir is None:
            raise InputError("--dataset folder needs --data-dir DIR")
        return load_image_folder(data_dir, channels=channels, size=size)
    raise InputError(f"--dataset {name!r}: use fashion-mnist or folder")


def to_model_range(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (N, C, h, w) → float (N, C, size, size) in [-1, 1].

    28 → 32 pads two pixels of background (-1) on each side, so no pixel is resampled;
    other sizes are resized bilinearly.
    """
    x = images.float() / 127.5 - 1.0
    h = x.shape[-1]
    if h == size:
        return x
    if size > h and (size - h) % 2 == 0 and size - h <= 4:
        pad = (size - h) // 2
        return torch.nn.functional.pad(x, (pad, pad, pad, pad), value=-1.0)
    return torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                                           antialias=size < h).clamp(-1, 1)
