"""Data sets with a known effect, for checking effect estimators (tests and bench/).

``confounded(n, seed)``: five covariates, a binary treatment whose propensity is non-linear
in them (and reaches within a few percent of 0 and 1: limited overlap), an outcome that is
non-linear in them with a heterogeneous effect and heteroskedastic noise. The true ATE is
exactly 1.5; the true ATT and ATC are computed from the sample's own treatment effects.

``dose_response(n, seed)``: a continuous treatment confounded by one covariate with a
non-linear dose-response curve whose true value at any dose is known in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Simulated", "confounded", "dose_response", "CONFOUNDED_GRAPH", "DOSE_GRAPH"]

CONFOUNDED_GRAPH = "; ".join([f"X{i} -> T; X{i} -> Y" for i in range(1, 6)] + ["T -> Y"])
DOSE_GRAPH = "Z -> D; Z -> Y; D -> Y"
#: The ATE of ``confounded``: E[1 + 0.5 X2 + 1{X4 > 0} + 0.8 sin(1.5 X1)], X1, X2 ~ N(0, 1), P(X4 > 0) = 1/2.
CONFOUNDED_ATE = 1.5


@dataclass
class Simulated:
    columns: dict[str, np.ndarray]
    ate: float
    att: float
    atc: float


def confounded(n: int = 2000, seed: int = 0) -> Simulated:
    rng = np.random.default_rng(seed)
    x1, x2, x3, x4 = rng.normal(size=(4, n))
    x5 = (rng.random(n) < 0.4).astype(float)
    logit = -0.3 + 1.2 * np.sin(1.5 * x1) + 0.6 * x2 ** 2 - 0.8 * x3 * (x4 > 0) + 0.7 * x5 - 0.4
    propensity = 1 / (1 + np.exp(-1.4 * logit))
    t = (rng.random(n) < propensity).astype(float)
    # sin(1.5 X1) also drives the propensity, so the treated gain more than the controls would;
    # it is odd in X1 ~ N(0, 1), so the ATE stays exactly 1.5
    effect = 1 + 0.5 * x2 + (x4 > 0) + 0.8 * np.sin(1.5 * x1)
    base = np.exp(0.6 * x1) + 2 * np.sin(2 * x2) + 0.5 * x3 ** 2 + 1.5 * x5 * x4
    noise = rng.normal(size=n) * (0.5 + 0.5 * np.abs(x1))
    y = base + t * effect + noise
    columns = {"X1": x1, "X2": x2, "X3": x3, "X4": x4, "X5": x5, "T": t, "Y": y}
    return Simulated(columns, CONFOUNDED_ATE, float(effect[t == 1].mean()), float(effect[t == 0].mean()))


def dose_curve(d: np.ndarray | float) -> np.ndarray | float:
    """E[Y | do(D=d)] for ``dose_response``: E_Z[m(d, Z)] = 2 sin(1.5 d) + 0.5 d^2 (Z averages out)."""
    return 2 * np.sin(1.5 * np.asarray(d)) + 0.5 * np.asarray(d) ** 2


def dose_response(n: int = 3000, seed: int = 0, a: float = 0.5, b: float = -0.5) -> Simulated:
    """Y = 2 sin(1.5 D) + 0.5 D^2 + Z + 0.5 D Z + noise, D = 0.8 Z + noise: the contrast
    E[Y | do(D=a)] - E[Y | do(D=b)] is ``dose_curve(a) - dose_curve(b)`` (E[Z] = 0)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    d = 0.8 * z + rng.normal(size=n) * 0.8
    y = dose_curve(d) + z + 0.5 * d * z + rng.normal(size=n) * 0.5
    truth = float(dose_curve(a) - dose_curve(b))
    return Simulated({"Z": z, "D": d, "Y": y}, truth, truth, truth)
