"""Checks printed with every effect estimate, so that a wrong answer is not a confident one.

- **Overlap**: the propensity's range in each arm, the effective number of rows the weights
  leave (Kish: (sum w)^2 / sum w^2) and how many rows trimming dropped.
- **Balance**: standardized mean differences of each covariate between the arms, before and
  after weighting toward the target (the usual |SMD| < 0.1 rule of thumb).
- **Misspecification**: a linear-adjustment estimate that disagrees with the flexible one by
  more than 1.96 standard errors of their difference is flagged: the linear model is wrong
  for these data.
- **Sensitivity to unmeasured confounding**: the E-value (VanderWeele and Ding 2017): how
  strongly (as a risk ratio, with both treatment and outcome) a hidden confounder would have
  to be associated to explain the estimate away; for a continuous outcome via the
  standardized effect d = effect / sd(outcome), RR ~ exp(0.91 d). And, for the linear
  estimate, Cinelli and Hazlett's (2020) robustness value: the share of residual variance of
  both treatment and outcome a confounder would need to explain to bring the estimate to 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["overlap", "balance", "e_value", "robustness_value", "misspecification", "warnings_for"]

#: |standardized mean difference| above this after weighting counts as imbalance.
SMD_LIMIT = 0.1


def overlap(propensity: np.ndarray, arms: list[tuple[str, np.ndarray]], weights: np.ndarray,
            trimmed: int, trim: float) -> dict[str, Any]:
    """Propensity (of the first arm's value) range per arm, effective rows, rows trimmed."""
    per_arm = []
    for label, rows in arms:
        p = propensity[rows]
        w = weights[rows]
        ess = float(w.sum() ** 2 / (w ** 2).sum()) if (w ** 2).sum() > 0 else 0.0
        per_arm.append({"arm": label, "rows": int(rows.sum()),
                        "propensity_min": float(p.min()) if len(p) else None,
                        "propensity_max": float(p.max()) if len(p) else None,
                        "effective_rows": round(ess, 1),
                        "largest_weight_share": float(w.max() / w.sum()) if w.sum() > 0 else None})
    return {"arms": per_arm, "trim": trim, "rows_trimmed": int(trimmed)}


def _smd(x: np.ndarray, rows1: np.ndarray, rows0: np.ndarray, w: np.ndarray | None, scale: float) -> float:
    if w is None:
        m1, m0 = x[rows1].mean(), x[rows0].mean()
    else:
        w1, w0 = w[rows1], w[rows0]
        if w1.sum() <= 0 or w0.sum() <= 0:
            return math.nan
        m1, m0 = np.average(x[rows1], weights=w1), np.average(x[rows0], weights=w0)
    return float((m1 - m0) / scale) if scale > 0 else 0.0


def balance(X: np.ndarray, names: list[str], rows1: np.ndarray, rows0: np.ndarray,
            weights: np.ndarray) -> list[dict[str, Any]]:
    """Standardized mean differences (treated - control) before and after weighting; the
    scale is the unweighted pooled standard deviation, as is customary."""
    table = []
    for j, name in enumerate(names):
        x = X[:, j]
        scale = math.sqrt((x[rows1].var(ddof=1) + x[rows0].var(ddof=1)) / 2) if min(rows1.sum(), rows0.sum()) > 1 else 0.0
        table.append({"covariate": name, "smd_before": _smd(x, rows1, rows0, None, scale),
                      "smd_after": _smd(x, rows1, rows0, weights, scale)})
    return table


def e_value(value: float, interval: list[float] | None, outcome_sd: float,
            means: tuple[float, float] | None = None, binary: bool = False) -> dict[str, Any]:
    """The E-value of the estimate and of the interval's limit nearest the null."""
    def from_rr(rr: float) -> float:
        rr = 1 / rr if rr < 1 else rr
        return float(rr + math.sqrt(rr * (rr - 1)))

    def rr_of(effect: float) -> float:
        if binary and means is not None and means[1] > 0 and means[1] + effect > 0:
            return (means[1] + effect) / means[1]
        return math.exp(0.91 * effect / outcome_sd) if outcome_sd > 0 else 1.0

    result: dict[str, Any] = {"point": from_rr(rr_of(value)),
                              "scale": "risk ratio" if binary and means is not None else
                                       "approximate risk ratio exp(0.91 d), d = effect / sd(outcome)"}
    if interval is not None:
        lo, hi = interval
        result["interval"] = 1.0 if lo <= 0 <= hi else from_rr(rr_of(lo if lo > 0 else hi))
    return result


def robustness_value(t_statistic: float, dof: float) -> dict[str, float]:
    """Cinelli-Hazlett robustness values of a regression coefficient (q = 1: to bring it to 0;
    and at alpha = 0.05: to make it insignificant)."""
    from scipy.stats import t as student  # type: ignore[import-untyped]

    f = abs(t_statistic) / math.sqrt(max(dof, 1.0))
    rv = 0.5 * (math.sqrt(f ** 4 + 4 * f ** 2) - f ** 2)
    f_alpha = f - float(student.ppf(0.975, max(dof - 1, 1.0))) / math.sqrt(max(dof - 1, 1.0))
    rv_alpha = 0.0 if f_alpha <= 0 else 0.5 * (math.sqrt(f_alpha ** 4 + 4 * f_alpha ** 2) - f_alpha ** 2)
    return {"rv": float(rv), "rv_alpha_0.05": float(rv_alpha)}


def misspecification(flexible: tuple[float, float | None], linear: tuple[float, float | None]) -> dict[str, Any]:
    """Whether the linear estimate disagrees with the flexible one beyond their errors."""
    (fv, fs), (lv, ls) = flexible, linear
    if fs is None or ls is None:
        return {"flagged": None, "difference": lv - fv, "reason": "no standard error for one of the two"}
    spread = math.sqrt(fs ** 2 + ls ** 2)
    z = abs(lv - fv) / spread if spread > 0 else math.inf
    return {"flagged": bool(z > 1.96), "difference": float(lv - fv), "z": float(z)}


def warnings_for(diagnostics: dict[str, Any]) -> list[str]:
    """One line per diagnostic that should stop a user from trusting the number as it is."""
    lines = []
    ov = diagnostics.get("overlap")
    if ov:
        for arm in ov["arms"]:
            if arm["rows"] and arm["effective_rows"] < max(10.0, 0.05 * arm["rows"]):
                advice = ("look at the overlap with --plot" if diagnostics.get("target") == "att"
                          else "consider --trim 0.05, or --target att")
                lines.append(f"limited overlap: the weights leave {arm['effective_rows']:.0f} effective rows of "
                             f"{arm['rows']} in arm {arm['arm']}; the estimate rests on a few units ({advice})")
            share = arm.get("largest_weight_share")
            if share is not None and share > 0.1 and arm["rows"] > 20:
                lines.append(f"one row carries {share:.0%} of arm {arm['arm']}'s weight (extreme propensity)")
    bad = [b for b in diagnostics.get("balance", []) if abs(b["smd_after"]) > SMD_LIMIT and math.isfinite(b["smd_after"])]
    if bad:
        worst = max(bad, key=lambda b: abs(b["smd_after"]))
        lines.append(f"imbalance remains after weighting in {len(bad)} covariate(s), worst {worst['covariate']} "
                     f"(SMD {worst['smd_after']:+.2f}); the propensity model may be misspecified: try another --learner")
    mis = diagnostics.get("misspecification")
    if mis and mis.get("flagged"):
        lines.append(f"the linear estimate ({diagnostics['linear']['value']:.4g}) disagrees with the flexible one "
                     f"(z = {mis['z']:.1f}): a linear model does not fit these data; do not trust linear adjustment here")
    return lines
