"""The fashion scene: a real Fashion-MNIST garment, scaled and dimmed by an SCM; exact renders.

The exogenous image noise is a real garment: U_garment, an index into a Fashion-MNIST split
(``train`` for training data, ``test`` for evaluation, so the two never share a garment).
Its class is a property of the garment, not something one can set:

- ``garment_class`` = the label of garment U_garment (a root, 0-9; its law is uniform, as both
  splits are balanced). It is listed in ``NOT_INTERVENABLE``: do() on it is refused, because
  no garment would be left to draw.
- ``scale`` = clip(CLASS_SCALE[garment_class] + 0.1·σ·U_scale, 0.4, 1.0)
- ``brightness`` = clip(0.3 + 0.6·scale + 0.1·σ·U_brightness, 0.3, 1.0)
- U_scale, U_brightness ~ N(0, 1); DAG garment_class → scale → brightness.

Image (1 channel, uint8, default 32 × 32): the 28 × 28 garment resized to a square of side
round(28·scale·size/32) (half up) with Pillow's BILINEAR filter, pasted centred (offset
(size − side) // 2) on a black canvas, each pixel multiplied by brightness and rounded half
up. Everything is a fixed function of (garment, scale, brightness), so the exact
counterfactual "this very garment, but larger" is ``render`` with the same garment.

A clipped value (about 2% of scales at σ = 1 for the largest classes) abducts to the U at
the clip, so the counterfactual from abduction is exact only for unclipped units;
``true_intervention`` from the drawn noise is always exact.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image

from zoo_core import InputError

from ..scm import SCM, Mechanism, Values

__all__ = ["FACTORS", "NOT_INTERVENABLE", "CLASS_SCALE", "DEFAULT_SIZE", "GARMENT_SIZE", "scm", "garments",
           "sample", "render", "render_batch", "true_intervention", "true_images"]

FACTORS = ("garment_class", "scale", "brightness")
NOT_INTERVENABLE = ("garment_class",)  # a property of the garment (the image noise), not a knob
# Typical size of each class on the canvas (1.0 = the garment's own 28 px at 32 × 32):
# t-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot.
CLASS_SCALE = np.array([0.75, 0.8, 0.75, 0.8, 0.8, 0.65, 0.75, 0.65, 0.7, 0.7])
SCALE_SUPPORT = (0.4, 1.0)
BRIGHTNESS_SUPPORT = (0.3, 1.0)
NOISE_SCALE = 0.1  # the noise's standard deviation at sigma = 1
DEFAULT_SIZE = 32
GARMENT_SIZE = 28


# -- mechanisms ------------------------------------------------------------------------------

def _scale_base(parents: Values) -> np.ndarray:
    classes = np.clip(np.rint(np.asarray(parents["garment_class"])), 0, len(CLASS_SCALE) - 1).astype(np.int64)
    return CLASS_SCALE[classes]


def _brightness_base(parents: Values) -> np.ndarray:
    return 0.3 + 0.6 * np.asarray(parents["scale"], dtype=np.float64)


def _standard_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n)


def _normal_logpdf(u: np.ndarray) -> np.ndarray:
    return -0.5 * np.asarray(u) ** 2


def _uniform_class(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, len(CLASS_SCALE), n).astype(np.float64)


def _additive(base, support: tuple[float, float], spread: float) -> tuple:
    """(function, invert) of value = clip(base + spread·U, support)."""
    def function(parents: Values, u: np.ndarray) -> np.ndarray:
        return np.clip(base(parents) + spread * np.asarray(u), *support)

    def invert(parents: Values, value: np.ndarray) -> np.ndarray:
        if spread == 0:
            return np.zeros(np.shape(value))
        return (np.asarray(value, dtype=np.float64) - base(parents)) / spread
    return function, invert


def scm(sigma: float = 1.0) -> SCM:
    """The scene's SCM over scalar factors; ``sigma`` scales both noises (0: deterministic)."""
    spread = NOISE_SCALE * sigma
    scale_function, scale_invert = _additive(_scale_base, SCALE_SUPPORT, spread)
    light_function, light_invert = _additive(_brightness_base, BRIGHTNESS_SUPPORT, spread)
    return SCM([
        Mechanism("garment_class", noise=_uniform_class, support=(0.0, 9.0),
                  description="Fashion-MNIST class of the garment (0-9; given by the garment, cannot be set)"),
        Mechanism("scale", ("garment_class",), function=scale_function, noise=_standard_normal,
                  invert=scale_invert, noise_logpdf=_normal_logpdf, support=SCALE_SUPPORT,
                  unit="× 28/32 of the canvas", description="size of the garment on the canvas"),
        Mechanism("brightness", ("scale",), function=light_function, noise=_standard_normal,
                  invert=light_invert, noise_logpdf=_normal_logpdf, support=BRIGHTNESS_SUPPORT,
                  description="factor every pixel of the garment is multiplied by"),
    ])


# -- garments --------------------------------------------------------------------------------

def garments(split: str = "train", data_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) int64) of a Fashion-MNIST split, read once (read-only arrays)."""
    folder = data_dir if data_dir is not None else os.environ.get("ZOO_FASHION_MNIST_DIR") or None
    return _garments(split, None if folder is None else str(folder))


@functools.lru_cache(maxsize=4)
def _garments(split: str, folder: str | None) -> tuple[np.ndarray, np.ndarray]:
    from zoo_core.data import load_fashion_mnist  # imports torch: only when garments are needed

    data = load_fashion_mnist(split, None if folder is None else Path(folder))
    images = data.images[:, 0].numpy().copy()
    labels = data.labels.numpy().astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def sample(rng: np.random.Generator, n: int, sigma: float = 1.0, split: str = "train",
           data_dir: Path | None = None) -> tuple[Values, Values]:
    """(factors, noise) of n units: a garment drawn uniformly from ``split``, then the SCM's noise.

    ``noise["garment"]`` is the garment's index (U_garment) and ``noise["garment_class"]`` its class.
    """
    images, labels = garments(split, data_dir)
    index = rng.integers(0, len(images), n)
    noise = scm(sigma).sample_noise(rng, n)
    noise["garment_class"] = labels[index].astype(np.float64)
    noise["garment"] = index.astype(np.float64)
    return scm(sigma).solve(noise), noise


def true_intervention(noise: Values, do: Mapping[str, float], sigma: float = 1.0) -> Values:
    """The exact factors of the units with exogenous ``noise`` under ``do`` (not on ``garment_class``)."""
    refused = [name for name in do if name in NOT_INTERVENABLE]
    if refused:
        raise InputError(f"--do: {refused[0]} is a property of the garment and cannot be intervened on")
    return scm(sigma).solve(noise, do)


def true_images(noise: Values, do: Mapping[str, float] | None = None, sigma: float = 1.0,
                size: int = DEFAULT_SIZE, split: str = "train", data_dir: Path | None = None) -> np.ndarray:
    """The exact images (N, size, size, 1) of the units with exogenous ``noise`` under ``do``."""
    images, _ = garments(split, data_dir)
    index = np.asarray(noise["garment"]).astype(np.int64)
    return render_batch(true_intervention(noise, do or {}, sigma), images[index], size)


# -- rendering -------------------------------------------------------------------------------

def garment_side(scale: float, size: int = DEFAULT_SIZE) -> int:
    """Side in pixels of the resized garment: round(28·scale·size/32), half up, within 1..size."""
    return min(size, max(1, math.floor(GARMENT_SIZE * scale * size / DEFAULT_SIZE + 0.5)))


def render(values: Mapping[str, float], garment: np.ndarray, size: int = DEFAULT_SIZE) -> np.ndarray:
    """The image (size, size, 1) uint8 of one garment (28 × 28 uint8) at the given scale and brightness."""
    side = garment_side(float(values["scale"]), size)
    resized = Image.fromarray(np.ascontiguousarray(garment, dtype=np.uint8))
    resized = resized.resize((side, side), Image.Resampling.BILINEAR)
    canvas = np.zeros((size, size), dtype=np.float64)
    offset = (size - side) // 2
    canvas[offset:offset + side, offset:offset + side] = np.asarray(resized)
    lit = np.floor(canvas * float(values["brightness"]) + 0.5)
    return np.clip(lit, 0, 255).astype(np.uint8)[:, :, None]


def render_batch(values: Values, garments_: np.ndarray, size: int = DEFAULT_SIZE) -> np.ndarray:
    """The images (N, size, size, 1) uint8 of N garments (N, 28, 28) with their factor values."""
    scale = np.asarray(values["scale"], dtype=np.float64)
    brightness = np.asarray(values["brightness"], dtype=np.float64)
    out = np.empty((len(scale), size, size, 1), dtype=np.uint8)
    for i in range(len(scale)):
        out[i] = render({"scale": scale[i], "brightness": brightness[i]}, garments_[i], size)
    return out
