"""Images in and out: [-1, 1] tensors ⇄ PNG files, grids, and reproducible metadata.

PNGs carry what made them (model, revision, sha256, seed) in text chunks and no
timestamp, so the same seed gives the same bytes. Files appear atomically.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

from .atomic import write_atomic
from .errors import InputError

__all__ = ["to_uint8", "make_grid", "save_png", "save_pngs", "read_image", "read_pixels", "image_files", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] → (N, H, W, C) uint8 on the CPU."""
    scaled = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).cpu()


def make_grid(images: torch.Tensor, *, columns: int | None = None, padding: int = 2) -> torch.Tensor:
    """Tile (N, C, H, W) images into one (1, C, H', W') image, with a -1 (black) border."""
    n, c, h, w = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = images.new_full((c, rows * (h + padding) + padding, columns * (w + padding) + padding), -1.0)
    for index in range(n):
        r, col = divmod(index, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top:top + h, left:left + w] = images[index]
    return grid.unsqueeze(0)


def _atomic_write(path: Path, data: bytes) -> None:
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file name ending in .png")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: directory {directory} does not exist")
    try:
        write_atomic(path, data)
    except PermissionError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _png_bytes(pixels: torch.Tensor, metadata: Mapping[str, str]) -> bytes:
    import io

    from PIL import Image, PngImagePlugin

    array = pixels.numpy()
    image = Image.fromarray(array[:, :, 0], mode="L") if array.shape[2] == 1 else Image.fromarray(array[:, :, :3])
    info = PngImagePlugin.PngInfo()
    for key, value in metadata.items():
        info.add_text(f"zoo:{key}", str(value))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def save_png(image: torch.Tensor, path: Path, metadata: Mapping[str, str] | None = None) -> Path:
    """Write one (1, C, H, W) or (C, H, W) image in [-1, 1] to ``path`` atomically."""
    if image.ndim == 3:
        image = image.unsqueeze(0)
    if image.shape[1] not in (1, 3):
        raise InputError(f"cannot save an image with {image.shape[1]} channels as PNG")
    _atomic_write(Path(path), _png_bytes(to_uint8(image)[0], metadata or {}))
    return Path(path)


def save_pngs(images: torch.Tensor, directory: Path, metadata: Mapping[str, str] | None = None,
              names: Iterable[str] | None = None) -> list[Path]:
    """Write each image to ``directory`` as 00000.png, 00001.png, … (or the given names)."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output directory {directory}: {exc.strerror or exc}") from exc
    pixels = to_uint8(images)
    stems = list(names) if names is not None else [f"{i:05d}" for i in range(len(images))]
    paths = []
    for index, stem in enumerate(stems):
        meta = dict(metadata or {}, index=str(index))
        path = directory / f"{stem}.png"
        _atomic_write(path, _png_bytes(pixels[index], meta))
        paths.append(path)
    return paths


def image_files(inputs: Iterable[Path]) -> list[Path]:
    """Expand files and folders (non-recursively, sorted) into image files."""
    found: list[Path] = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            found.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        elif item.is_file():
            found.append(item)
        else:
            raise InputError(f"--input {item}: no such file or directory")
    if not found:
        raise InputError("--input: no image files found (looked for " + ", ".join(IMAGE_SUFFIXES) + ")")
    return found


def read_pixels(path: Path, channels: int, size: int | None = None) -> torch.Tensor:
    """uint8 (C, H, W) pixels of an image file, converted to ``channels`` and, if ``size`` is
    given, resized (bicubic) to size × size; an unreadable file is an ``InputError``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if size is not None:
                image = image.resize((size, size), Image.BICUBIC)
            data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
            return data.reshape(image.height, image.width, channels).permute(2, 0, 1)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from exc


def read_image(path: Path, channels: int) -> torch.Tensor:
    """A (1, C, H, W) tensor in [-1, 1] from an image file, converted to ``channels``."""
    return read_pixels(path, channels).unsqueeze(0).float() / 127.5 - 1.0
