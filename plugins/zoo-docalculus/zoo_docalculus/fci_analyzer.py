"""``zoo run fci``: FCI causal discovery from a CSV file to a PAG, and what the PAG lets one conclude."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import zoo_core
from zoo_core import InputError, warn

from .fci import fci
from .pag import MARK_NAMES, check, edge_text, mag_from_pag
from .pag_effects import adjustment, confounding, definite_ancestors
from .pc_analyzer import _TEST_NAMES, _build_test, _pick_test
from .header import require_columns
from .render import check_out, write_graph
from .table import read_table

__all__ = ["FCI"]

ASSUMES = ("faithfulness and independent rows; latent confounders and selection bias are allowed. "
           "Reading -> as 'causes' and the adjustment sets also assume no selection bias. "
           "Edges are only as good as the independence tests")


class FCI(zoo_core.CausalAnalyzer):
    """FCI with order-independent skeleton, Possible-D-SEP and orientation (R0-R10), to a PAG."""

    def analyze(self, data: Path | str, alpha: float = 0.05, test: str = "auto", depth: int | None = None,
                orientation: str = "majority", weight_column: str | None = None,
                treatment: str | list[str] | None = None, outcome: str | list[str] | None = None,
                out: Path | str | None = None, categorical: str | list[str] | None = None) -> zoo_core.AnalysisResult:
        if not 0 < alpha < 1:
            raise InputError(f"--alpha {alpha}: must be between 0 and 1 (e.g. 0.05)")
        if depth is not None and depth < 0:
            raise InputError(f"--depth {depth}: must be 0 or more (the largest conditioning-set size)")
        if (treatment is None) != (outcome is None):
            raise InputError("--treatment and --outcome go together: give both (e.g. --treatment X --outcome Y)")
        if out is not None:
            out = check_out(out)
        require_columns(data, "FCI", weight_column=weight_column)  # before reading the whole file
        table = read_table(data, weight_column=weight_column, categorical=categorical)
        names = list(table.names)
        if len(names) < 2:
            raise InputError(f"--data {table.path}: FCI needs at least 2 columns, found {len(names)}")
        xs = _names(treatment, "--treatment", names) if treatment is not None else None
        ys = _names(outcome, "--outcome", names) if outcome is not None else None
        if xs and ys and set(xs) & set(ys):
            raise InputError(f"--outcome: {sorted(set(xs) & set(ys))[0]!r} is also a treatment; "
                             "treatments and outcomes must differ")
        table.require(names)
        rows = table.present(names)
        if not rows.any():
            raise InputError(f"--data {table.path}: every row has a missing value")
        dropped = int(table.n_rows - rows.sum())
        if dropped:
            warn(f"--data {table.path}: dropped {dropped} of {table.n_rows} rows with a missing value")
        test = _pick_test(table, names, rows, test, weight_column, algorithm="FCI")
        ci = _build_test(table, names, rows, test, depth, algorithm="FCI")
        found = fci(ci, names, alpha=alpha, depth=depth, orientation=orientation)
        problem = check(found.marks, names)
        selection = mag_from_pag(found.marks) is None  # tails off -> edges: the readings below do not apply
        definite, possible = confounding(found.marks, names)
        result: dict[str, Any] = {
            "nodes": found.nodes,
            "edges": [{"edge": edge_text(a, b, ma, mb), "nodes": [a, b], "marks": [MARK_NAMES[ma], MARK_NAMES[mb]]}
                      for a, b, ma, mb in found.edges],
            "alpha": alpha,
            "test": test,
            "orientation": orientation,
            "depth": depth,
            "n_rows": int(rows.sum()),
            "dropped_rows": dropped,
            "tests_run": found.tests_run,
            "max_level": found.max_level,
            "possible_dsep_level": found.pdsep_level,
            "removed_by_possible_dsep": [list(e) for e in found.removed_by_pdsep],
            "separating_sets": [{"pair": list(pair), "set": list(S)} for pair, S in found.sepsets.items()],
            "ambiguous_triples": [list(t) for t in found.ambiguous],
            "undecided_discriminating_paths": [list(t) for t in found.undecided],
            "conflicts": [list(e) for e in found.conflicts],
            "valid_pag": None if selection else problem is None,
            "pag_problem": problem,
            "definite_ancestors": sorted([names[a], names[b]] for a, b in definite_ancestors(found.marks)),
            "confounding": {"definite": [list(p) for p in definite], "possible": possible},
            "assumes": ASSUMES,
        }
        if xs is not None and ys is not None:  # (given together)
            result["adjustment"] = _adjustment(found.marks, names, xs, ys, problem, selection)
        caption = f"FCI, {_TEST_NAMES[test]} test, alpha={alpha:g}; o: either mark is possible"
        if out is not None:
            result["out"] = str(write_graph(out, result, caption))
        return zoo_core.AnalysisResult(result, _text(result))


def _names(value: str | list[str], option: str, columns: list[str]) -> list[str]:
    parts = value if isinstance(value, list) else str(value).split(",")
    names = list(dict.fromkeys(p.strip() for p in parts if p.strip()))
    if not names:
        raise InputError(f"{option}: give one or more column names, comma-separated")
    for name in names:
        if name not in columns:
            raise InputError(f"{option} {name}: no such column (columns: {', '.join(columns)})")
    return names


def _adjustment(marks: np.ndarray, names: list[str], xs: list[str], ys: list[str], problem: str | None,
                selection: bool = False) -> dict:
    if selection:
        return {"treatment": xs, "outcome": ys, "verdict": "not decided",
                "reason": "the PAG has selection-bias marks (-- or -o), which the generalized adjustment "
                          "criterion does not cover, so no adjustment claim is made"}
    if problem is not None:
        return {"treatment": xs, "outcome": ys, "verdict": "not decided",
                "reason": f"the PAG is not the PAG of any MAG ({problem}): the tests contradict each other, "
                          "so no adjustment claim is made"}
    answer = adjustment(marks, names, xs, ys)
    out = {"treatment": answer.treatment, "outcome": answer.outcome, "verdict": answer.verdict,
           "adjustment_set": answer.adjustment_set, "minimal_set": answer.minimal_set,
           "forbidden": answer.forbidden, "no_effect": answer.no_effect, "reason": answer.reason}
    return out


def _braces(names: list[str]) -> str:
    return "{" + ", ".join(names) + "}"


def _text(result: dict[str, Any]) -> str:
    lines = [f"FCI (order-independent), {_TEST_NAMES[result['test']]} test, alpha={result['alpha']:g}, "
             f"{result['orientation']} collider rule: {len(result['nodes'])} variables, {result['n_rows']} rows, "
             f"{result['tests_run']} tests",
             "Assumes " + result["assumes"] + ".",
             "PAG (o: either mark is possible):"]
    lines += [f"  {e['edge']}" for e in result["edges"]] or ["  no edges"]
    if result["pag_problem"]:
        lines.append(f"Not a valid PAG: {result['pag_problem']}; "
                     "read what follows as the marks say, not as guarantees.")
    ancestors = result["definite_ancestors"]
    lines.append("definite causes (a path of -> edges, in every MAG of the class): "
                 + (", ".join(f"{a} ~> {b}" for a, b in ancestors) or "none"))
    confounded = result["confounding"]
    definite = ", ".join(f"{a} <-> {b}" for a, b in confounded["definite"]) or "none"
    possible = ", ".join(p["edge"] for p in confounded["possible"]) or "none"
    lines.append(f"latent confounding: definite {definite}; possible {possible}")
    if result["removed_by_possible_dsep"]:
        lines.append("removed by Possible-D-SEP: "
                     + ", ".join(f"{a} - {b}" for a, b in result["removed_by_possible_dsep"]))
    if result["ambiguous_triples"]:
        lines.append("ambiguous (left unoriented): " + ", ".join("-".join(t) for t in result["ambiguous_triples"]))
    if result["undecided_discriminating_paths"]:
        lines.append("discriminating paths left undecided (theta, beta, gamma): "
                     + ", ".join("-".join(t) for t in result["undecided_discriminating_paths"]))
    if result["conflicts"]:
        lines.append("conflicting orientations (left as circles): "
                     + ", ".join(f"{a} - {b}" for a, b in result["conflicts"]))
    if "adjustment" in result:
        lines.append(_adjustment_text(result["adjustment"]))
    if "out" in result:
        lines.append(f"wrote {result['out']}")
    return "\n".join(lines)


def _adjustment_text(answer: dict) -> str:
    effect = f"effect of {', '.join(answer['treatment'])} on {', '.join(answer['outcome'])}"
    if answer["verdict"] == "identifiable":
        text = (f"{effect}: identifiable by adjustment for {_braces(answer['adjustment_set'])} "
                f"(a minimal set: {_braces(answer['minimal_set'])}), in every MAG of the class "
                "(generalized adjustment criterion, Perkovic et al. 2018)")
    elif answer["verdict"] == "not identifiable by adjustment":
        text = f"{effect}: not identifiable by adjustment from this PAG: {answer['reason']}"
    else:
        text = f"{effect}: not decided: {answer['reason']}"
    if answer.get("no_effect"):
        text += (f"; no treatment is a possible ancestor of an outcome, so (without selection bias) "
                 f"P({', '.join(answer['outcome'])} | do({', '.join(answer['treatment'])})) = "
                 f"P({', '.join(answer['outcome'])})")
    return text
