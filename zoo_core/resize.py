"""Bringing an image to the one size a model takes: ``--resize fit|crop|pad|stretch``.

Models such as a Fashion-MNIST VAE or classifier take exactly one size (28x28, 32x32);
``zoo run`` brings every input to it in one of four ways, each keeping the image centred:

- ``fit`` (the default): scale, keeping the aspect ratio, until the whole image fits inside,
  then pad the rest with black (letterbox). Nothing is cut off and nothing is distorted, and
  black is the background the Fashion-MNIST models were trained on.
- ``crop``: scale, keeping the aspect ratio, until the image covers the target, then cut the
  overhang off both sides equally (centre crop). Fills the frame; loses the edges.
- ``pad``: no scaling: pad with black where the image is smaller, centre-crop where it is
  larger. Pixels stay pixels (for images already drawn at the model's scale).
- ``stretch``: scale each side to the target on its own, ignoring the aspect ratio (what
  ``zoo train`` does to a folder of images).

Scaling is bilinear with antialiasing when shrinking; pixels are (1, C, H, W) in [-1, 1] and
black is -1. Nothing here reads files or prints; ``zoo_core.tasks.reading`` does.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RESIZE_MODES", "DEFAULT_RESIZE", "RESIZE_HELP", "resize_to", "scaled_size"]

RESIZE_MODES = ("fit", "crop", "pad", "stretch")
DEFAULT_RESIZE = "fit"
#: One line per mode, for ``--help`` and notices.
RESIZE_HELP = {
    "fit": "scaled to fit inside, keeping the aspect ratio, and padded with black",
    "crop": "scaled to cover, keeping the aspect ratio, and centre-cropped",
    "pad": "padded with black or centre-cropped, not scaled",
    "stretch": "scaled to the size, ignoring the aspect ratio",
}

BLACK = -1.0


def scaled_size(height: int, width: int, target: tuple[int, int], mode: str) -> tuple[int, int]:
    """The (height, width) ``mode`` scales an image of ``height`` x ``width`` to before it pads
    or crops to ``target``: fit inside (``fit``), cover (``crop``), unchanged (``pad``) or the
    target itself (``stretch``). Sides are rounded to whole pixels, at least 1."""
    th, tw = target
    if mode == "stretch":
        return th, tw
    if mode == "pad":
        return height, width
    if mode not in ("fit", "crop"):
        raise ValueError(f"unknown resize mode {mode!r}; one of {', '.join(RESIZE_MODES)}")
    pick = min if mode == "fit" else max
    scale = pick(th / height, tw / width)
    h, w = max(1, round(height * scale)), max(1, round(width * scale))
    if mode == "fit":  # rounding must not overshoot the target
        return min(h, th), min(w, tw)
    return max(h, th), max(w, tw)


def resize_to(images: Any, target: tuple[int, int], mode: str = DEFAULT_RESIZE, *, fill: float = BLACK) -> Any:
    """``images`` (N, C, H, W) in [-1, 1] brought to ``target`` (height, width) by ``mode``
    (see the module); ``fill`` is the value of padded pixels (black)."""
    import torch.nn.functional as F

    height, width = int(images.shape[-2]), int(images.shape[-1])
    if (height, width) == tuple(target):
        return images
    h, w = scaled_size(height, width, target, mode)
    out = images
    if (h, w) != (height, width):
        out = F.interpolate(images.float(), size=(h, w), mode="bilinear", align_corners=False,
                            antialias=h < height or w < width).clamp(-1, 1).to(images.dtype)
    return _centre(out, target, fill)


def _centre(images: Any, target: tuple[int, int], fill: float) -> Any:
    """``images`` centred on a ``target``-sized canvas: padded with ``fill`` where smaller, cropped
    where larger (an odd difference puts the extra pixel at the bottom or right)."""
    import torch.nn.functional as F

    th, tw = target
    h, w = int(images.shape[-2]), int(images.shape[-1])
    if h > th:
        top = (h - th) // 2
        images = images[..., top:top + th, :]
    if w > tw:
        left = (w - tw) // 2
        images = images[..., :, left:left + tw]
    h, w = int(images.shape[-2]), int(images.shape[-1])
    if (h, w) == (th, tw):
        return images
    top, left = (th - h) // 2, (tw - w) // 2
    return F.pad(images, (left, tw - w - left, top, th - h - top), value=fill)
