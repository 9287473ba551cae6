"""Estimators for back-door identified effects on continuous and mixed data.

For E[Y | do(T=a)] - E[Y | do(T=b)] with a back-door set X (found by the identification
step), on arrays:

- ``aipw``: augmented inverse-propensity weighting, doubly robust, with K-fold cross-fitted
  outcome and propensity models (double machine learning); interval from the influence
  function. For a continuous treatment, the doubly robust kernel estimator of Kennedy et al.
  (2017): pseudo-outcomes smoothed by local linear regression at a and b.
- ``ipw``: stabilized (Hajek) inverse-propensity weighting.
- ``matching``: nearest-neighbour matching with replacement on the propensity score's logit
  or on the covariates (Mahalanobis), with Abadie and Imbens' (2006) standard error.
- ``regression``: the g-formula with a flexible outcome model (plug-in; no interval unless
  bootstrapped).

Targets: ``ate`` (everyone), ``att`` (those with T=a), ``atc`` (those with T=b). Units whose
propensity lies outside [trim, 1 - trim] are dropped from the target population first (only
where their weights blow up: treated-like controls for the ATT, control-like treated for the
ATC) and counted in the diagnostics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo_core import InputError

from .learners import Learners, cross_fit_proba, cross_fit_regression, folds_for

__all__ = ["ArmsFit", "fit_arms", "estimate_arms", "estimate_continuous", "EffectNumbers", "TARGETS"]

TARGETS = ("ate", "att", "atc")
Z95 = 1.959963984540054


@dataclass
class EffectNumbers:
    """One estimator's answer on arrays: the contrast, its standard error and the means of
    the two potential outcomes over the target population."""

    value: float
    std_error: float | None
    treated_mean: float | None = None
    control_mean: float | None = None
    influence: np.ndarray | None = None  # per-row influence function (for CATE and bootstrap-free SEs)
    weights: np.ndarray | None = None  # balancing weights of the target (for the balance table)
    notes: list[str] = field(default_factory=list)

    @property
    def interval(self) -> list[float] | None:
        if self.std_error is None or not math.isfinite(self.std_error):
            return None
        return [self.value - Z95 * self.std_error, self.value + Z95 * self.std_error]


@dataclass
class ArmsFit:
    """Cross-fitted nuisances for a discrete treatment contrast ``a`` vs ``b``."""

    y: np.ndarray
    treated: np.ndarray  # T == a
    control: np.ndarray  # T == b
    X: np.ndarray
    e1: np.ndarray  # P(T=a | X), out of fold
    e0: np.ndarray  # P(T=b | X)
    mu1: np.ndarray  # E[Y | T=a, X], out of fold
    mu0: np.ndarray
    keep: np.ndarray  # rows inside the trimming bounds
    trim: float
    target: str

    @property
    def trimmed(self) -> int:
        return int((~self.keep).sum())


def fit_arms(y: np.ndarray, t: np.ndarray, X: np.ndarray, a: Any, b: Any, learners: Learners, *,
             folds: int = 5, seed: int = 0, trim: float = 0.01, target: str = "ate",
             need_outcome: bool = True) -> ArmsFit:
    """Cross-fit the propensity of every treatment value and the outcome model of arms a and b."""
    treated, control = t == a, t == b
    n = len(y)
    fold = folds_for(n, folds, t, seed)
    if X.shape[1] == 0:  # nothing to adjust for: the marginal frequencies and arm means
        e1 = np.full(n, treated.mean())
        e0 = np.full(n, control.mean())
        mu1 = np.full(n, y[treated].mean())
        mu0 = np.full(n, y[control].mean())
    else:
        proba = cross_fit_proba(X, t, fold, learners)
        levels = list(np.unique(t))
        e1, e0 = proba[:, levels.index(a)], proba[:, levels.index(b)]
        if need_outcome:
            mu1 = cross_fit_regression(X, y, fold, learners, train=treated, role="outcome (treated arm)")
            mu0 = cross_fit_regression(X, y, fold, learners, train=control, role="outcome (control arm)")
        else:
            mu1 = mu0 = np.zeros(n)
    low = trim
    if target == "att":  # controls that look treated get huge weights e1/e0
        keep = e0 >= low
    elif target == "atc":
        keep = e1 >= low
    else:
        keep = (e1 >= low) & (e0 >= low) if trim > 0 else np.ones(n, dtype=bool)
    keep &= (treated | control) | (target == "ate")
    e1 = np.clip(e1, 1e-6, 1.0)
    e0 = np.clip(e0, 1e-6, 1.0)
    return ArmsFit(y, treated, control, X, e1, e0, mu1, mu0, keep, trim, target)


def target_weights(fit: ArmsFit) -> np.ndarray:
    """Balancing weights that make each arm resemble the target population."""
    t1, t0 = fit.treated, fit.control
    if fit.target == "att":
        w = np.where(t1, 1.0, np.where(t0, fit.e1 / fit.e0, 0.0))
    elif fit.target == "atc":
        w = np.where(t0, 1.0, np.where(t1, fit.e0 / fit.e1, 0.0))
    else:
        w = np.where(t1, 1.0 / fit.e1, np.where(t0, 1.0 / fit.e0, 0.0))
    return np.where(fit.keep, w, 0.0)


def estimate_arms(fit: ArmsFit, estimator: str, *, match_on: str = "propensity",
                  neighbours: int = 1) -> EffectNumbers:
    """The contrast E[Y(a)] - E[Y(b)] over the target by ``estimator`` from the fitted nuisances."""
    k = fit.keep
    y, t1, t0 = fit.y[k], fit.treated[k], fit.control[k]
    e1, e0, mu1, mu0 = fit.e1[k], fit.e0[k], fit.mu1[k], fit.mu0[k]
    n = len(y)
    if not t1.any() or not t0.any():
        raise InputError("after trimming, one treatment arm has no rows; lower --trim or check overlap")
    weights = np.zeros(len(fit.y))
    weights[k] = target_weights(fit)[k]
    if estimator == "aipw":
        if fit.target == "ate":
            phi1 = mu1 + t1 * (y - mu1) / e1
            phi0 = mu0 + t0 * (y - mu0) / e0
            m1, m0 = phi1.mean(), phi0.mean()
            influence = (phi1 - phi0) - (m1 - m0)
        elif fit.target == "att":
            p = t1.mean()
            r0 = t0 * (e1 / e0) * (y - mu0)
            m1 = y[t1].mean()
            m0 = float(((t1 * mu0) + r0).sum() / t1.sum())
            value = m1 - m0
            influence = (t1 * (y - mu0 - value) - r0) / p
        else:  # atc
            p = t0.mean()
            r1 = t1 * (e0 / e1) * (y - mu1)
            m0 = y[t0].mean()
            m1 = float(((t0 * mu1) + r1).sum() / t0.sum())
            value = m1 - m0
            influence = (t0 * (mu1 - y - value) + r1) / p
        se = float(influence.std(ddof=1) / math.sqrt(n))
        return EffectNumbers(float(m1 - m0), se, float(m1), float(m0), _spread(influence, k), weights)
    if estimator == "ipw":
        w = weights[k]
        w1, w0 = w * t1, w * t0
        m1 = float((w1 * y).sum() / w1.sum())
        m0 = float((w0 * y).sum() / w0.sum())
        influence = w1 * (y - m1) / w1.mean() - w0 * (y - m0) / w0.mean()
        se = float(influence.std(ddof=1) / math.sqrt(n))
        return EffectNumbers(m1 - m0, se, m1, m0, _spread(influence, k), weights)
    if estimator == "regression":
        if fit.target == "att":
            rows = t1
        elif fit.target == "atc":
            rows = t0
        else:
            rows = np.ones(n, dtype=bool)
        m1, m0 = float(mu1[rows].mean()), float(mu0[rows].mean())
        return EffectNumbers(m1 - m0, None, m1, m0, None, weights,
                             ["the g-formula with a flexible outcome model has no analytic interval; pass "
                              "--bootstrap N for one"])
    if estimator == "matching":
        return _matching(fit, match_on, neighbours)
    raise InputError(f"--estimator {estimator}: not an estimator for a discrete treatment")


def _spread(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per-row values on the kept rows, zero on trimmed ones (full length, aligned with the data)."""
    full = np.zeros(len(keep))
    full[keep] = values
    return full


def _matching(fit: ArmsFit, match_on: str, m: int) -> EffectNumbers:
    """Nearest-neighbour matching with replacement; Abadie-Imbens (2006) standard error."""
    from scipy.spatial import cKDTree  # type: ignore[import-untyped]

    k = fit.keep
    y, t1, t0 = fit.y[k], fit.treated[k], fit.control[k]
    if match_on == "propensity":
        share = fit.e1[k] / (fit.e1[k] + fit.e0[k])
        share = np.clip(share, 1e-9, 1 - 1e-9)
        features = np.log(share / (1 - share))[:, None]
    else:
        X = fit.X[k]
        if X.shape[1] == 0:
            features = np.zeros((len(y), 1))
        else:
            cov = np.atleast_2d(np.cov(X, rowvar=False))
            values, vectors = np.linalg.eigh(cov)
            values = np.where(values > 1e-12 * max(values.max(), 1e-300), values, np.inf)
            features = X @ (vectors / np.sqrt(values))  # whitened: Euclidean = Mahalanobis
    idx1, idx0 = np.flatnonzero(t1), np.flatnonzero(t0)

    def impute(sources: np.ndarray, donors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean outcome of each source's m nearest donors, and how often each donor is used."""
        tree = cKDTree(features[donors])
        _, nearest = tree.query(features[sources], k=m)
        nearest = nearest.reshape(len(sources), m)
        used = np.bincount(nearest.ravel(), minlength=len(donors)) / m
        return y[donors][nearest].mean(axis=1), used

    def within(donors: np.ndarray) -> np.ndarray:
        """sigma^2 of each donor from its nearest same-arm neighbour (Abadie-Imbens, J=1)."""
        if len(donors) < 2:
            return np.zeros(len(donors))
        tree = cKDTree(features[donors])
        _, pair = tree.query(features[donors], k=2)
        return 0.5 * (y[donors] - y[donors][pair[:, 1]]) ** 2

    parts = []
    if fit.target in ("att", "ate"):
        y0_hat, used0 = impute(idx1, idx0)
        tau1 = y[idx1] - y0_hat
        parts.append(("att", tau1, used0, within(idx0), idx1))
    if fit.target in ("atc", "ate"):
        y1_hat, used1 = impute(idx0, idx1)
        tau0 = y1_hat - y[idx0]
        parts.append(("atc", tau0, used1, within(idx1), idx0))

    def variance(tau: np.ndarray, used: np.ndarray, sigma2: np.ndarray) -> tuple[float, float]:
        value = float(tau.mean())
        count = len(tau)
        v = (((tau - value) ** 2).sum() + ((used ** 2 - used / m) * sigma2).sum()) / count ** 2
        return value, v

    if fit.target == "ate":
        (_, tau1, used0, s0, _), (_, tau0, used1, s1, _) = parts
        n1, n0 = len(tau1), len(tau0)
        n = n1 + n0
        every = np.concatenate([tau1, tau0])
        value = float(every.mean())
        # each donor j is used K_j times across both directions, with the other arm's sources
        v = (((every - value) ** 2).sum() + ((used0 ** 2 - used0 / m) * s0).sum()
             + ((used1 ** 2 - used1 / m) * s1).sum()) / n ** 2
    else:
        _, tau, used, s, _ = parts[0]
        value, v = variance(tau, used, s)
    weights = np.zeros(len(fit.y))
    kept = np.flatnonzero(k)
    if fit.target in ("att", "ate"):
        weights[kept[idx1]] = 1.0
        weights[kept[idx0]] += parts[0][2]
    if fit.target in ("atc", "ate"):
        weights[kept[idx0]] += 1.0
        weights[kept[idx1]] += parts[-1][2]
    return EffectNumbers(value, math.sqrt(max(v, 0.0)), None, None, None, weights)


# -- continuous treatment -------------------------------------------------------------------

def estimate_continuous(y: np.ndarray, x: np.ndarray, Z: np.ndarray, a: float, b: float, learners: Learners, *,
                        estimator: str = "aipw", folds: int = 5, seed: int = 0,
                        bandwidth: float | None = None, reference: int = 1000, grid: int = 40) -> tuple[EffectNumbers, dict]:
    """E[Y | do(x=a)] - E[Y | do(x=b)] for a continuous treatment x adjusted for Z.

    ``aipw``: Kennedy et al.'s (2017) doubly robust pseudo-outcome
    xi = (Y - mu(x, Z)) f(x) / pi(x | Z) + m(x), with m(x) = E_Z[mu(x, Z)], smoothed by a local
    linear regression at a and b (Gaussian kernel, bandwidth by leave-one-out
    cross-validation). pi(x | Z) is Gaussian around a cross-fitted regression of x on Z.
    ``regression``: the g-formula m(a) - m(b) from the flexible outcome model.
    """
    n = len(y)
    lo, hi = float(x.min()), float(x.max())
    for value in (a, b):
        if not lo <= value <= hi:
            raise InputError(f"--query: do(...={value:g}) lies outside the treatment's observed range "
                             f"[{lo:.4g}, {hi:.4g}]; no data can say what happens there")
    rng = np.random.default_rng(seed)
    fold = folds_for(n, folds, None, seed)
    info: dict[str, Any] = {}
    if Z.shape[1] == 0:  # nothing to adjust for: xi is Y itself, smoothed at a and b
        mu = np.zeros(n)
        m_x = np.zeros(n)
        ratio = np.ones(n)
        m_at = {a: math.nan, b: math.nan}
        if estimator == "regression":
            models: dict[int, Any] = {}
            cross_fit_regression(x[:, None], y, fold, learners, models=models)
            m_at = {v: float(np.mean([m.predict(np.array([[v]]))[0] for m in models.values()])) for v in (a, b)}
    else:
        features = np.column_stack([x, Z])
        models = {}
        mu = cross_fit_regression(features, y, fold, learners, models=models)
        # m(x) = E_Z[mu(x, Z)] over every row's Z (a subsample's noise would not be corrected),
        # on a grid of treatment values, each row read off its own fold's model
        grid_x = np.unique(np.concatenate([np.quantile(x, np.linspace(0, 1, grid)), [a, b]]))
        m_x = np.empty(n)
        m_at = {a: 0.0, b: 0.0}
        for k, model in models.items():
            curve = np.array([model.predict(np.column_stack([np.full(n, v), Z])).mean() for v in grid_x])
            rows = fold == k
            m_x[rows] = np.interp(x[rows], grid_x, curve)
            for value in (a, b):
                m_at[value] += float(curve[np.searchsorted(grid_x, value)]) / len(models)
        # the treatment's density given Z: Gaussian around a cross-fitted mean
        centre = cross_fit_regression(Z, x, fold, learners, role="treatment model")
        sigma = float(np.sqrt(np.mean((x - centre) ** 2))) or 1e-12
        cond = np.exp(-0.5 * ((x - centre) / sigma) ** 2)
        ref_centres = centre[rng.choice(n, size=min(reference, n), replace=False)]
        marginal = np.array([np.exp(-0.5 * ((xi - ref_centres) / sigma) ** 2).mean() for xi in x])
        ratio = np.clip(marginal / np.maximum(cond, 1e-300), 0, 50)
        info.update({"density_ratio_max": float(ratio.max()), "density_ratio_ess": float(ratio.sum() ** 2 / (ratio ** 2).sum())})
    if estimator == "regression":
        return EffectNumbers(m_at[a] - m_at[b], None, m_at[a], m_at[b], None, None,
                             ["the g-formula with a flexible outcome model has no analytic interval; pass "
                              "--bootstrap N for one"]), info
    xi = (y - mu) * ratio + m_x
    h = bandwidth or _loo_bandwidth(x, xi)
    ta, la = _local_linear(x, xi, a, h)
    tb, lb = _local_linear(x, xi, b, h)
    fitted = _smooth_all(x, xi, h)
    residual = xi - fitted
    contrast = la - lb
    se = float(np.sqrt(np.sum(contrast ** 2 * residual ** 2)))
    sa = float(np.sqrt(np.sum(la ** 2 * residual ** 2)))
    sb = float(np.sqrt(np.sum(lb ** 2 * residual ** 2)))
    info.update(bandwidth=h, effective_rows_at={str(a): float(1 / np.sum(la ** 2)), str(b): float(1 / np.sum(lb ** 2))},
                treated_se=sa, control_se=sb)
    return EffectNumbers(ta - tb, se, ta, tb, None, None), info


def _local_linear(x: np.ndarray, v: np.ndarray, at: float, h: float) -> tuple[float, np.ndarray]:
    """Local linear estimate of E[v | x=at] and its weights l (estimate = l @ v)."""
    d = x - at
    k = np.exp(-0.5 * (d / h) ** 2)
    s0, s1, s2 = k.sum(), (k * d).sum(), (k * d * d).sum()
    denom = s0 * s2 - s1 * s1
    if denom <= 0:
        raise InputError("too few rows near the requested treatment value to estimate there")
    weights = k * (s2 - s1 * d) / denom
    return float(weights @ v), weights


def _smooth_all(x: np.ndarray, v: np.ndarray, h: float, loo: bool = False) -> np.ndarray:
    """Local linear fit at every x (leave-one-out when asked), in blocks to bound memory."""
    out = np.empty(len(x))
    for start in range(0, len(x), 512):
        at = x[start:start + 512]
        d = x[None, :] - at[:, None]
        k = np.exp(-0.5 * (d / h) ** 2)
        if loo:
            k[np.arange(len(at)), np.arange(start, start + len(at))] = 0.0
        s0, s1, s2 = k.sum(1), (k * d).sum(1), (k * d * d).sum(1)
        w = k * (s2[:, None] - s1[:, None] * d)
        denom = s0 * s2 - s1 * s1
        out[start:start + len(at)] = (w @ v) / np.where(denom > 0, denom, np.nan)
    return out


def _loo_bandwidth(x: np.ndarray, v: np.ndarray) -> float:
    """The bandwidth minimising the leave-one-out error of the local linear smoother (on up
    to 2,000 rows), over a grid around Silverman's rule."""
    rng = np.random.default_rng(0)
    rows = rng.choice(len(x), size=min(2000, len(x)), replace=False)
    xs, vs = x[rows], v[rows]
    spread = min(xs.std(), (np.quantile(xs, 0.75) - np.quantile(xs, 0.25)) / 1.349) or xs.std() or 1.0
    base = 0.9 * spread * len(xs) ** -0.2
    best, best_error = base, math.inf
    for factor in (0.125, 0.177, 0.25, 0.35, 0.5, 0.71, 1.0, 1.41, 2.0, 2.83, 4.0):
        h = base * factor
        fitted = _smooth_all(xs, vs, h, loo=True)
        error = float(np.nanmean((vs - fitted) ** 2))
        if error < best_error:
            best, best_error = h, error
    return best
