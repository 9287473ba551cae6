"""Write zoo_docalculus/examples/fci-example.csv: the data set ``zoo run fci``'s example runs on.

1,000 seeded rows of a linear-Gaussian model with a hidden common cause L of B and D:
A -> B <- L -> D <- C and D -> E, L not in the file. FCI should find the PAG
A o-> B <-> D <-o C, D -> E: B <-> D says a latent confounder links B and D, and D -> E is a
visible edge (no latent confounder), so the effect of D on E is identifiable by adjustment.
``zoo plugins --check`` and ``zoo info fci`` use it; a test checks the shipped file is exactly
what this script writes.

    python plugins/zoo-docalculus/recipes/make_fci_example.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

TARGET = Path(__file__).resolve().parent.parent / "zoo_docalculus" / "examples" / "fci-example.csv"


def example_rows(n: int = 1000, seed: int = 20261202) -> str:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    c = rng.normal(size=n)
    latent = rng.normal(size=n)
    b = 0.8 * a + 0.8 * latent + rng.normal(scale=0.6, size=n)
    d = 0.8 * c - 0.8 * latent + rng.normal(scale=0.6, size=n)
    e = 0.7 * d + rng.normal(scale=0.6, size=n)
    rows = zip(a, b, c, d, e)
    return "\n".join(["A,B,C,D,E"] + [",".join(f"{v:.4f}" for v in row) for row in rows]) + "\n"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    out.write_text(example_rows())
    print(f"wrote {out}")
