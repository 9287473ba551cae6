"""A Morpho-MNIST-like data set drawn with Pillow: digits whose stroke thickness and intensity we set.

Each image is a 28x28 greyscale digit-like figure (10 hand-made stroke templates, jittered by a
random affine map and per-point noise) drawn with round strokes at 4x and box-downsampled. The
attributes follow the Morpho-MNIST SCM of Pawlowski et al. 2020: ``thickness = 0.5 + Gamma(10,
0.2)`` pixels, ``intensity = 64 + 191 * sigmoid(0.5 * eps + 2 * thickness - 5)`` (the stroke's
grey level), ``digit`` uniform over 0-9 and independent. So thickness -> intensity, and all
three cause the image. ``write_strokes`` writes ``00000.png ...``, ``attributes.csv`` (file,
thickness, intensity, digit) and ``graph.txt``: a folder ``zoo train deep-scm`` takes as is.

    python -m zoo_causalgen.strokes --out digits/ --num 8000 --seed 0
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["TEMPLATES", "sample_attributes", "draw_digit", "write_strokes", "GRAPH"]

GRAPH = "thickness -> intensity; thickness -> image; intensity -> image; digit -> image"
SIZE, SCALE = 28, 4


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, end: float = 2 * math.pi,
             n: int = 20) -> list[tuple[float, float]]:
    return [(cx + rx * math.sin(a), cy - ry * math.cos(a)) for a in np.linspace(start, end, n)]


#: each digit as polylines in the unit square (y down)
TEMPLATES: dict[int, list[list[tuple[float, float]]]] = {
    0: [_ellipse(0.5, 0.5, 0.25, 0.38, n=28)],
    1: [[(0.38, 0.24), (0.52, 0.1), (0.52, 0.9)]],
    2: [[(0.25, 0.3), (0.35, 0.15), (0.6, 0.12), (0.72, 0.3), (0.6, 0.5), (0.25, 0.88), (0.78, 0.88)]],
    3: [[(0.25, 0.15), (0.7, 0.15), (0.45, 0.45), (0.72, 0.62), (0.6, 0.85), (0.25, 0.85)]],
    4: [[(0.62, 0.9), (0.62, 0.1), (0.2, 0.65), (0.8, 0.65)]],
    5: [[(0.75, 0.12), (0.3, 0.12), (0.28, 0.45), (0.6, 0.42), (0.75, 0.62), (0.6, 0.86), (0.25, 0.85)]],
    6: [[(0.7, 0.12), (0.4, 0.3), (0.28, 0.65), (0.45, 0.88), (0.7, 0.75), (0.65, 0.52), (0.3, 0.6)]],
    7: [[(0.22, 0.12), (0.78, 0.12), (0.42, 0.9)]],
    8: [_ellipse(0.5, 0.3, 0.19, 0.18, n=20), _ellipse(0.5, 0.68, 0.24, 0.21, n=22)],
    9: [_ellipse(0.48, 0.32, 0.22, 0.2, n=22), [(0.7, 0.32), (0.62, 0.9)]],
}


def sample_attributes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """thickness (pixels), intensity (grey level), digit: the Morpho-MNIST SCM."""
    thickness = 0.5 + rng.gamma(10.0, 0.2, n)
    intensity = 64 + 191 / (1 + np.exp(-(0.5 * rng.standard_normal(n) + 2 * thickness - 5)))
    digit = rng.integers(0, 10, n)
    return {"thickness": thickness, "intensity": intensity, "digit": digit.astype(np.float64)}


def draw_digit(digit: int, thickness: float, intensity: float, rng: np.random.Generator) -> np.ndarray:
    """One uint8 (28, 28) image: the template jittered by ``rng``, drawn ``thickness`` pixels wide."""
    angle, shear = rng.uniform(-0.25, 0.25), rng.uniform(-0.2, 0.2)
    scale = rng.uniform(0.78, 1.0)
    shift = rng.uniform(-0.05, 0.05, 2)
    c, s = math.cos(angle), math.sin(angle)
    big = SIZE * SCALE
    canvas = Image.new("L", (big, big), 0)
    pen = ImageDraw.Draw(canvas)
    width = max(1, int(round(thickness * SCALE)))
    for line in TEMPLATES[int(digit)]:
        points = []
        for x, y in line:
            x, y = x - 0.5 + rng.normal(0, 0.015), y - 0.5 + rng.normal(0, 0.015)
            x = x + shear * y
            x, y = (c * x - s * y) * scale, (s * x + c * y) * scale
            points.append(((x + 0.5 + shift[0]) * 0.8 * big + 0.1 * big, (y + 0.5 + shift[1]) * 0.8 * big + 0.1 * big))
        pen.line(points, fill=255, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round caps
            pen.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    small = np.asarray(canvas.resize((SIZE, SIZE), Image.Resampling.BOX), dtype=np.float64)
    return np.round(small / 255.0 * intensity).astype(np.uint8)


def write_strokes(out_dir: Path, num: int, seed: int = 0) -> Path:
    """Write ``num`` images, ``attributes.csv`` and ``graph.txt`` into ``out_dir``; returns the CSV."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    values = sample_attributes(rng, num)
    rows = []
    for i in range(num):
        name = f"{i:05d}.png"
        pixels = draw_digit(int(values["digit"][i]), values["thickness"][i], values["intensity"][i], rng)
        Image.fromarray(pixels, mode="L").save(out_dir / name)
        rows.append([name, f"{values['thickness'][i]:.5f}", f"{values['intensity'][i]:.3f}", int(values["digit"][i])])
    path = out_dir / "attributes.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "thickness", "intensity", "digit"])
        writer.writerows(rows)
    (out_dir / "graph.txt").write_text(GRAPH.replace("; ", "\n") + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--num", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write_strokes(args.out, args.num, args.seed))


if __name__ == "__main__":
    main()
