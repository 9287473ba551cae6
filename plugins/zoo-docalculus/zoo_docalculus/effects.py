"""From an identified effect to a number you can trust: which estimators apply, the
estimate, its interval and the diagnostics that go with it.

Identification runs first and decides the shape of the estimand:

- **back-door** (a minimal adjustment set exists): ``aipw`` (default), ``ipw``, ``matching``,
  ``regression`` or ``linear``, for a discrete treatment (a contrast of two of its values) or a
  continuous one (``aipw`` becomes the doubly robust kernel estimator, ``regression`` the
  g-formula; ``ipw`` and ``matching`` need a discrete treatment);
- **front-door** (X -> M -> Y with no back-door set): ``aipw`` (Fulcher et al.'s doubly robust
  estimator, the default) or ``regression`` (the plug-in), for a discrete treatment and
  mediators of any type;
- **anything else** identified: the plug-in on the empirical joint table, which needs
  discrete data, and zoo says so rather than fall back to a linear model.

With ``--estimator auto`` on all-discrete data the exact plug-in on the table is used, as
before; a continuous column anywhere in the estimand selects the flexible estimators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from zoo_core import InputError

from .adjustment import is_frontdoor, minimal_backdoor_sets
from .backdoor import TARGETS, EffectNumbers, estimate_arms, estimate_continuous, fit_arms, target_weights
from .diagnostics import balance, e_value, misspecification, overlap, robustness_value, warnings_for
from .graph import ADMG
from .identify import Identification
from .learners import fitting_threads, resolve_learners, thread_limit
from .query import Contrast, Query
from .table import Table

__all__ = ["ESTIMATORS", "EffectOptions", "estimate_effect", "plan_for"]

ESTIMATORS = ("auto", "aipw", "ipw", "matching", "regression", "linear", "plug-in")
#: A treatment with more distinct numbers than this is continuous.
DISCRETE_LEVELS = 20


@dataclass
class EffectOptions:
    estimator: str = "auto"
    learner: Any = None
    target: str = "ate"
    folds: int = 5
    trim: float = 0.01
    seed: int = 0
    bootstrap: int = 0  # > 0: a bootstrap interval (refits everything each time)
    effect_modifiers: list[str] = field(default_factory=list)
    match_on: str = "propensity"
    neighbours: int = 1
    plot: Path | None = None

    def check(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise InputError(f"--estimator {self.estimator!r}: use one of {', '.join(ESTIMATORS)}")
        if self.target not in TARGETS:
            raise InputError(f"--target {self.target!r}: use one of {', '.join(TARGETS)}")
        if self.folds < 2:
            raise InputError(f"--folds {self.folds}: cross-fitting needs at least 2 folds")
        if not 0 <= self.trim < 0.5:
            raise InputError(f"--trim {self.trim}: give a propensity bound in [0, 0.5), e.g. 0.01")
        if self.neighbours < 1:
            raise InputError(f"--neighbours {self.neighbours}: match at least 1 neighbour")
        if self.match_on not in ("propensity", "covariates"):
            raise InputError(f"--match-on {self.match_on!r}: use propensity or covariates")


@dataclass
class Plan:
    kind: str  # "backdoor" or "frontdoor"
    outcome: str
    treatment: str
    variables: list[str]  # the adjustment set, or the mediators


def plan_for(graph: ADMG, ident: Identification, query: Query) -> Plan | str:
    """The estimand's shape for one E[Y | do(T=t)] query, or why no flexible estimator applies."""
    if not query.expectation:
        return "it estimates expectations E[...] (and their contrasts), not probabilities P(...)"
    if len(query.outcomes) != 1 or len(query.treatments) != 1:
        return "it takes one outcome and one treatment"
    if query.conditions:
        return "it takes no conditions (| Z=z); use --effect-modifiers for effects that vary with Z"
    (outcome,), (treatment,) = list(query.outcomes), list(query.treatments)
    sets = list(minimal_backdoor_sets(graph, [treatment], [outcome], limit=1000))
    if sets:
        return Plan("backdoor", outcome, treatment, graph.sort(min(sets, key=lambda s: len(list(s)))))
    from .expression import prob_terms

    assert ident.estimand is not None
    mentioned = {v for t in prob_terms(ident.estimand) for v in t.heads | t.given}
    mediators = graph.sort(mentioned - {outcome, treatment})
    if mediators and is_frontdoor(graph, [treatment], [outcome], mediators):
        return Plan("frontdoor", outcome, treatment, mediators)
    return (f"{treatment} -> {outcome} is identified neither by back-door adjustment nor by the front-door "
            "formula here, so only the plug-in on the empirical joint table applies, which needs discrete data")


# -- the data as arrays ----------------------------------------------------------------------

def _numbers(table: Table, name: str, rows: np.ndarray, role: str) -> np.ndarray:
    if table.is_categorical(name):
        count, shown = table.levels(name)
        raise InputError(f"{table.path}: the {role} column {name!r} holds text ({shown}); effect estimation needs "
                         f"numbers: recode {name} as numbers (e.g. 0/1)")
    return table.numeric(name, rows)


def _design(table: Table, names: list[str], rows: np.ndarray, warn: Callable[[str], None]) -> tuple[np.ndarray, list[str]]:
    """Covariates as a float matrix: numbers as they are, categories one-hot (first level
    dropped); a column with one value carries no information and is left out with a warning."""
    columns, labels = [], []
    for name in names:
        if table.is_categorical(name):
            codes, levels = table.discrete(name, rows)
            if len(levels) > DISCRETE_LEVELS:
                from .estimate import _crowded

                raise InputError(_crowded(table, name))
            if len(levels) < 2:
                warn(f"{table.path}: covariate {name!r} has one value ({levels[0]}) in the rows used; left out")
                continue
            for i, level in enumerate(levels[1:], start=1):
                columns.append((codes == i).astype(np.float64))
                labels.append(f"{name}={level}")
        else:
            values = table.numeric(name, rows)
            if np.ptp(values) == 0:
                warn(f"{table.path}: covariate {name!r} is constant ({values[0]:g}) in the rows used; left out "
                     "(it cannot confound anything here)")
                continue
            columns.append(values)
            labels.append(name)
    X = np.column_stack(columns) if columns else np.zeros((int(rows.sum()), 0))
    return X, labels


def _treatment_values(table: Table, name: str, rows: np.ndarray, queries: list[Query]) -> tuple[np.ndarray, list[Any], bool]:
    """The treatment column, the query's values on its scale, and whether it is discrete."""
    given = [q.treatments[name] for q in queries]
    wanted: list[str] = [v for v in given if v is not None]
    if len(wanted) != len(given):
        raise InputError(f"--query: give the treatment a value, e.g. do({name}=1)")
    if table.is_categorical(name):
        t = table.cells[name][rows].astype(str)
        levels = sorted(set(t))
        if len(levels) > DISCRETE_LEVELS:
            from .estimate import _crowded

            raise InputError(_crowded(table, name))
        for v in wanted:
            if v not in levels:
                raise InputError(f"{table.path}: no row has {name}={v} (values of {name}: {', '.join(levels[:12])})")
        return t, list[Any](wanted), True
    t = table.numeric(name, rows)
    try:
        values: list[Any] = [float(v) for v in wanted]
    except ValueError:
        raise InputError(f"--query: {name} holds numbers; give do({name}=NUMBER)") from None
    distinct = np.unique(t)
    discrete = len(distinct) <= DISCRETE_LEVELS
    if discrete:
        for v in values:
            if v not in distinct:
                shown = ", ".join(f"{d:g}" for d in distinct[:12])
                raise InputError(f"{table.path}: no row has {name}={v:g}, so that arm is empty (values of {name}: "
                                 f"{shown}); ask about values the data hold")
    return t, values, discrete


def _separation(X: np.ndarray, labels: list[str], rows1: np.ndarray, rows0: np.ndarray, treatment: str,
                path: Any) -> None:
    """A covariate whose ranges in the two arms do not meet leaves no overlap at all."""
    for j, name in enumerate(labels):
        x1, x0 = X[rows1, j], X[rows0, j]
        if x1.min() > x0.max() or x0.min() > x1.max():
            raise InputError(f"{path}: covariate {name!r} separates the arms of {treatment} perfectly "
                             f"({treatment} arms span [{x1.min():g}, {x1.max():g}] and [{x0.min():g}, {x0.max():g}]): "
                             "no unit has a comparable unit in the other arm, so no estimator can adjust for it; "
                             f"restrict the data to where the arms overlap")


# -- the estimate ----------------------------------------------------------------------------

def estimate_effect(graph: ADMG, ident: Identification, parsed: Query | Contrast, table: Table,
                    options: EffectOptions, warn: Callable[[str], None]) -> Any:
    """The flexible estimate of ``parsed`` (an ``Estimate``), following ``plan_for``; the
    learners use the threads ``fitting_threads()`` allows (recorded in the diagnostics)."""
    threads = fitting_threads()
    with thread_limit(threads):
        result = _estimate_effect(graph, ident, parsed, table, options, warn)
    if result.diagnostics is not None:
        result.diagnostics["threads"] = threads
    return result


def _estimate_effect(graph: ADMG, ident: Identification, parsed: Query | Contrast, table: Table,
                     options: EffectOptions, warn: Callable[[str], None]) -> Any:
    from .estimate import Estimate, estimate_linear

    options.check()
    queries = [parsed.treated, parsed.control] if isinstance(parsed, Contrast) else [parsed]
    plan = plan_for(graph, ident, queries[0])
    if isinstance(plan, str):
        raise InputError(f"--estimator {options.estimator}: does not apply: {plan}")
    modifiers = list(options.effect_modifiers)
    graph.check_names(modifiers, "--effect-modifiers")
    needed = [plan.outcome, plan.treatment, *plan.variables, *[m for m in modifiers if m not in plan.variables]]
    table.require(needed)
    rows = table.present(needed)
    dropped = int((~rows).sum())
    if dropped:
        gaps = [f"{name} ({int(table.missing(name).sum())})" for name in needed if table.missing(name).any()]
        warn(f"{table.path}: dropped {dropped} of {table.n_rows} rows missing a value (of {', '.join(gaps)}); "
             "the estimate is for the complete rows")
    if rows.sum() < 10:
        raise InputError(f"{table.path}: {int(rows.sum())} complete rows are too few to estimate an effect; add rows")
    t, values, discrete = _treatment_values(table, plan.treatment, rows, queries)
    y = _numbers(table, plan.outcome, rows, "outcome")
    a = values[0]
    b = values[1] if len(values) > 1 else None
    learners = resolve_learners(options.learner)
    estimator = "aipw" if options.estimator in ("auto", "plug-in") else options.estimator
    result = Estimate(None, None, rows_used=int(rows.sum()), rows_dropped=dropped)
    result.estimator = estimator
    result.target = options.target
    diagnostics: dict[str, Any] = {}
    binary_outcome = set(np.unique(y)) <= {0.0, 1.0}
    if b is None and options.target != "ate":
        raise InputError(f"--target {options.target}: a single E[{plan.outcome} | do(...)] is a mean over everyone; "
                         "ask a contrast for the effect on the treated or the controls")

    if plan.kind == "frontdoor":
        if not discrete:
            raise InputError(f"{table.path}: the front-door estimators take a discrete treatment; {plan.treatment} "
                             f"has {len(np.unique(t))} distinct values: bin it into at most {DISCRETE_LEVELS}")
        if estimator not in ("aipw", "regression"):
            raise InputError(f"--estimator {estimator}: the effect is identified by the front-door formula "
                             f"(mediators {', '.join(plan.variables)}), where aipw (doubly robust) and regression "
                             "(plug-in) apply")
        if options.target != "ate" or modifiers:
            raise InputError("--target att/atc and --effect-modifiers need back-door adjustment; this effect is "
                             "identified by the front-door formula")
        from .frontdoor import estimate_frontdoor

        M, labels = _design(table, plan.variables, rows, warn)
        numbers = estimate_frontdoor(y, t, M, a, b, learners, estimator=estimator, folds=options.folds,
                                     seed=options.seed)
        method = (f"{'doubly robust front-door estimator (Fulcher et al. 2020)' if estimator == 'aipw' else 'front-door plug-in'}"
                  f" through {', '.join(plan.variables)}, {options.folds}-fold cross-fitted {learners.describe()} models")
        compute = lambda idx: estimate_frontdoor(y[idx], t[idx], M[idx], a, b, learners, estimator=estimator,  # noqa: E731
                                                 folds=options.folds, seed=options.seed).value
    elif not discrete:
        if estimator in ("ipw", "matching"):
            raise InputError(f"--estimator {estimator}: needs a discrete treatment; {plan.treatment} is continuous "
                             f"({len(np.unique(t))} distinct values): use aipw (doubly robust kernel), regression or linear")
        if options.target != "ate" or modifiers:
            raise InputError(f"--target {options.target} and --effect-modifiers need a discrete treatment; "
                             f"{plan.treatment} is continuous")
        if estimator == "linear":
            numbers = None
        Z, labels = _design(table, plan.variables, rows, warn)
        if estimator != "linear":
            numbers, info = estimate_continuous(y, t, Z, a, b if b is not None else a, learners, estimator=estimator,
                                                folds=options.folds, seed=options.seed)
            if b is None:
                numbers = EffectNumbers(numbers.treated_mean or 0.0, info.get("treated_se"), numbers.treated_mean, None)
            diagnostics["kernel"] = info
            rows_near = info.get("effective_rows_at", {})
            if rows_near and min(rows_near.values()) < 30:
                warn(f"few rows near the requested treatment values ({', '.join(f'{k}: {v:.0f}' for k, v in rows_near.items())} "
                     "effective rows); the estimate there is rough")
        method = ("doubly robust kernel estimator (Kennedy et al. 2017)" if estimator == "aipw" else
                  "g-formula with a flexible outcome model") + \
            (f" adjusting for {', '.join(plan.variables)}" if plan.variables else "") + \
            f", {options.folds}-fold cross-fitted {learners.describe()} models"

        def compute(idx: np.ndarray) -> float:
            n, _ = estimate_continuous(y[idx], t[idx], Z[idx], a, b if b is not None else a, learners,
                                       estimator=estimator, folds=options.folds, seed=options.seed)
            return n.value if b is not None else float(n.treated_mean or 0.0)
    else:
        X, labels = _design(table, plan.variables, rows, warn)
        rows1, rows0 = t == a, (t == b) if b is not None else (t != a)
        if b is not None and not rows0.any():
            raise InputError(f"{table.path}: no row has {plan.treatment}={b}")
        if X.shape[1]:
            _separation(X, labels, rows1, rows0, plan.treatment, table.path)
        if estimator == "matching" and b is None:
            raise InputError("--estimator matching estimates a contrast; ask E[Y | do(T=a)] - E[Y | do(T=b)]")
        fit = fit_arms(y, t, X, a, b if b is not None else _other(t, a), learners, folds=options.folds, seed=options.seed,
                       trim=options.trim, target=options.target, need_outcome=estimator != "ipw" or bool(modifiers))
        low = (fit.e1 < max(options.trim, 1e-3)) & fit.treated
        if low.mean() > 0.5 * max(fit.treated.mean(), 1e-12):
            warn(f"most {plan.treatment}={a} rows have a propensity below {max(options.trim, 1e-3):g}: overlap is poor")
        if estimator == "linear":
            numbers = None
        else:
            numbers = estimate_arms(fit, estimator, match_on=options.match_on, neighbours=options.neighbours)
            if b is None:
                phi = fit.mu1 + fit.treated * (fit.y - fit.mu1) / fit.e1
                numbers = EffectNumbers(float(phi.mean()), float(phi.std(ddof=1) / math.sqrt(len(phi))), float(phi.mean()))
        weights = numbers.weights if numbers is not None and numbers.weights is not None else \
            target_weights(fit)
        arm_labels = [(f"{plan.treatment}={_show(a)}", rows1),
                      (f"{plan.treatment}={_show(b)}" if b is not None else f"{plan.treatment}!={_show(a)}", rows0)]
        diagnostics["overlap"] = overlap(fit.e1, arm_labels, weights, fit.trimmed, options.trim)
        if X.shape[1]:
            diagnostics["balance"] = balance(X, labels, rows1, rows0, weights)
        if modifiers:
            result.conditional = _conditional(table, modifiers, rows, fit, warn)
        if options.plot is not None and X.shape[1]:
            from .effect_plot import write_effect_plot

            write_effect_plot(options.plot, fit.e1, arm_labels, diagnostics["balance"],
                              f"{plan.treatment}: {_show(a)} vs {_show(b)}, target {options.target.upper()}", options.trim)
            diagnostics["plot"] = str(options.plot)
        method = {"aipw": "augmented IPW (doubly robust)", "ipw": "stabilized inverse-propensity weighting",
                  "matching": f"{options.neighbours}-nearest-neighbour matching with replacement on the "
                              f"{'propensity score' if options.match_on == 'propensity' else 'covariates (Mahalanobis)'}"
                              " (Abadie-Imbens standard error)",
                  "regression": "g-formula with a flexible outcome model",
                  "linear": "linear regression"}[estimator]
        if estimator != "linear":
            method += (f" adjusting for {', '.join(plan.variables)}" if plan.variables else "") + \
                f", {options.folds}-fold cross-fitted {learners.describe()} models"

        def compute(idx: np.ndarray) -> float:
            f = fit_arms(y[idx], t[idx], X[idx], a, b if b is not None else _other(t, a), learners,
                         folds=options.folds, seed=options.seed, trim=options.trim, target=options.target,
                         need_outcome=estimator != "ipw")
            return estimate_arms(f, estimator, match_on=options.match_on, neighbours=options.neighbours).value

    if options.plot is not None and "plot" not in diagnostics:
        warn("--plot draws propensity overlap and covariate balance, which need a discrete treatment and covariates "
             "to adjust for; no plot written")

    # the linear estimate, beside the flexible one: the misspecification check
    linear = None
    if plan.kind == "backdoor":
        try:
            linear = estimate_linear(graph, parsed, table)
        except InputError as error:
            diagnostics["linear"] = {"error": str(error)}
    if linear is not None and linear.value is not None:
        diagnostics["linear"] = {"value": linear.value, "std_error": linear.std_error, "interval": linear.interval}
        if linear.std_error and b is not None:
            dof = linear.rows_used - 2 - len(plan.variables)
            diagnostics["sensitivity_linear"] = robustness_value(linear.value / linear.std_error, dof)

    if estimator == "linear":
        if linear is None or linear.value is None:
            raise InputError(diagnostics.get("linear", {}).get("error", "linear adjustment does not apply here"))
        flexible_options = EffectOptions(**{**options.__dict__, "estimator": "aipw", "plot": None, "effect_modifiers": []})
        try:
            flexible = _estimate_effect(graph, ident, parsed, table, flexible_options, lambda m: None)
            diagnostics["flexible"] = {"value": flexible.value, "std_error": flexible.std_error,
                                       "interval": flexible.interval, "estimator": "aipw"}
            diagnostics["misspecification"] = misspecification((flexible.value, flexible.std_error),
                                                               (linear.value, linear.std_error))
        except InputError:
            pass
        numbers = EffectNumbers(linear.value, linear.std_error)
        method = linear.method
    assert numbers is not None
    result.value = numbers.value
    result.std_error = numbers.std_error
    result.interval = numbers.interval
    result.method = method
    result.notes += numbers.notes
    if numbers.treated_mean is not None and b is not None:
        result.potential_outcomes = {_show(a): numbers.treated_mean, _show(b): numbers.control_mean}
    if estimator != "linear" and "linear" in diagnostics and "value" in diagnostics["linear"]:
        diagnostics["misspecification"] = misspecification((numbers.value, numbers.std_error),
                                                           (diagnostics["linear"]["value"], diagnostics["linear"]["std_error"]))
    if options.bootstrap > 0:
        result.interval, result.std_error = _bootstrap(compute, len(y), options.bootstrap, options.seed)
        result.notes = [n for n in result.notes if "--bootstrap" not in n]
        result.notes.append(f"interval and standard error from {options.bootstrap} bootstrap replicates (refitted)")
    if b is not None and result.value is not None:
        means = ((numbers.treated_mean, numbers.control_mean)
                 if numbers.treated_mean is not None and numbers.control_mean is not None else None)
        diagnostics["sensitivity"] = {"e_value": e_value(result.value, result.interval, float(y.std()),
                                                         means, binary_outcome)}
    if learners.weights:
        diagnostics["super_learner_weights"] = learners.weights
    diagnostics["target"] = options.target
    diagnostics["warnings"] = warnings_for(diagnostics)
    result.diagnostics = diagnostics
    return result


def _other(t: np.ndarray, a: Any) -> Any:
    """For a single E[Y | do(T=a)], any other treatment value (needed to fit the arms)."""
    others = [v for v in np.unique(t) if v != a]
    if not others:
        raise InputError(f"every row has the treatment value {a}: there is nothing to compare")
    return others[0]


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bootstrap(compute: Callable[[np.ndarray], float], n: int, replicates: int, seed: int) -> tuple[list[float], float]:
    rng = np.random.default_rng(seed + 1)
    values = []
    for _ in range(replicates):
        idx = rng.integers(0, n, n)
        try:
            values.append(float(compute(idx)))
        except InputError:  # a resample with an empty arm
            continue
    good = np.array([v for v in values if math.isfinite(v)])
    if len(good) < max(10, replicates // 2):
        raise InputError(f"--bootstrap {replicates}: only {len(good)} replicates could be estimated (resamples with an "
                         "empty arm); the data are too thin for a bootstrap interval")
    return [float(np.quantile(good, 0.025)), float(np.quantile(good, 0.975))], float(good.std(ddof=1))


def _conditional(table: Table, modifiers: list[str], rows: np.ndarray, fit: Any,
                 warn: Callable[[str], None]) -> list[dict[str, Any]]:
    """Conditional effects by a DR-learner: the doubly robust pseudo-outcomes
    mu1 - mu0 + T (Y - mu1) / e1 - C (Y - mu0) / e0, averaged per level of a discrete modifier,
    or regressed linearly on a continuous one (HC0 standard errors), read at its quartiles."""
    phi = fit.mu1 - fit.mu0 + fit.treated * (fit.y - fit.mu1) / fit.e1 - fit.control * (fit.y - fit.mu0) / fit.e0
    keep = fit.keep
    out: list[dict[str, Any]] = []
    for name in modifiers:
        if table.is_categorical(name) or len(np.unique(table.cells[name][rows])) <= 10:
            codes, levels = table.discrete(name, rows)
            groups = []
            for i, level in enumerate(levels):
                sel = (codes == i) & keep
                if sel.sum() < 2:
                    continue
                v = phi[sel]
                se = float(v.std(ddof=1) / math.sqrt(len(v)))
                groups.append({"value": level, "effect": float(v.mean()), "std_error": se,
                               "interval": [float(v.mean() - 1.96 * se), float(v.mean() + 1.96 * se)],
                               "rows": int(sel.sum())})
            out.append({"modifier": name, "kind": "levels", "groups": groups})
        else:
            v = table.numeric(name, rows)
            D = np.column_stack([np.ones(keep.sum()), v[keep]])
            target = phi[keep]
            coef, *_ = np.linalg.lstsq(D, target, rcond=None)
            resid = target - D @ coef
            bread = np.linalg.inv(D.T @ D)
            cov = bread @ (D.T * resid ** 2) @ D @ bread
            at = [float(q) for q in np.quantile(v[keep], [0.25, 0.5, 0.75])]
            points = []
            for q in at:
                d = np.array([1.0, q])
                se = float(math.sqrt(d @ cov @ d))
                points.append({"value": q, "effect": float(d @ coef), "std_error": se,
                               "interval": [float(d @ coef - 1.96 * se), float(d @ coef + 1.96 * se)]})
            out.append({"modifier": name, "kind": "linear", "slope": float(coef[1]),
                        "slope_std_error": float(math.sqrt(cov[1, 1])), "at_quartiles": points})
    return out
