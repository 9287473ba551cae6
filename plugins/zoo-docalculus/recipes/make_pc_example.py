"""Write zoo_docalculus/examples/pc-example.csv: the data set ``zoo run pc``'s example runs on.

1,000 seeded rows of a linear-Gaussian model A -> B -> D <- C, whose CPDAG PC should find:
A -- B, B -> D, C -> D. ``zoo plugins --check`` and ``zoo info pc`` use it; a test checks the
shipped file is exactly what this script writes.

    python plugins/zoo-docalculus/recipes/make_pc_example.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

TARGET = Path(__file__).resolve().parent.parent / "zoo_docalculus" / "examples" / "pc-example.csv"


def example_rows(n: int = 1000, seed: int = 20261201) -> str:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.8 * a + rng.normal(scale=0.6, size=n)
    c = rng.normal(size=n)
    d = 0.7 * b - 0.6 * c + rng.normal(scale=0.5, size=n)
    return "\n".join(["A,B,C,D"] + [f"{w:.4f},{x:.4f},{y:.4f},{z:.4f}" for w, x, y, z in zip(a, b, c, d)]) + "\n"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    out.write_text(example_rows())
    print(f"wrote {out}")
