"""Shape checks on the tensors a caller hands a model: a wrong shape is a one-line ``InputError``
naming the tensor, not torch's ``mat1 and mat2 shapes cannot be multiplied``.

``Generator`` and ``Encoder`` wrap every subclass's ``decode`` and ``encode`` with these, so a
plugin's model gets them without writing anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

from .errors import InputError

__all__ = ["check_latents", "checked_decode", "checked_encode"]


def _shape(shape: Any) -> str:
    return str(tuple(int(d) for d in shape))


def check_latents(model: Any, latents: Any, labels: Any = None) -> None:
    """An ``InputError`` unless ``latents`` is (N, *latent_shape) (spatial latents: any H, W) and
    ``labels``, if given, is N class indices."""
    if not isinstance(latents, torch.Tensor):
        raise InputError(f"latents: expected a torch.Tensor, got {type(latents).__name__}")
    want = tuple(model.latent_shape)
    spatial = len(want) >= 3  # (C, H, W): a fully convolutional decoder takes any H, W
    expected = "(N, " + ", ".join([str(want[0]), "H", "W"] if spatial else [str(d) for d in want]) + ")"
    ok = latents.ndim == len(want) + 1 and (tuple(latents.shape[1:2]) == want[:1] if spatial
                                             else tuple(latents.shape[1:]) == want)
    if not ok:
        raise InputError(f"latents: shape {_shape(latents.shape)}, but {type(model).__name__} decodes latents of "
                         f"shape {expected}")
    if labels is not None:
        if not isinstance(labels, torch.Tensor) or labels.shape != (latents.shape[0],):
            got = _shape(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
            raise InputError(f"labels: {got}, but the {latents.shape[0]} latents need labels of shape "
                             f"({latents.shape[0]},)")
        classes = int(getattr(model, "num_classes", 0))
        if classes and labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= classes):
            raise InputError(f"labels: class indices must be in 0..{classes - 1}")


def checked_decode(decode: Callable[..., Any]) -> Callable[..., Any]:
    """``decode`` with ``check_latents`` first."""
    if getattr(decode, "_zoo_checked", False):
        return decode

    @functools.wraps(decode)
    def wrapper(self: Any, latents: Any, *args: Any, **kwargs: Any) -> Any:
        check_latents(self, latents, args[0] if args else kwargs.get("labels"))
        return decode(self, latents, *args, **kwargs)

    wrapper._zoo_checked = True  # type: ignore[attr-defined]
    return wrapper


def checked_encode(encode: Callable[..., Any]) -> Callable[..., Any]:
    """``encode`` with the model's ``check_images`` first."""
    if getattr(encode, "_zoo_checked", False):
        return encode

    @functools.wraps(encode)
    def wrapper(self: Any, images: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(images, torch.Tensor):
            raise InputError(f"images: expected a torch.Tensor, got {type(images).__name__}")
        try:
            self.check_images(images)
        except InputError as exc:
            raise InputError(f"images: {exc}") from None
        return encode(self, images, *args, **kwargs)

    wrapper._zoo_checked = True  # type: ignore[attr-defined]
    return wrapper
