"""Estimators for front-door identified effects with a discrete treatment.

The front-door functional (X -> M -> Y with X <-> Y):
    psi(a) = sum_m P(m | a) sum_x' P(x') E[Y | m, x'],
for mediators M of any type (continuous ones included: no binning).

- ``regression``: the plug-in with flexible, cross-fitted models of E[Y | M, X=x'].
- ``aipw``: the one-step doubly robust estimator of Fulcher, Shpitser, Marealle and
  Tchetgen Tchetgen (2020), psi_plugin + mean of [P(M | a) / P(M | X)] (Y - E[Y | M, X]),
  with the density ratio from a cross-fitted classifier of X given M by Bayes' rule:
  P(M | a) / P(M | X) = [P(a | M) / P(X | M)] [P(X) / P(a)]. Its interval comes from the
  efficient influence function

    phi_a = ratio (Y - mu(M, X)) + 1{X=a} / P(a) (eta(M) - psi) + zeta_a(X) - psi,
    eta(m) = sum_x' P(x') mu(m, x'),   zeta_a(x') = E[mu(M, x') | X=a].
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zoo_core import InputError

from .backdoor import EffectNumbers
from .learners import Learners, cross_fit_proba, cross_fit_regression, folds_for

__all__ = ["estimate_frontdoor"]


def estimate_frontdoor(y: np.ndarray, t: np.ndarray, M: np.ndarray, a: Any, b: Any | None, learners: Learners, *,
                       estimator: str = "aipw", folds: int = 5, seed: int = 0) -> EffectNumbers:
    """psi(a) - psi(b) (or psi(a) alone when ``b`` is None) by the front-door formula."""
    levels = list(np.unique(t))
    for value in (a, b):
        if value is not None and value not in levels:
            raise InputError(f"no row has the treatment value {value}")
    n = len(y)
    p = np.array([np.mean(t == v) for v in levels])
    fold = folds_for(n, folds, t, seed)
    mu = np.column_stack([cross_fit_regression(M, y, fold, learners, train=t == v,
                                               role=f"outcome given mediators (treatment={v})") for v in levels])
    eta = mu @ p
    own = np.array([levels.index(v) for v in t])
    if estimator == "aipw":
        q = np.clip(cross_fit_proba(M, t, fold, learners), 1e-3, 1.0)
    resid = y - mu[np.arange(n), own]

    def one(value: Any) -> tuple[float, np.ndarray]:
        i = levels.index(value)
        at = t == value
        plug = float(eta[at].mean())
        if estimator != "aipw":
            return plug, np.zeros(n)
        zeta = mu[at].mean(axis=0)  # zeta_a(x') for every level x'
        ratio = (q[:, i] / q[np.arange(n), own]) * (p[own] / p[i])
        ratio = np.minimum(ratio, 100.0)
        correction = ratio * resid
        psi = plug + float(correction.mean())
        phi = correction + at / p[i] * (eta - plug) + zeta[own] - plug
        return psi, phi - phi.mean()

    va, fa = one(a)
    if b is None:
        value, influence, m1, m0 = va, fa, va, None
    else:
        vb, fb = one(b)
        value, influence, m1, m0 = va - vb, fa - fb, va, vb
    if estimator != "aipw":
        return EffectNumbers(value, None, m1, m0, None, None,
                             ["the front-door plug-in has no analytic interval; use --estimator aipw "
                              "(doubly robust, with an interval) or --bootstrap N"])
    se = float(influence.std(ddof=1) / math.sqrt(n))
    return EffectNumbers(value, se, m1, m0, influence, None)
