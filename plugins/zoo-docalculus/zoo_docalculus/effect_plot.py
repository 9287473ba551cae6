"""``--plot FILE.png``: propensity overlap by arm and covariate balance (a "love plot").

Drawn with matplotlib (Agg, no display), imported only when a plot is asked for; written
atomically (a temporary file renamed into place), never over an existing file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo_core import InputError

__all__ = ["check_plot_path", "write_effect_plot"]


def check_plot_path(path: Path | str) -> Path:
    """Fail before any work on a --plot we could not write."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"--plot {path}: the plot is a PNG; name it FILE.png")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--plot {path}: no folder {parent}; create it first")
    if path.exists():
        raise InputError(f"--plot {path}: the file exists; remove it or choose another name")
    return path


def write_effect_plot(path: Path, propensity: np.ndarray, arms: list[tuple[str, np.ndarray]],
                      balance: list[dict[str, Any]], title: str, trim: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zoo_core.atomic import atomic_target

    height = max(3.0, 0.28 * len(balance) + 1.2)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, height), gridspec_kw={"width_ratios": [1.1, 1]})
    bins = np.linspace(0, 1, 41)
    colours = ["#c0392b", "#2471a3"]
    for (label, rows), colour in zip(arms, colours):
        left.hist(propensity[rows], bins=bins, alpha=0.55, density=True, color=colour, label=f"{label} ({int(rows.sum())})")
    for edge in (trim, 1 - trim):
        if 0 < trim < 0.5:
            left.axvline(edge, color="grey", linestyle=":", linewidth=1)
    left.set_xlabel(f"propensity P({arms[0][0]} | covariates)")
    left.set_ylabel("density")
    left.set_title("overlap")
    left.legend(fontsize=8)
    names = [b["covariate"] for b in balance]
    ys = np.arange(len(names))[::-1]
    right.scatter([abs(b["smd_before"]) for b in balance], ys, marker="o", facecolors="none",
                  edgecolors="#7f8c8d", label="before weighting")
    right.scatter([abs(b["smd_after"]) for b in balance], ys, marker="o", color="#1e8449", label="after weighting")
    right.axvline(0.1, color="grey", linestyle=":", linewidth=1)
    right.set_yticks(ys)
    right.set_yticklabels(names, fontsize=8)
    right.set_xlabel("|standardized mean difference|")
    right.set_title("balance")
    right.legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_target(path, overwrite=False) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path
