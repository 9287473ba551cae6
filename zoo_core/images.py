"""Images in and out: [-1, 1] tensors ⇄ PNG files, grids, and reproducible metadata.

PNGs carry what made them (model, revision, sha256, seed) in text chunks and no
timestamp, so the same seed gives the same bytes; JPEG and WebP are written where the file
name asks for them (JPEG keeps the same text as a comment). Files appear atomically.
Images are read the way people expect to see them: turned upright by their EXIF
orientation, 16-bit greyscale scaled rather than clipped, and alpha kept apart.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from .atomic import write_atomic
from .errors import InputError

__all__ = ["to_uint8", "uint8_pixels", "encode_pixels", "make_grid", "image_bytes", "save_png", "save_pngs", "save_image", "save_pixels", "read_image",
           "read_image_alpha", "read_image_colour", "read_pixels", "image_files", "image_size", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] → (N, H, W, C) uint8 on the CPU."""
    scaled = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).cpu()


def uint8_pixels(images: torch.Tensor) -> Any:
    """(N, C, H, W) in [-1, 1] → (N, H, W, C) uint8 numpy array, pixel for pixel as ``to_uint8``.

    The file writers use this: the same float32 steps (clamp, + 1, × 127.5, round half to
    even) in numpy, once for a whole batch and in the thread that calls it. A torch op per
    image started one parallel step each, which on a busy machine cost as much as the model.
    """
    import numpy as np

    array = images.detach().cpu()
    if array.dtype != torch.float32:
        array = array.float()
    values = np.clip(array.numpy(), -1.0, 1.0)
    with np.errstate(invalid="ignore"):
        values = np.rint((values + np.float32(1.0)) * np.float32(127.5)).astype(np.uint8)
    return values.transpose(0, 2, 3, 1)


def encode_pixels(pixels: Any, metadata: Mapping[str, str] | None = None, image_format: str = "PNG") -> bytes:
    """Encode one (H, W, C) uint8 array (C = 1, 3 or 4) as ``image_format`` with zoo's metadata."""
    return _encode(pixels, metadata or {}, image_format)


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


def _atomic_write(path: Path, data: bytes, overwrite: bool = True) -> None:
    try:
        write_atomic(path, data, overwrite=overwrite)
    except FileExistsError:
        if Path(path).is_symlink() and not Path(path).exists():  # checked on the way out, like the ones below
            raise InputError(f"{path}: is a link to {os.readlink(path)}, which does not exist; remove the link or "
                             "choose another name") from None
        raise InputError(f"{path}: a file of that name appeared while zoo was working (another run?); it was "
                         "left alone: pass --force to overwrite it, or choose another name") from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        # checked here, on the way out, rather than before every file of a folder run
        path = Path(path)
        directory = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise InputError(f"{path} is a directory; give a file name ending in .png") from None
        if not directory.is_dir():
            raise InputError(f"cannot write {path}: directory {directory} does not exist") from None
        raise exc
    except PermissionError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _png_bytes(pixels: torch.Tensor, metadata: Mapping[str, str], image_format: str = "PNG") -> bytes:
    """Encode (H, W, C) uint8 pixels (C = 1, 3 or 4) in ``image_format`` with zoo's metadata."""
    return _encode(pixels.numpy(), metadata, image_format)


def _encode(array: Any, metadata: Mapping[str, str], image_format: str = "PNG") -> bytes:
    import io

    from PIL import Image, PngImagePlugin

    if array.shape[2] == 1:
        image = Image.fromarray(array[:, :, 0], mode="L")
    else:
        image = Image.fromarray(array[:, :, :4] if array.shape[2] == 4 else array[:, :, :3])
    buffer = io.BytesIO()
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        for key, value in metadata.items():
            info.add_text(f"zoo:{key}", str(value))
        image.save(buffer, format="PNG", pnginfo=info)
    elif image_format == "JPEG":
        if image.mode == "RGBA":  # JPEG has no alpha
            image = image.convert("RGB")
        comment = "\n".join(f"zoo:{k}={v}" for k, v in metadata.items()).encode()
        image.save(buffer, format="JPEG", quality=95, comment=comment)
    else:
        image.save(buffer, format=image_format, lossless=True)
    return buffer.getvalue()


def image_bytes(image: torch.Tensor, metadata: Mapping[str, str] | None = None, image_format: str = "PNG") -> bytes:
    """One (1, C, H, W) or (C, H, W) image in [-1, 1] encoded in memory (PNG by default)."""
    if image.ndim == 3:
        image = image.unsqueeze(0)
    return _png_bytes(to_uint8(image)[0], metadata or {}, image_format)


def save_png(image: torch.Tensor, path: Path, metadata: Mapping[str, str] | None = None) -> Path:
    """Write one (1, C, H, W) or (C, H, W) image in [-1, 1] to ``path`` atomically, as PNG."""
    return save_image(image, path, metadata, image_format="PNG")


def save_image(image: torch.Tensor, path: Path, metadata: Mapping[str, str] | None = None, *,
               alpha: torch.Tensor | None = None, image_format: str | None = None, overwrite: bool = True) -> Path:
    """Write one (1, C, H, W) image in [-1, 1] atomically in the format ``path``'s suffix names
    (.png, .jpg/.jpeg, .webp), with ``alpha`` (1, 1, H, W) in [-1, 1] as a fourth channel.
    ``overwrite=False`` never replaces a file that exists when the image is put in place."""
    from .outputs import image_format as format_for

    if image.ndim == 3:
        image = image.unsqueeze(0)
    if image.shape[1] not in (1, 3):
        raise InputError(f"cannot save an image with {image.shape[1]} channels")
    if alpha is not None:
        if image.shape[1] == 1:
            image = image.expand(-1, 3, -1, -1)
        image = torch.cat([image, alpha.to(image.device, image.dtype)], dim=1)
    kind = image_format or format_for(Path(path), "--out")
    return save_pixels(uint8_pixels(image[:1])[0], path, metadata, image_format=kind, overwrite=overwrite)


def save_pixels(pixels: Any, path: Path, metadata: Mapping[str, str] | None = None, *,
                image_format: str | None = None, overwrite: bool = True) -> Path:
    """Write one (H, W, C) uint8 array atomically in the format ``path``'s suffix names."""
    from .outputs import image_format as format_for

    kind = image_format or format_for(Path(path), "--out")
    _atomic_write(path, _encode(pixels, metadata or {}, kind), overwrite=overwrite)
    return path if isinstance(path, Path) else Path(path)


def save_pngs(images: torch.Tensor, directory: Path, metadata: Mapping[str, str] | None = None,
              names: Iterable[str] | None = None) -> list[Path]:
    """Write each image to ``directory`` as 00000.png, 00001.png, … (or the given names)."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output directory {directory}: {exc.strerror or exc}") from exc
    pixels = uint8_pixels(images)
    stems = list(names) if names is not None else [f"{i:05d}" for i in range(len(images))]
    paths = []
    for index, stem in enumerate(stems):
        meta = dict(metadata or {}, index=str(index))
        path = directory / f"{stem}.png"
        _atomic_write(path, _encode(pixels[index], meta))
        paths.append(path)
    return paths


def image_files(inputs: Iterable[Path]) -> list[Path]:
    """Expand files and folders (non-recursively, sorted) into image files."""
    found: list[Path] = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            found.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
        elif item.is_file():
            found.append(item)
        else:
            raise InputError(f"{item}: no such file or directory")
    if not found:
        raise InputError("no image files found in " + ", ".join(str(i) for i in inputs)
                         + " (looked for " + ", ".join(IMAGE_SUFFIXES) + ")")
    return found


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image as viewers show it (EXIF orientation applied), reading only its header."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # reading pixels checks memory
            with Image.open(path) as image:
                width, height = image.size
                orientation = image.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from exc
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def read_bytes_per_pixel(channels: int) -> int:
    """Bytes per pixel that reading an image into ``channels`` float channels holds at its peak (6 + 12 a channel):
    the decoded image (up to 4 bytes) kept alive, then per channel a converted copy, the bytes
    copied out and the float32 tensors on the way to [-1, 1] (checked by ``bench/bench_memory_plan.py``)."""
    return 6 + 12 * channels


def _open_upright(path: Path, channels: int = 3, *, alpha: bool = False) -> Any:
    """The image at ``path``, turned by its EXIF orientation (as viewers show it), fully loaded.

    The header is read first: an image whose decoding would not fit in memory is refused in
    one line before any pixel is decoded, and only the first frame of an animation is read
    (with a warning).
    """
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    from .memory import require
    from .plugins import warn

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # zoo's own check below says it
            with Image.open(path) as opened:
                width, height = opened.size
                kept = channels + (1 if alpha and ("A" in opened.mode or "transparency" in opened.info) else 0)
                require(width * height * read_bytes_per_pixel(kept), device="cpu", what=f"{path}: a {width}x{height} image",
                        fix="downscale it before giving it to zoo")
                frames = getattr(opened, "n_frames", 1)
                if frames > 1:
                    warn(f"{path}: has {frames} frames (an animation); using the first")
                upright = ImageOps.exif_transpose(opened)
                upright.load()
                return upright
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise InputError(f"{path}: too many pixels for zoo to read safely ({exc}); downscale it") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from exc


def _unit_float(image: Any, channels: int) -> torch.Tensor:
    """(C, H, W) float32 in [0, 1] from a PIL image, converted to ``channels`` (1 or 3).

    16-bit and 32-bit greyscale images are scaled by their bit depth, not clipped to 8 bits.
    """
    import numpy as np

    if image.mode in ("I;16", "I;16B", "I;16L", "I") and channels == 1:
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        return torch.from_numpy((array / peak).astype(np.float32)).unsqueeze(0)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        grey = torch.from_numpy((array / peak).astype(np.float32))
        return grey.unsqueeze(0).expand(channels, -1, -1).contiguous()
    converted = image.convert("L" if channels == 1 else "RGB")
    data = torch.frombuffer(bytearray(converted.tobytes()), dtype=torch.uint8)
    return data.reshape(converted.height, converted.width, channels).permute(2, 0, 1).float() / 255.0


def read_pixels(path: Path, channels: int, size: int | None = None) -> torch.Tensor:
    """uint8 (C, H, W) pixels of an image file, upright, converted to ``channels`` and, if ``size``
    is given, resized (bicubic) to size × size; an unreadable file is an ``InputError``."""
    from PIL import Image

    image = _open_upright(path, channels)
    image = image.convert("L" if channels == 1 else "RGB")
    if size is not None:
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    return data.reshape(image.height, image.width, channels).permute(2, 0, 1)


def read_image(path: Path, channels: int) -> torch.Tensor:
    """A (1, C, H, W) tensor in [-1, 1] from an image file, upright, converted to ``channels``."""
    return _unit_float(_open_upright(path, channels), channels).unsqueeze(0) * 2 - 1


def read_image_alpha(path: Path, channels: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``read_image`` plus the alpha channel as (1, 1, H, W) in [-1, 1], or None when the image has none."""
    image, alpha, _ = read_image_colour(path, channels)
    return image, alpha


def read_image_colour(path: Path, channels: int) -> tuple[torch.Tensor, torch.Tensor | None, bool]:
    """``read_image_alpha`` plus whether the file holds colour (False: greyscale, whatever
    ``channels`` it was converted to), so that a run can say when it converts one to the other."""
    image = _open_upright(path, channels, alpha=True)
    colour = _is_colour(image)
    alpha = None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        alpha = _unit_float(rgba.getchannel("A"), 1).unsqueeze(0) * 2 - 1
        image = rgba
    return _unit_float(image, channels).unsqueeze(0) * 2 - 1, alpha, colour


def _is_colour(image: Any) -> bool:
    """Whether a PIL image holds colour: its mode has colour bands, or its palette is not all grey."""
    if image.mode in ("1", "L", "LA", "La", "I", "F") or image.mode.startswith("I;"):
        return False
    if image.mode in ("P", "PA"):
        palette = image.getpalette() or []
        return any(palette[i] != palette[i + 1] or palette[i] != palette[i + 2] for i in range(0, len(palette) - 2, 3))
    return True
