"""``zoo run pc``: PC-stable causal discovery from a CSV file to a CPDAG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import zoo_core
from zoo_core import InputError, warn

from .citests import FisherZ, GTest
from .pc import pc
from .render import check_out, write_graph
from .header import require_columns
from .table import Table, read_table

__all__ = ["PC"]

ASSUMES = ("no latent confounders (causal sufficiency), faithfulness, independent rows; "
           "edges are only as good as the independence tests")
#: A numeric column with at most this many distinct integer values counts as discrete for --test auto.
DISCRETE_LEVELS = 10
#: Discrete tests need at least this many observations (rows, or the sum of the weights).
MIN_DISCRETE = 10
_TEST_NAMES = {"fisherz": "Fisher-z", "gsq": "G", "chisq": "chi-square"}


class PC(zoo_core.CausalAnalyzer):
    """PC-stable with order-independent collider orientation, then Meek's rules."""

    def analyze(self, data: Path | str, alpha: float = 0.05, test: str = "auto", depth: int | None = None,
                orientation: str = "majority", weight_column: str | None = None,
                out: Path | str | None = None, categorical: str | list[str] | None = None) -> zoo_core.AnalysisResult:
        if not 0 < alpha < 1:
            raise InputError(f"--alpha {alpha}: must be between 0 and 1 (e.g. 0.05)")
        if depth is not None and depth < 0:
            raise InputError(f"--depth {depth}: must be 0 or more (the largest conditioning-set size)")
        if out is not None:
            out = check_out(out)
        require_columns(data, "PC", weight_column=weight_column)  # before reading the whole file
        table = read_table(data, weight_column=weight_column, categorical=categorical)
        names = list(table.names)
        if len(names) < 2:
            raise InputError(f"--data {table.path}: PC needs at least 2 columns, found {len(names)}")
        table.require(names)
        rows = table.present(names)
        if not rows.any():
            raise InputError(f"--data {table.path}: every row has a missing value")
        dropped = int(table.n_rows - rows.sum())
        if dropped:
            warn(f"--data {table.path}: dropped {dropped} of {table.n_rows} rows with a missing value")
        test = _pick_test(table, names, rows, test, weight_column)
        ci = _build_test(table, names, rows, test, depth)
        found = pc(ci, names, alpha=alpha, depth=depth, orientation=orientation)
        result = {
            "nodes": found.nodes,
            "directed": [list(e) for e in found.directed],
            "undirected": [list(e) for e in found.undirected],
            "alpha": alpha,
            "test": test,
            "orientation": orientation,
            "depth": depth,
            "n_rows": int(rows.sum()),
            "dropped_rows": dropped,
            "tests_run": found.tests_run,
            "max_level": found.max_level,
            "separating_sets": [{"pair": list(pair), "set": list(S)} for pair, S in found.sepsets.items()],
            "ambiguous_triples": [list(t) for t in found.ambiguous],
            "conflicts": [list(e) for e in found.conflicts],
            "assumes": ASSUMES,
        }
        caption = f"PC-stable, {_TEST_NAMES[test]} test, alpha={alpha:g}; assumes no latent confounders"
        if out is not None:
            result["out"] = str(write_graph(out, result, caption))
        return zoo_core.AnalysisResult(result, _text(result))


def _pick_test(table: Table, names: list[str], rows: np.ndarray, test: str, weight_column: str | None,
               algorithm: str = "PC") -> str:
    if test != "auto":
        if test == "fisherz" and weight_column is not None:
            raise InputError(f"--weight-column {weight_column}: row weights are for discrete data "
                             "(--test gsq or chisq); Fisher-z takes one row per observation")
        return test
    text = [n for n in names if not table.is_numeric(n, rows)]
    continuous = [n for n in names if n not in text and not _few_integers(table.numeric(n, rows))]
    if text and continuous:
        raise InputError(f"--data {table.path}: column {text[0]!r} holds text but {continuous[0]!r} continuous "
                         f"numbers; {algorithm} needs all-discrete (--test gsq) or all-continuous (--test fisherz) data")
    if continuous and weight_column is None:
        return "fisherz"
    if continuous:
        raise InputError(f"--weight-column {weight_column}: row weights are for discrete data, but column "
                         f"{continuous[0]!r} looks continuous; drop the weights or pass --test gsq")
    return "gsq"


def _few_integers(values: np.ndarray) -> bool:
    distinct = np.unique(values)
    return len(distinct) <= DISCRETE_LEVELS and bool(np.all(distinct == np.round(distinct)))


def _build_test(table: Table, names: list[str], rows: np.ndarray, test: str, depth: int | None,
                algorithm: str = "PC"):
    n = int(rows.sum())
    # too few rows first: in one row every column is constant, and that is not the news
    largest = len(names) - 2 if depth is None else min(depth, len(names) - 2)
    weighted = not np.all(table.weights[rows] == 1)
    if test == "fisherz" or not weighted:  # a test conditioning on k variables needs more than k + 3 rows
        needed = largest + 4 if test == "fisherz" else max(MIN_DISCRETE, largest + 4)
        lower = largest > 0 and needed == largest + 4  # a smaller --depth would need fewer rows
        sets = f" (conditioning sets of up to {largest})" if largest else ""
        table.require_rows(n, needed, f"{_TEST_NAMES[test]} tests on {len(names)} variables{sets} need",
                           "add rows" + (", or set --depth lower" if lower else ""), prefix="--data ")
    else:  # rows are cells of a table of counts: the weights count the observations
        table.require_rows(n, 2, f"a {_TEST_NAMES[test]} test needs", "add rows", prefix="--data ")
    if test == "fisherz":
        matrix = np.column_stack([table.numeric(name, rows) for name in names])
        for j, name in enumerate(names):
            if np.ptp(matrix[:, j]) == 0:
                raise InputError(f"--data {table.path}: column {name!r} is constant ({matrix[0, j]:g} in every "
                                 f"row); it carries no information for {algorithm}, drop it")
        return FisherZ(matrix)
    columns = [table.discrete(name, rows) for name in names]
    for name, (codes, levels) in zip(names, columns):
        if len(levels) < 2:
            raise InputError(f"--data {table.path}: column {name!r} is constant ({levels[0]!r} in every row); "
                             f"it carries no information for {algorithm}, drop it")
        if len(levels) > max(DISCRETE_LEVELS, n // 2):
            raise InputError(f"--test {test}: column {name!r} has {len(levels)} distinct values in {n} rows, so it "
                             "looks continuous; a discrete test needs repeated values (use --test fisherz)")
    weights = table.weights[rows]
    if weights.sum() < MIN_DISCRETE:
        raise InputError(f"--data {table.path}: {weights.sum():g} observations is too few for a {test} test; "
                         f"it needs at least {MIN_DISCRETE} (weights must be counts, not probabilities)")
    codes = np.column_stack([c for c, _ in columns])
    return GTest(codes, [len(levels) for _, levels in columns],
                 None if np.all(weights == 1) else weights, kind=test)


def _text(result: dict[str, Any]) -> str:
    lines = [f"PC-stable, {_TEST_NAMES[result['test']]} test, alpha={result['alpha']:g}, "
             f"{result['orientation']} collider rule: {len(result['nodes'])} variables, {result['n_rows']} rows, "
             f"{result['tests_run']} tests",
             "Assumes " + result["assumes"] + ".",
             "directed:   " + (", ".join(f"{a} -> {b}" for a, b in result["directed"]) or "none"),
             "undirected: " + (", ".join(f"{a} -- {b}" for a, b in result["undirected"]) or "none")]
    if result["ambiguous_triples"]:
        lines.append("ambiguous (left unoriented): " + ", ".join("-".join(t) for t in result["ambiguous_triples"]))
    if result["conflicts"]:
        lines.append("conflicting orientations (left undirected): "
                     + ", ".join(f"{a} -- {b}" for a, b in result["conflicts"]))
    if "out" in result:
        lines.append(f"wrote {result['out']}")
    return "\n".join(lines)
