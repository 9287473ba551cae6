"""The pendulum scene: a pendulum lit by a sun casts a shadow; its SCM and an exact renderer.

Implements /work/shared/pendulum-scene.md (geometry after CausalVAE's pendulum data set, with
exogenous noise on the shadow so that counterfactuals need abduction):

- roots θ = ``pendulum_angle`` ~ U(−0.628, 0.675) and φ = ``light_angle`` ~ U(0.942, 2.309);
- S = ``shadow_length`` = max(3, 9.5·|cos(φ − θ)|/sin φ) + σ·U_S, then at least 0.5;
- M = ``shadow_position`` = 10 + 4.75·sin θ − (11 − 4.75·cos θ)·cot φ + σ·U_M;
- U_S, U_M ~ N(0, 1).

The renderer fixes every pixel from the factors alone, so the image of an intervention or a
counterfactual is exact and a generated image can be scored against it. It rasterises at 4×
the output size by testing each pixel's centre (disks in world units, where the 20 × 22 window
on a square image makes them slightly wide ellipses; lines by their width in pixels with flat
ends, so a shadow is drawn exactly S long), then averages 4 × 4 blocks with integer rounding
(half up): pure numpy and ``math``, no dependence on a drawing library's version.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ..scm import SCM, Mechanism, Values

__all__ = ["FACTORS", "THETA_PRIOR", "PHI_PRIOR", "WORLD", "DEFAULT_SIZE", "scm", "render", "render_batch",
           "true_intervention", "true_images", "shadow_cut_off", "line_width"]

FACTORS = ("pendulum_angle", "light_angle", "shadow_length", "shadow_position")
THETA_PRIOR = (-0.628, 0.675)  # CausalVAE's angles −40..43 × π/200
PHI_PRIOR = (0.942, 2.309)  # CausalVAE's light angles 60..147 × π/200
WORLD = (0.0, 20.0, -1.0, 21.0)  # x_min, x_max, y_min, y_max: the window shown on the square image
DEFAULT_SIZE = 64
PIVOT = (10.0, 10.5)
ROD = 8.0  # pivot to ball centre
BALL_RADIUS, BALL_COLOUR = 1.5, (178, 34, 34)
SUN_RADIUS, SUN_Y, SUN_COLOUR = 3.0, 20.5, (255, 165, 0)
SHADOW_Y = -0.5
BLACK = (0, 0, 0)
SUPERSAMPLE = 4


# -- mechanisms ------------------------------------------------------------------------------

def _length_base(parents: Values) -> np.ndarray:
    theta, phi = parents["pendulum_angle"], parents["light_angle"]
    return np.maximum(3.0, 9.5 * np.abs(np.cos(phi - theta)) / np.sin(phi))


def _position_base(parents: Values) -> np.ndarray:
    theta, phi = parents["pendulum_angle"], parents["light_angle"]
    return 10.0 + 4.75 * np.sin(theta) - (11.0 - 4.75 * np.cos(theta)) * np.cos(phi) / np.sin(phi)


def _standard_normal(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n)


def _normal_logpdf(u: np.ndarray) -> np.ndarray:
    return -0.5 * np.asarray(u) ** 2


def _uniform(low: float, high: float):
    return lambda rng, n: rng.uniform(low, high, n)


def _inverse(base, sigma: float):
    """U = (value − base)/σ (zeros when σ = 0: the value then carries no noise)."""
    def invert(parents: Values, value: np.ndarray) -> np.ndarray:
        if sigma == 0:
            return np.zeros(np.shape(value))
        return (np.asarray(value, dtype=np.float64) - base(parents)) / sigma
    return invert


def scm(sigma: float = 1.0) -> SCM:
    """The scene's SCM with noise scale ``sigma`` on both shadow factors (0: CausalVAE's shadows).

    A shadow length clipped at 0.5 (U_S below about −2.5σ) abducts to the U at the clip.
    """
    parents = ("pendulum_angle", "light_angle")
    return SCM([
        Mechanism("pendulum_angle", noise=_uniform(*THETA_PRIOR), support=THETA_PRIOR, unit="rad",
                  description="angle of the pendulum from hanging straight down (positive: ball to the right)"),
        Mechanism("light_angle", noise=_uniform(*PHI_PRIOR), support=PHI_PRIOR, unit="rad",
                  description="direction toward the sun from the +x axis (π/2: overhead)"),
        Mechanism("shadow_length", parents,
                  function=lambda p, u: np.maximum(_length_base(p) + sigma * u, 0.5),
                  noise=_standard_normal, invert=_inverse(_length_base, sigma), noise_logpdf=_normal_logpdf,
                  support=(0.5, 20.0), unit="world units",
                  description="length of the pendulum's shadow on the ground"),
        Mechanism("shadow_position", parents,
                  function=lambda p, u: _position_base(p) + sigma * u,
                  noise=_standard_normal, invert=_inverse(_position_base, sigma), noise_logpdf=_normal_logpdf,
                  support=(0.0, 20.0), unit="world units",
                  description="x of the shadow's midpoint (0-20: inside the picture)"),
    ])


def true_intervention(noise: Values, do: Mapping[str, float], sigma: float = 1.0) -> Values:
    """The exact factors of the units with exogenous ``noise`` under ``do``.

    do(θ) or do(φ) recomputes S and M with the same U; do(S) or do(M) leaves θ and φ (so the
    pendulum and the sun) as they were, since nothing depends on the shadow.
    """
    return scm(sigma).solve(noise, do)


def true_images(noise: Values, do: Mapping[str, float] | None = None, sigma: float = 1.0,
                size: int = DEFAULT_SIZE) -> np.ndarray:
    """The exact images (N, H, W, 3) of the units with exogenous ``noise`` under ``do``."""
    return render_batch(true_intervention(noise, do or {}, sigma), size)


def shadow_cut_off(values: Mapping[str, np.ndarray]) -> np.ndarray:
    """Whether each shadow runs past the left or right edge of the window (its length is then unreadable)."""
    half = np.asarray(values["shadow_length"]) / 2
    middle = np.asarray(values["shadow_position"])
    return (middle - half < WORLD[0]) | (middle + half > WORLD[1])


# -- rendering -------------------------------------------------------------------------------

def line_width(size: int) -> int:
    """Line width in pixels at the 4× drawing size: round(16·size/96) (half up), at least 1."""
    return max(1, (16 * size + 48) // 96)


def _to_pixels(x: float, y: float, side: int) -> tuple[float, float]:
    """World (x, y) → continuous pixel (column, row) of a ``side``-pixel image; (0, 0) is the top-left corner."""
    x_min, x_max, y_min, y_max = WORLD
    return (x - x_min) / (x_max - x_min) * side, (y_max - y) / (y_max - y_min) * side


def _span(low: float, high: float, side: int) -> tuple[int, int]:
    """Pixel indices whose centres may lie in [low, high], clipped to the image."""
    return max(0, math.floor(low - 0.5)), min(side, math.ceil(high + 0.5))


def _disk(canvas: np.ndarray, x: float, y: float, radius: float, colour: tuple[int, int, int]) -> None:
    """Paint every pixel whose centre lies within ``radius`` world units of (x, y)."""
    side = canvas.shape[0]
    x_min, x_max, y_min, y_max = WORLD
    left, top = _to_pixels(x - radius, y + radius, side)
    right, bottom = _to_pixels(x + radius, y - radius, side)
    c0, c1 = _span(left, right, side)
    r0, r1 = _span(top, bottom, side)
    if c0 >= c1 or r0 >= r1:
        return
    wx = x_min + (np.arange(c0, c1) + 0.5) / side * (x_max - x_min)
    wy = y_max - (np.arange(r0, r1) + 0.5) / side * (y_max - y_min)
    inside = (wy[:, None] - y) ** 2 + (wx[None, :] - x) ** 2 <= radius * radius
    canvas[r0:r1, c0:c1][inside] = colour


def _line(canvas: np.ndarray, start: tuple[float, float], end: tuple[float, float], width: int,
          colour: tuple[int, int, int]) -> None:
    """Paint every pixel whose centre lies within width/2 pixels of the segment, flat ends."""
    side = canvas.shape[0]
    ax, ay = _to_pixels(*start, side)
    bx, by = _to_pixels(*end, side)
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    if length == 0:
        return
    half = width / 2
    c0, c1 = _span(min(ax, bx) - half, max(ax, bx) + half, side)
    r0, r1 = _span(min(ay, by) - half, max(ay, by) + half, side)
    if c0 >= c1 or r0 >= r1:
        return
    px = np.arange(c0, c1)[None, :] + 0.5 - ax
    py = np.arange(r0, r1)[:, None] + 0.5 - ay
    along = (px * dx + py * dy) / length
    across = np.abs(px * dy - py * dx) / length
    inside = (along >= 0) & (along <= length) & (across <= half)
    canvas[r0:r1, c0:c1][inside] = colour


def render(values: Mapping[str, float], size: int = DEFAULT_SIZE) -> np.ndarray:
    """The image (size, size, 3) uint8 of one set of factor values, exactly per the spec."""
    theta = float(values["pendulum_angle"])
    phi = float(values["light_angle"])
    length = float(values["shadow_length"])
    middle = float(values["shadow_position"])
    side = SUPERSAMPLE * size
    width = line_width(size)
    canvas = np.full((side, side, 3), 255, dtype=np.uint8)
    ball = (PIVOT[0] + ROD * math.sin(theta), PIVOT[1] - ROD * math.cos(theta))
    _line(canvas, PIVOT, ball, width, BLACK)
    _disk(canvas, *ball, BALL_RADIUS, BALL_COLOUR)
    _disk(canvas, PIVOT[0] + 10.0 * math.cos(phi) / math.sin(phi), SUN_Y, SUN_RADIUS, SUN_COLOUR)
    _line(canvas, (middle - length / 2, SHADOW_Y), (middle + length / 2, SHADOW_Y), width, BLACK)
    return _box_downsample(canvas)


def _box_downsample(canvas: np.ndarray) -> np.ndarray:
    """Average SUPERSAMPLE × SUPERSAMPLE blocks, rounding half up in integers (exact, fast)."""
    rows = canvas[0::SUPERSAMPLE].astype(np.uint16)
    for k in range(1, SUPERSAMPLE):
        rows += canvas[k::SUPERSAMPLE]
    blocks = rows[:, 0::SUPERSAMPLE].copy()
    for k in range(1, SUPERSAMPLE):
        blocks += rows[:, k::SUPERSAMPLE]
    area = SUPERSAMPLE * SUPERSAMPLE
    return ((blocks + area // 2) // area).astype(np.uint8)


def render_batch(values: Values, size: int = DEFAULT_SIZE) -> np.ndarray:
    """The images (N, size, size, 3) uint8 of N sets of factor values."""
    count = len(np.asarray(values[FACTORS[0]]))
    columns = {name: np.asarray(values[name], dtype=np.float64) for name in FACTORS}
    out = np.empty((count, size, size, 3), dtype=np.uint8)
    for i in range(count):
        out[i] = render({name: columns[name][i] for name in FACTORS}, size)
    return out
