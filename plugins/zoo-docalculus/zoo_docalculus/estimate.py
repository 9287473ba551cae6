"""Estimating an identified effect from data.

Discrete data: the estimand is evaluated by plug-in on the weighted empirical joint table
of the variables it mentions (vectorised: one numpy evaluation per bootstrap replicate),
with bootstrap standard errors from resampling the rows (multinomial counts over cells).
Continuous data: expectations of back-door identifiable effects by linear regression on a
minimal adjustment set, with the OLS standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from zoo_core import InputError

from .adjustment import minimal_backdoor_sets
from .expression import Evaluator, Prob, product, prob_terms, sum_over
from .graph import ADMG
from .identify import Identification
from .query import Contrast, Query
from .table import Table

__all__ = ["Estimate", "estimate_discrete", "estimate_linear", "MAX_LEVELS", "MAX_CELLS"]

#: A column with more distinct values than this is continuous.
MAX_LEVELS = 20
#: The joint table of the estimand's variables may have at most this many cells.
MAX_CELLS = 20_000_000
#: Plug-in estimation needs at least this many complete rows (one row is every variable constant).
MIN_ROWS = 2


@dataclass
class Estimate:
    value: float | None
    std_error: float | None
    interval: list[float] | None = None  # 95% (bootstrap percentile, or normal for OLS)
    distribution: list[dict[str, Any]] | None = None  # when some query variables have no value
    method: str = ""
    rows_used: int = 0
    rows_dropped: int = 0
    notes: list[str] = field(default_factory=list)
    estimator: str = "plug-in"  # the --estimator that produced it
    target: str | None = None  # ate, att or atc (flexible estimators)
    potential_outcomes: dict[str, float | None] | None = None  # E[Y(a)], E[Y(b)] over the target
    conditional: list[dict[str, Any]] | None = None  # effects by --effect-modifiers
    diagnostics: dict[str, Any] | None = None  # overlap, balance, linear, misspecification, sensitivity

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"std_error": _clean(self.std_error), "method": self.method,
                                "estimator": self.estimator,
                                "rows_used": self.rows_used, "rows_dropped": self.rows_dropped}
        if self.target is not None:
            data["target"] = self.target
        if self.potential_outcomes is not None:
            data["potential_outcomes"] = {k: _clean(v) for k, v in self.potential_outcomes.items()}
        if self.conditional is not None:
            data["conditional"] = _json_safe(self.conditional)
        if self.diagnostics is not None:
            data["diagnostics"] = _json_safe(self.diagnostics)
        if self.value is not None:
            data = {"value": _clean(self.value), **data}
        if self.interval is not None:
            data["interval"] = [_clean(v) for v in self.interval]
        if self.distribution is not None:
            data["distribution"] = self.distribution
        if self.notes:
            data["notes"] = self.notes
        return data


def _json_safe(value: Any) -> Any:
    """Diagnostics as JSON: numpy numbers to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _clean(float(value))
    return value


def _clean(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _level_index(levels: list, value: str, variable: str, path) -> int:
    try:
        number: float | None = float(value)
    except ValueError:
        number = None
    for i, level in enumerate(levels):
        if isinstance(level, (int, float)) and number is not None:
            if float(level) == number:
                return i
        elif str(level) == value:
            return i
    shown = ", ".join(map(str, levels[:12])) + (", ..." if len(levels) > 12 else "")
    raise InputError(f"{path}: no row has {variable}={value} (values of {variable}: {shown})")


class _Plugin:
    """The estimand's variables coded from the table, and the query's value for any joint."""

    def __init__(self, ident: Identification, queries: list[Query], table: Table,
                 warn: Callable[[str], None]) -> None:
        estimand = ident.estimand
        assert estimand is not None
        if ident.invariant:  # the effect does not depend on them: average over their observed values
            every = frozenset(ident.invariant)
            estimand = sum_over(every, product([Prob(every), estimand]))
        terms = prob_terms(estimand)
        mentioned = set().union(*(t.heads | t.given for t in terms)) if terms else set()
        asked = set().union(*(q.variables for q in queries))
        self.variables = ident.graph.sort(mentioned | asked)
        table.require(self.variables)
        rows = table.present(self.variables)
        self.rows_dropped = int((~rows).sum())
        self.rows_used = int(rows.sum())
        if not self.rows_used:  # before the warning: an error is the one line on stderr
            raise InputError(f"{table.path}: no row has a value for every one of {', '.join(self.variables)}")
        table.require_rows(self.rows_used, MIN_ROWS, "plug-in estimation needs",
                           "one row cannot show how the variables vary together: add rows")
        if self.rows_dropped:
            warn(f"{table.path}: dropped {self.rows_dropped} of {table.n_rows} rows missing a value of "
                 f"{', '.join(self.variables)}")
        codes, self.levels = [], {}
        for v in self.variables:
            c, levels = table.discrete(v, rows)
            if len(levels) > MAX_LEVELS:
                if table.is_categorical(v):
                    raise InputError(_crowded(table, v))
                raise InputError(f"{table.path}: column {v} has {len(levels)} distinct values; P(...) estimation "
                                 f"needs discrete data (≤ {MAX_LEVELS} values): discretise {v}, or ask "
                                 "E[...] for a back-door effect (linear adjustment)")
            codes.append(c)
            self.levels[v] = levels
        self.shape = tuple(len(self.levels[v]) for v in self.variables)
        cells = math.prod(self.shape)
        if cells > MAX_CELLS:
            raise InputError(f"{table.path}: the estimand involves {len(self.variables)} variables whose joint table "
                             f"has {cells} cells (limit {MAX_CELLS}); merge levels or drop variables")
        flat = np.ravel_multi_index(codes, self.shape) if codes else np.zeros(self.rows_used, dtype=np.int64)
        self.weights = table.weights[rows]
        self.counts = np.bincount(flat, weights=self.weights, minlength=cells)
        self.total = float(self.counts.sum())
        if self.total <= 0:
            raise InputError(f"{table.path}: the rows' weights add up to 0")
        self.estimand = estimand
        self.terms = terms
        self.rank = ident.graph.rank.__getitem__
        self.path = table.path

    def joint(self, counts: np.ndarray) -> np.ndarray:
        return (counts / counts.sum()).reshape(self.shape)

    def evaluate(self, joint: np.ndarray) -> np.ndarray:
        return Evaluator(joint, self.variables)(self.estimand)

    def index(self, query: Query) -> tuple:
        """Array index selecting the query's given values; a full slice for each query variable
        without a value; 0 for variables outside the query (the estimand does not depend on them)."""
        index: list[Any] = []
        values = query.variables
        for v in self.variables:
            if v not in values:
                index.append(0)
            elif values[v] is None:
                index.append(slice(None))
            else:
                index.append(_level_index(self.levels[v], str(values[v]), v, self.path))  # (not None here)
        return tuple(index)

    def empty_cells(self, joint: np.ndarray) -> str:
        """Name a conditional whose conditioning cell is empty, for the positivity message."""
        evaluator = Evaluator(joint, self.variables)
        for term in self.terms:
            if not term.given:
                continue
            den = evaluator.marginal(frozenset(term.given))
            zero = np.argwhere(den == 0)
            if len(zero):
                cell = zero[0]
                shown = ", ".join(f"{v}={self.levels[v][cell[i]]}" for i, v in enumerate(self.variables)
                                  if v in term.given)
                return f"{term.text(self.rank)} conditions on {shown}, which no row has"
        return "a conditional of the estimand has no data"


def estimate_discrete(ident: Identification, query: Query | Contrast, table: Table, *, bootstrap: int = 200,
                      seed: int = 0, warn: Callable[[str], None] = lambda m: None) -> Estimate:
    """Plug-in estimate of an identified query (P, E or a contrast of E) on discrete data."""
    queries = [query.treated, query.control] if isinstance(query, Contrast) else [query]
    plugin = _Plugin(ident, queries, table, warn)
    point_joint = plugin.joint(plugin.counts)

    def answer(joint: np.ndarray) -> np.ndarray:
        """The query's value(s) for one joint table."""
        values = plugin.evaluate(joint)
        full = np.broadcast_to(values, plugin.shape)
        results = []
        for q in queries:
            selected = full[plugin.index(q)]
            if q.expectation:
                (outcome,) = q.outcomes
                levels = plugin.levels[outcome]
                if not all(isinstance(level, (int, float)) for level in levels):
                    raise InputError(f"{plugin.path}: E[{outcome} | ...] needs numeric values of {outcome}")
                kept = [v for v in plugin.variables if v in q.variables and q.variables[v] is None]
                axis = kept.index(outcome)
                selected = np.moveaxis(selected, axis, -1) @ np.array(levels, dtype=np.float64)
            results.append(selected)
        return results[0] - results[1] if len(results) == 2 else results[0]

    point = answer(point_joint)
    all_valued = all(v is not None for q in queries for k, v in q.variables.items()
                     if not (q.expectation and k in q.outcomes))
    method = "plug-in on the empirical joint distribution"
    if all_valued and not np.isfinite(point).all():
        raise InputError(f"{table.path}: positivity fails: {plugin.empty_cells(point_joint)}; "
                         "the effect cannot be estimated from these data")
    result = Estimate(None, None, method=method, rows_used=plugin.rows_used, rows_dropped=plugin.rows_dropped)
    replicates = None
    integral = np.allclose(plugin.weights, np.round(plugin.weights))
    if bootstrap > 0 and not integral:
        result.notes.append("weights are not whole counts (an exact table?): no bootstrap standard error")
    elif bootstrap > 0:
        rng = np.random.default_rng(seed)
        n = int(round(plugin.total))
        probabilities = plugin.counts / plugin.total
        replicates = np.stack([answer(plugin.joint(rng.multinomial(n, probabilities).astype(np.float64)))
                               for _ in range(bootstrap)])
        # a replicate that empties a cell the data fill is left out of every row (as the note says);
        # rows the data leave empty are undefined anyway and do not count
        defined = np.broadcast_to(np.isfinite(point), replicates.shape[1:])
        bad = (~np.isfinite(replicates))[:, defined].any(axis=1) if defined.any() else np.zeros(bootstrap, bool)
        if bad.any():
            result.notes.append(f"{bad.mean():.0%} of bootstrap replicates hit an empty cell and were left out"
                                + (": no standard error" if bad.sum() > bootstrap - 2 else ""))
        replicates = replicates[~bad]
    if all_valued:
        result.value = float(point)
        if replicates is not None:
            good = replicates[np.isfinite(replicates)]
            if len(good) > 1:
                result.std_error = float(good.std(ddof=1))
                result.interval = [float(np.quantile(good, 0.025)), float(np.quantile(good, 0.975))]
    else:
        result.distribution = _distribution(plugin, queries[0], point, replicates)
    return result


def _distribution(plugin: _Plugin, query: Query, point: np.ndarray, replicates: np.ndarray | None) -> list[dict]:
    """One row per combination of the query variables given without a value (an expectation's
    outcome is averaged away, so it labels no row)."""
    free = [v for v in plugin.variables if v in query.variables and query.variables[v] is None
            and not (query.expectation and v in query.outcomes)]
    rows = []
    for index in np.ndindex(*point.shape):
        row: dict[str, Any] = {v: plugin.levels[v][i] for v, i in zip(free, index)}
        row["value"] = _clean(float(point[index]))
        if replicates is not None:
            good = replicates[(slice(None), *index)]
            good = good[np.isfinite(good)] if np.isfinite(point[index]) else good[:0]
            row["std_error"] = _clean(float(good.std(ddof=1))) if len(good) > 1 else None
        rows.append(row)
    return rows


def _crowded(table: Table, name: str) -> str:
    """A categorical column with too many levels for the discrete table, and never numbers."""
    count, shown = table.levels(name)
    if name in table.categorical and table.kind(name) == "number":
        return (f"{table.path}: column {name!r} has {count} distinct values, read as categories (--categorical): "
                f"too many for a discrete estimate (at most {MAX_LEVELS}); bin it into at most {MAX_LEVELS} "
                "categories, or leave it out of --categorical to read it as numbers")
    return (f"{table.path}: column {name!r} is text with {count} distinct values (e.g. {shown}): too many "
            f"categories for a discrete estimate (at most {MAX_LEVELS}), and not numbers, so no regression "
            f"either; recode or bin it into at most {MAX_LEVELS} categories, or drop it from the graph and the query")


def _continuous(table: Table, names) -> list[str]:
    """The number columns among ``names`` with more than MAX_LEVELS distinct values."""
    return [v for v in names if v in table.cells and not table.is_categorical(v)
            and len(set(table.cells[v][table.present([v])])) > MAX_LEVELS]


def _estimand_columns(graph: ADMG, query: Query, involved: list[str], table: Table) -> list[str]:
    """The columns the discrete estimate of ``query`` would tabulate (what binning must cover)."""
    from .identify import identify

    ident = identify(graph, list(query.outcomes), list(query.treatments), list(query.conditions))
    terms = prob_terms(ident.estimand) if ident.estimand is not None else []
    mentioned = {v for t in terms for v in t.heads | t.given} | set(ident.invariant or ())
    return [v for v in graph.sort(set(involved) | mentioned) if v in table.cells]


def _backdoor_plan(graph: ADMG, query: Query) -> tuple[str, str, list[str]] | str:
    """(outcome, treatment, the smallest minimal back-door set) for linear adjustment, or why not."""
    if len(query.outcomes) != 1:
        return "it takes one outcome"
    if query.conditions:
        return "it takes no conditions (| Z=z)"
    if len(query.treatments) != 1:
        return "it takes one treatment"
    (outcome,), (treatment,) = list(query.outcomes), list(query.treatments)
    sets = list(minimal_backdoor_sets(graph, [treatment], [outcome], limit=1000))
    if not sets:
        return f"{treatment} -> {outcome} has no back-door adjustment set in this graph"
    return outcome, treatment, min(sets, key=len)


def estimate_linear(graph: ADMG, query: Query | Contrast, table: Table, *,
                    warn: Callable[[str], None] = lambda m: None) -> Estimate:
    """E[Y | do(X=x)] or a contrast by OLS of Y on X and a minimal back-door set."""
    queries = [query.treated, query.control] if isinstance(query, Contrast) else [query]
    first = queries[0]
    plan = _backdoor_plan(graph, first)
    involved = [v for v in graph.sort(set(first.variables) | set(plan[2] if isinstance(plan, tuple) else ()))
                if v in table.cells]
    for v in involved:  # text with too many levels fails both ways: say so before advising either
        if table.is_categorical(v) and table.levels(v)[0] > MAX_LEVELS:
            raise InputError(_crowded(table, v))
    text = [v for v in involved if table.is_categorical(v)]

    def hints() -> tuple[str, str]:
        """Why the data count as continuous, and what to bin for a discrete estimate instead."""
        continuous = _continuous(table, _estimand_columns(graph, first, involved, table))
        if not continuous:
            return "", f"bin the continuous columns into at most {MAX_LEVELS} values"
        return (f" (column {continuous[0]!r} holds {table.levels(continuous[0])[0]} distinct numbers)",
                f"bin {', '.join(map(repr, continuous))} into at most {MAX_LEVELS} values")

    def not_numbers(name: str) -> tuple[str, str]:
        if table.kind(name) == "text":
            return f"column {name!r} holds text ({table.levels(name)[1]})", f"recode {name} as numbers (e.g. 0/1)"
        return f"column {name!r} is declared --categorical", f"leave {name} out of --categorical"

    if not first.expectation:
        because, binning = hints()
        if isinstance(plan, tuple) and not text:
            outcome, treatment, _ = plan
            raise InputError(f"--query: continuous data support expectations only{because}: ask E[{outcome} | "
                             f"do({treatment}=1)] - E[{outcome} | do({treatment}=0)] (linear adjustment), or "
                             f"{binning} for {first}")
        why = f"{not_numbers(text[0])[0]}, and it takes numbers" if text else plan
        raise InputError(f"--query: continuous data support expectations only{because}, and linear adjustment "
                         f"cannot answer this query: {why}; {binning} for a discrete estimate of {first}")
    if isinstance(plan, str):
        because, binning = hints()
        raise InputError(f"--query: continuous data{because} call for linear adjustment, which cannot answer this "
                         f"query: {plan}; {binning} for a discrete estimate")
    outcome, treatment, adjust = plan
    names = [outcome, treatment, *adjust]
    table.require(names)
    if text:
        what, fix = not_numbers(text[0])
        because, binning = hints()
        raise InputError(f"{table.path}: {what}, but linear adjustment, used for continuous data{because}, takes "
                         f"numbers only; {fix}, or {binning} for a discrete estimate")
    rows = table.present(names)
    dropped = int((~rows).sum())
    if dropped:
        warn(f"{table.path}: dropped {dropped} of {table.n_rows} rows missing a value of {', '.join(names)}")
    y = table.numeric(outcome, rows)
    design = np.column_stack([np.ones(int(rows.sum())), *(table.numeric(v, rows) for v in [treatment, *adjust])])
    w = table.weights[rows]
    if len(y) <= design.shape[1]:
        raise InputError(f"{table.path}: {len(y)} rows are too few for a regression on {design.shape[1] - 1} variables")
    if w.sum() <= 0:
        raise InputError(f"{table.path}: the rows' weights add up to 0")
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
    residual = (y - design @ coef) * sw
    dof = max(1.0, w.sum() - design.shape[1])
    sigma2 = float(residual @ residual) / dof
    covariance = sigma2 * np.linalg.pinv((design * w[:, None]).T @ design)
    means = np.average(design, axis=0, weights=w)

    def contrast_vector(q: Query) -> np.ndarray:
        try:
            x = float(q.treatments[treatment])  # type: ignore[arg-type]  # None: the TypeError below
        except (TypeError, ValueError):
            raise InputError(f"--query: linear adjustment needs a numeric value for do({treatment}=...)") from None
        vector = means.copy()
        vector[1] = x
        return vector

    vector = contrast_vector(queries[0]) - (contrast_vector(queries[1]) if len(queries) == 2 else 0)
    value = float(vector @ coef)
    variance = float(vector @ covariance @ vector)
    if len(queries) == 1 and adjust:
        # E[Y | do(X=x)] also rests on the sample means of the adjustment set; their error is
        # uncorrelated with the coefficients' and adds to the variance (a contrast cancels them)
        centred = design[:, 2:] - means[2:]
        spread = (centred * w[:, None]).T @ centred / w.sum()
        variance += float(coef[2:] @ spread @ coef[2:]) / w.sum()
    se = float(math.sqrt(max(0.0, variance)))
    result = Estimate(value, se, [value - 1.96 * se, value + 1.96 * se], estimator="linear",
                      method=f"linear regression of {outcome} on {treatment}"
                             + (f" adjusting for {', '.join(adjust)} (a minimal back-door set)" if adjust else ""),
                      rows_used=len(y), rows_dropped=dropped)
    if not np.allclose(w, np.round(w)):  # the OLS error counts units: weights that are not counts have none
        result.std_error = result.interval = None
        result.notes.append("weights are not whole counts (an exact table?): no standard error")
    return result
