"""The reference implementations the upscaler parity tests compare with: spandrel 0.4.2 (ESRGAN
family) and aura-sr 0.0.4 (AuraSR), test-only, never imported by zoo at run time.

Both import torchvision at module level for helpers the networks never call, and the torchvision
wheels on PyPI do not import beside a CPU build of torch (and, installed, break diffusers). So
they are installed without dependencies (see the README's test command), and imported here
with a stand-in ``torchvision`` module that exists only while they import.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Iterator

import pytest


class _ToTensor:
    """torchvision's ToTensor for 8-bit RGB PIL images: (C, H, W) float32 in [0, 1]."""

    def __call__(self, image: object) -> object:
        import numpy as np
        import torch

        return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1).contiguous()


class _ToPILImage:
    """torchvision's ToPILImage for (C, H, W) float tensors in [0, 1] (it truncates, as torchvision does)."""

    def __call__(self, tensor: object) -> object:
        from PIL import Image

        array = (tensor.mul(255).byte().permute(1, 2, 0).numpy())  # type: ignore[attr-defined]
        return Image.fromarray(array)


@contextlib.contextmanager
def _torchvision_stand_in() -> Iterator[None]:
    if "torchvision" in sys.modules or importlib.util.find_spec("torchvision") is not None:
        yield  # a real torchvision: nothing to stand in for
        return
    names = ["torchvision", "torchvision.transforms", "torchvision.transforms.functional", "torchvision.utils"]
    modules = {name: types.ModuleType(name) for name in names}
    modules["torchvision"].transforms = modules["torchvision.transforms"]  # type: ignore[attr-defined]
    modules["torchvision"].utils = modules["torchvision.utils"]  # type: ignore[attr-defined]
    modules["torchvision.transforms"].functional = modules["torchvision.transforms.functional"]  # type: ignore[attr-defined]

    def unavailable(*args: object, **kwargs: object) -> None:
        raise RuntimeError("torchvision is not installed; the parity tests do not use this")

    for attribute in ("InterpolationMode", "rotate", "normalize"):
        setattr(modules["torchvision.transforms.functional"], attribute, unavailable)
    modules["torchvision.utils"].save_image = unavailable  # type: ignore[attr-defined]
    # aura-sr's own tiled upscaling converts images with these two (the bench compares its blend with zoo's)
    modules["torchvision.transforms"].ToTensor = _ToTensor  # type: ignore[attr-defined]
    modules["torchvision.transforms"].ToPILImage = _ToPILImage  # type: ignore[attr-defined]
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name in names:
            sys.modules.pop(name, None)  # gone again: nothing else sees the stand-in


def aura_sr() -> types.ModuleType:
    """The ``aura_sr`` module of aura-sr 0.0.4 (skips the test if it is not installed)."""
    pytest.importorskip("einops")
    if importlib.util.find_spec("aura_sr") is None:
        pytest.skip("aura-sr is not installed: pip install --no-deps aura-sr==0.0.4")
    with _torchvision_stand_in():
        return importlib.import_module("aura_sr")


def spandrel() -> types.ModuleType:
    """spandrel 0.4.2 (skips the test if it is not installed)."""
    pytest.importorskip("einops")
    if importlib.util.find_spec("spandrel") is None:
        pytest.skip("spandrel is not installed: pip install --no-deps spandrel==0.4.2")
    with _torchvision_stand_in():
        return importlib.import_module("spandrel")
