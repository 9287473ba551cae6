"""The ``do-calculus`` analyzer: ``zoo run do-calculus`` and its Python API.

One command, five questions, each answered with a JSON object whose top-level keys are a
contract other tools script against:

- ``--query Q``: ``identifiable``, ``estimand``, ``latex`` (or ``witness``); with ``--data``
  also ``value`` and ``std_error``.
- ``--dsep "A _||_ B | C"``: ``separated``.
- ``--adjustment-sets --treatment X --outcome Y``: ``adjustment_sets``.
- ``--backdoor Z --treatment X --outcome Y``: ``backdoor``; ``--front-door M ...``: ``front_door``.
- ``--rule N --query Q --on Z``: ``applies``, the mutilated ``graph`` and the ``separation``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_core import AnalysisResult, CausalAnalyzer, InputError

from .adjustment import is_backdoor, is_frontdoor, minimal_backdoor_sets
from .expression import prob_terms
from .graph import _NAME, ADMG, parse_graph, parse_names
from .identify import Identification, identify
from .query import Contrast, Query, parse_query, parse_query_or_contrast
from .rules import RuleCheck, check_rule
from .separation import m_separated, parse_dsep

if TYPE_CHECKING:  # estimation (numpy) loads only when --data asks for it
    from .estimate import Estimate

__all__ = ["DoCalculus"]


def _graph(graph: ADMG | str | Path) -> ADMG:
    return graph if isinstance(graph, ADMG) else parse_graph(graph)


def _checked(graph: ADMG | str | Path, **names: list[str]) -> ADMG:
    """The graph, after a one-line error for any name it lacks (``treatment=["X"]`` -> --treatment)."""
    graph = _graph(graph)
    for option, values in names.items():
        graph.check_names(values, "--" + option.replace("_", "-"))
    return graph


def _warn(message: str) -> None:
    from zoo_core import warn

    warn(message)


class DoCalculus(CausalAnalyzer):
    """Identification, Pearl's rules, adjustment and estimation on ADMGs."""

    # -- Python API --------------------------------------------------------------------------

    def identify(self, graph: ADMG | str | Path, query: Query | str) -> Identification:
        """ID/IDC for ``query`` (e.g. ``"P(Y | do(X), Z)"``) on ``graph``."""
        graph = _graph(graph)
        query = parse_query(query) if isinstance(query, str) else query
        graph.check_names(query.variables, "--query")
        return identify(graph, list(query.outcomes), list(query.treatments), list(query.conditions))

    def estimate(self, graph: ADMG | str | Path, query: Query | Contrast | str, data: Any, *,
                 weight_column: str | None = None, bootstrap: int | None = None, seed: int = 0,
                 categorical: str | list[str] | None = None, estimator: str = "auto", learner: Any = None,
                 target: str = "ate", folds: int = 5, trim: float = 0.01,
                 effect_modifiers: str | list[str] | None = None, match_on: str = "propensity",
                 neighbours: int = 1, plot: str | Path | None = None) -> Estimate:
        """Identify ``query`` and estimate it from ``data``: a CSV/.dta/.parquet path, a pandas
        DataFrame or a mapping of column -> values; ``categorical`` names columns read as
        categories (a list, or comma-separated).

        ``estimator``: ``auto`` (the exact plug-in on all-discrete data, else ``aipw``),
        ``aipw``, ``ipw``, ``matching``, ``regression``, ``linear`` or ``plug-in``; which apply
        depends on the identified estimand (see ``zoo_docalculus.effects``). ``learner``: a
        name (auto, linear, logistic, boosting, forest), a scikit-learn estimator, or
        ``{"outcome": ..., "propensity": ...}``. ``target``: ate, att or atc. ``bootstrap``:
        replicates (the plug-in's default is 200; the flexible estimators' intervals come from
        the influence function unless it is given)."""
        from .effects import EffectOptions, estimate_effect
        from .estimate import MAX_LEVELS, estimate_discrete
        from .frames import load_table
        from .table import parse_columns

        graph = _graph(graph)
        parsed = parse_query_or_contrast(query) if isinstance(query, str) else query
        first = parsed.treated if isinstance(parsed, Contrast) else parsed
        ident = self.identify(graph, first)
        if not ident.identifiable:
            raise InputError(f"--query: {first} is not identifiable on this graph, so no data can estimate it")
        options = EffectOptions(estimator=estimator, learner=learner, target=target, folds=folds, trim=trim, seed=seed,
                                bootstrap=bootstrap or 0, effect_modifiers=parse_columns(effect_modifiers),
                                match_on=match_on, neighbours=neighbours, plot=None)
        options.check()
        if plot is not None:
            from .effect_plot import check_plot_path

            options.plot = check_plot_path(plot)
        table = load_table(data, weight_column=weight_column, categorical=categorical)
        needed = graph.sort({v for q in _queries(parsed) for v in q.variables})
        table.require(needed)
        if estimator == "plug-in":
            return estimate_discrete(ident, parsed, table, bootstrap=200 if bootstrap is None else bootstrap,
                                     seed=seed, warn=_warn)
        # a continuous confounder of a discrete treatment and outcome also calls for regression
        assert ident.estimand is not None
        mentioned = {v for term in prob_terms(ident.estimand) for v in term.heads | term.given}
        columns = [v for v in graph.sort(set(needed) | mentioned) if v in table.cells]
        rows = table.present(columns)
        # categories (text, or --categorical) are never continuous: too many is the discrete path's error
        continuous = [v for v in columns if not table.is_categorical(v) and len(set(table.cells[v][rows])) > MAX_LEVELS]
        if estimator == "auto" and (not continuous or not first.expectation):
            if continuous and not first.expectation:
                from .estimate import estimate_linear

                return estimate_linear(graph, parsed, table, warn=_warn)  # raises the advice for P(...) queries
            return estimate_discrete(ident, parsed, table, bootstrap=200 if bootstrap is None else bootstrap,
                                     seed=seed, warn=_warn)
        if weight_column is not None:
            if estimator not in ("auto", "linear"):
                raise InputError(f"--weight-column: --estimator {estimator} takes one row per unit; use --estimator "
                                 "linear, or plug-in on discrete data, for weighted (count) tables")
            from .estimate import estimate_linear

            result = estimate_linear(graph, parsed, table, warn=_warn)
            result.notes.append("weighted rows (--weight-column): linear adjustment, the one continuous-data estimator "
                                "that takes row weights; give one row per unit for the flexible estimators")
            return result
        return estimate_effect(graph, ident, parsed, table, options, _warn)

    def separated(self, graph: ADMG | str | Path, statement: str) -> bool:
        """m-separation, e.g. ``"A, B _||_ C | D"``."""
        graph = _graph(graph)
        xs, ys, zs = parse_dsep(statement)
        graph.check_names([*xs, *ys, *zs], "--dsep")
        return m_separated(graph, xs, ys, zs)

    def adjustment_sets(self, graph: ADMG | str | Path, treatment: list[str], outcome: list[str],
                        limit: int | None = 100) -> list[list[str]]:
        """Every minimal back-door set (at most ``limit``)."""
        graph = _checked(graph, treatment=treatment, outcome=outcome)
        return list(minimal_backdoor_sets(graph, treatment, outcome, limit))

    def backdoor(self, graph: ADMG | str | Path, treatment: list[str], outcome: list[str], adjust: list[str]) -> bool:
        """Pearl's back-door criterion for the set ``adjust``."""
        return is_backdoor(_checked(graph, treatment=treatment, outcome=outcome, backdoor=adjust), treatment, outcome, adjust)

    def front_door(self, graph: ADMG | str | Path, treatment: list[str], outcome: list[str], mediators: list[str]) -> bool:
        """Pearl's front-door criterion for the set ``mediators``."""
        graph = _checked(graph, treatment=treatment, outcome=outcome, front_door=mediators)
        return is_frontdoor(graph, treatment, outcome, mediators)

    def rule(self, graph: ADMG | str | Path, rule: int, query: Query | str, on: list[str]) -> RuleCheck:
        """Whether do-calculus rule ``rule`` licenses the step on ``on`` in ``query``."""
        query = parse_query(query) if isinstance(query, str) else query
        return check_rule(_graph(graph), rule, query, on)

    # -- zoo run ------------------------------------------------------------------------------

    def analyze(self, graph: str | None = None, query: str | None = None, latex: bool = False, data: Any = None,
                weight_column: str | None = None, bootstrap: int | None = None, seed: int = 0, dsep: str | None = None,
                adjustment_sets: bool = False, backdoor: str | None = None, front_door: str | None = None,
                treatment: str | None = None,
                outcome: str | None = None, max_sets: int = 100, rule: str | None = None,
                on: str | None = None, categorical: str | None = None, covariates: str | None = None,
                estimator: str = "auto", learner: Any = None, target: str = "ate", folds: int = 5,
                trim: float = 0.01, effect_modifiers: str | None = None, match_on: str = "propensity",
                neighbours: int = 1, plot: Path | None = None) -> AnalysisResult:
        # --backdoor "" asks about the empty set, so a given option is one that is not None
        modes = [name for name, given in (("--rule", rule), ("--dsep", dsep), ("--adjustment-sets", adjustment_sets or None),
                                           ("--backdoor", backdoor), ("--front-door", front_door)) if given is not None]
        if len(modes) > 1:
            raise InputError(f"{' and '.join(modes)}: ask one question per run")
        if covariates is not None:
            graph, query, data = self._shorthand(graph, query, data, treatment, outcome, covariates, categorical,
                                                 weight_column)
        elif graph is None:
            raise InputError("--graph is required (or, to adjust for every covariate, --treatment T --outcome Y "
                             "--covariates all --data FILE)")
        elif data is not None and query is None and not modes and treatment and outcome:
            data = self._table(data, categorical, weight_column)  # read once, used again by the estimate
            query = self._default_query(data, treatment, outcome)
        if not modes and query is None:
            raise InputError("nothing to answer: give --query, --dsep, --adjustment-sets, --backdoor, --front-door or --rule")
        if data is not None and (modes or query is None):
            raise InputError("--data estimates a --query; the other questions are answered from the graph alone")
        if categorical is not None and data is None:
            raise InputError("--categorical names columns of --data; give --data too")
        if bootstrap is not None and bootstrap < 0:
            raise InputError("--bootstrap must be 0 or more")
        if seed < 0:  # numpy's generator takes none
            raise InputError(f"--seed {seed}: must be 0 or more")
        admg = parse_graph(graph)
        if rule is not None:
            if query is None or on is None:
                raise InputError("--rule needs --query (e.g. 'P(Y | do(X), Z, W)') and --on (the variables it acts on)")
            return self._rule(admg, int(rule), query, parse_names(on, "--on"))
        if dsep is not None:
            return self._dsep(admg, dsep)
        if adjustment_sets or front_door is not None or backdoor is not None:
            if not treatment or not outcome:
                raise InputError(f"{modes[0]} needs --treatment X and --outcome Y")
            xs, ys = parse_names(treatment, "--treatment"), parse_names(outcome, "--outcome")
            admg.check_names(xs, "--treatment")
            admg.check_names(ys, "--outcome")
            if set(xs) & set(ys):
                raise InputError("--treatment and --outcome share a variable")
            if adjustment_sets:
                if max_sets < 1:
                    raise InputError("--max-sets must be at least 1")
                return self._adjustment(admg, xs, ys, max_sets)
            flag, key, check = (("--backdoor", "backdoor", is_backdoor) if backdoor is not None
                                else ("--front-door", "front_door", is_frontdoor))
            zs = parse_names(backdoor if backdoor is not None else front_door or "", flag)
            admg.check_names(zs, flag)
            ok = check(admg, xs, ys, zs)
            criterion = flag.strip("-").replace("-", " ").replace("backdoor", "back-door")
            text = f"{{{', '.join(zs)}}} {'satisfies' if ok else 'does not satisfy'} the {criterion} criterion " \
                   f"for {', '.join(xs)} -> {', '.join(ys)}"
            return AnalysisResult({key: ok, "treatment": xs, "outcome": ys, "variables": zs}, text)
        assert query is not None
        estimation = dict(estimator=estimator, learner=learner, target=target, folds=folds, trim=trim,
                          effect_modifiers=effect_modifiers, match_on=match_on, neighbours=neighbours, plot=plot)
        if data is None:
            defaults = {"estimator": "auto", "learner": "auto", "target": "ate", "folds": 5, "trim": 0.01,
                        "match_on": "propensity", "neighbours": 1}
            given = [f"--{k.replace('_', '-')}" for k, v in estimation.items() if v is not None and v != defaults.get(k)]
            if given:
                raise InputError(f"{', '.join(given)}: estimation options need --data")
        return self._query(admg, query, latex, data, weight_column, bootstrap, seed, categorical, estimation)

    def _shorthand(self, graph: str | None, query: str | None, data: Any, treatment: str | None, outcome: str | None,
                   covariates: str, categorical: str | None, weight_column: str | None) -> tuple[str, str, Any]:
        """--covariates: the graph 'each covariate -> treatment and -> outcome, treatment -> outcome',
        the query, and the data as a table (read once)."""
        from .table import parse_columns

        if graph is not None:
            raise InputError("--covariates builds the graph (each covariate -> treatment and outcome); give it or "
                             "--graph, not both")
        if not treatment or not outcome or data is None:
            raise InputError("--covariates needs --treatment T, --outcome Y and --data FILE")
        table = self._table(data, categorical, weight_column)
        (t,), (y,) = parse_names(treatment, "--treatment"), parse_names(outcome, "--outcome")
        table.require([t, y])
        names = [c for c in table.names if c not in (t, y)] if covariates.strip() == "all" \
            else parse_columns(covariates)
        table.require(names)
        if t in names or y in names:
            raise InputError("--covariates: leave the treatment and the outcome out of the covariates")
        odd = [c for c in names if not _NAME.fullmatch(c)]
        if odd:
            raise InputError(f"--covariates {covariates}: column {odd[0]!r} is not a name a causal graph can hold "
                             "(letters, digits and _, not starting with a digit); rename it in the data, or list the "
                             "covariates to use with --covariates A,B,C")
        # covariates may depend on each other in any way: a bidirected edge between each pair says
        # so without claiming a direction (and without the independence a graph with none would claim)
        edges = [f"{c} -> {t}; {c} -> {y}" for c in names] + [f"{t} -> {y}"]
        edges += [f"{c} <-> {d}" for i, c in enumerate(names) for d in names[i + 1:]]
        return "; ".join(edges), query or self._default_query(table, t, y), table

    @staticmethod
    def _table(data: Any, categorical: str | None, weight_column: str | None) -> Any:
        from .frames import load_table

        return load_table(data, weight_column=weight_column, categorical=categorical)

    def _default_query(self, table: Any, treatment: str, outcome: str) -> str:
        """E[Y | do(T=high)] - E[Y | do(T=low)] for a treatment with two values."""
        (t,), (y,) = parse_names(treatment, "--treatment"), parse_names(outcome, "--outcome")
        table.require([t, y])
        _, levels = table.discrete(t, table.present([t]))
        if len(levels) != 2:
            raise InputError(f"--treatment {t}: has {len(levels)} values, not two; give --query "
                             f"'E[{y} | do({t}=a)] - E[{y} | do({t}=b)]' to say which contrast")
        return f"E[{y} | do({t}={levels[1]})] - E[{y} | do({t}={levels[0]})]"

    def _query(self, graph: ADMG, text: str, latex: bool, data: Any, weight_column: str | None,
               bootstrap: int | None, seed: int, categorical: str | None = None,
               estimation: dict[str, Any] | None = None) -> AnalysisResult:
        parsed = parse_query_or_contrast(text)
        queries = _queries(parsed)
        for q in queries:
            graph.check_names(q.variables, "--query")
        ident = self.identify(graph, queries[0])
        shown = str(parsed)
        result: dict[str, Any] = {"query": shown, "identifiable": ident.identifiable}
        lines = []
        if ident.identifiable:
            result.update(estimand=ident.text(), latex=ident.latex())
            lines += [f"{_p_form(queries[0])} is identifiable:", f"  {ident.text()}"]
            if latex:
                lines.append(f"LaTeX: {ident.latex()}")
        else:
            assert ident.hedge is not None
            roots = sorted(ident.hedge.roots(graph), key=graph.rank.__getitem__)
            forest = graph.sort(ident.hedge.forest)
            sub = graph.sort(ident.hedge.subforest)
            result.update(estimand=None, latex=None,
                          witness={"hedge": [forest, sub], "forest": forest, "subforest": sub, "roots": roots})
            lines += [f"{_p_form(queries[0])} is not identifiable: the graph has a hedge",
                      f"  F = {{{', '.join(forest)}}} and F' = {{{', '.join(sub)}}}, both rooted in "
                      f"{{{', '.join(roots)}}}"]
        if data is not None:
            if not ident.identifiable:
                raise InputError(f"--data: {_p_form(queries[0])} is not identifiable on this graph "
                                 "(no amount of data estimates it); run without --data to see the hedge")
            estimate = self.estimate(graph, parsed, data, weight_column=weight_column, bootstrap=bootstrap, seed=seed,
                                     categorical=categorical, **(estimation or {}))
            result.update(estimate.to_dict())
            if "value" not in result:
                result["value"] = None
            lines.append(_estimate_text(shown, estimate))
        return AnalysisResult(result, "\n".join(lines))

    def _rule(self, graph: ADMG, rule: int, query: str, on: list[str]) -> AnalysisResult:
        check = self.rule(graph, rule, query, on)
        data = {"applies": check.applies, "rule": rule, "query": str(check.before), "result": str(check.after),
                "graph": {"name": check.graph_name, **check.graph.edge_lists()},
                "separation": {"statement": check.separation_text(), "separated": check.applies}}
        verdict = "applies" if check.applies else "does not apply"
        text = (f"rule {rule} {verdict}: {check.before} = {check.after}" if check.applies
                else f"rule {rule} {verdict}: {check.before} != {check.after} in general")
        text += f"\n  tested {check.separation_text()} in {check.graph_name}"
        return AnalysisResult(data, text)

    def _dsep(self, graph: ADMG, statement: str) -> AnalysisResult:
        separated = self.separated(graph, statement)
        xs, ys, zs = parse_dsep(statement)
        shown = f"{', '.join(xs)} _||_ {', '.join(ys)}" + (f" | {', '.join(zs)}" if zs else "")
        return AnalysisResult({"separated": separated, "statement": shown},
                              f"{shown}: {'m-separated' if separated else 'not m-separated (m-connected)'}")

    def _adjustment(self, graph: ADMG, xs: list[str], ys: list[str], limit: int) -> AnalysisResult:
        sets = self.adjustment_sets(graph, xs, ys, limit + 1)
        complete = len(sets) <= limit
        sets = sets[:limit]
        data = {"treatment": xs, "outcome": ys, "adjustment_sets": sets, "complete": complete}
        if not sets:
            text = (f"no back-door adjustment set for {', '.join(xs)} -> {', '.join(ys)} "
                    "(try --query for the ID estimand)")
        else:
            shown = ["{" + ", ".join(s) + "}" for s in sets]
            text = f"minimal back-door adjustment sets for {', '.join(xs)} -> {', '.join(ys)}:\n  " + "\n  ".join(shown)
            if not complete:
                text += f"\n  (stopped at --max-sets {limit}; there are more)"
        return AnalysisResult(data, text)


def _queries(parsed: Query | Contrast) -> list[Query]:
    return [parsed.treated, parsed.control] if isinstance(parsed, Contrast) else [parsed]


def _p_form(query: Query) -> str:
    """The distribution a query needs, without values: E[Y | do(X=1)] -> P(Y | do(X))."""
    return str(Query({k: None for k in query.outcomes}, {k: None for k in query.treatments},
                     {k: None for k in query.conditions}))


def _estimate_text(shown: str, estimate: Estimate) -> str:
    lines = []
    if estimate.value is not None:
        target = f" [{estimate.target.upper()}]" if estimate.target else ""
        line = f"{shown}{target} = {estimate.value:.6g}"
        if estimate.std_error is not None:
            line += f" (std. error {estimate.std_error:.3g}"
            if estimate.interval:
                line += f"; 95% interval [{estimate.interval[0]:.4g}, {estimate.interval[1]:.4g}]"
            line += ")"
        lines.append(line)
    else:
        for row in estimate.distribution or []:
            values = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("value", "std_error"))
            se = f" (std. error {row['std_error']:.3g})" if row.get("std_error") is not None else ""
            value = "undefined (empty cell)" if row["value"] is None else f"{row['value']:.6g}"
            lines.append(f"{values}: {value}{se}")
    lines.append(f"  {estimate.method}; {estimate.rows_used} rows" +
                 (f", {estimate.rows_dropped} dropped for missing values" if estimate.rows_dropped else ""))
    lines += [f"  note: {n}" for n in estimate.notes]
    if estimate.potential_outcomes:
        lines.append("  potential outcome means: " + ", ".join(f"{k}: {v:.6g}" for k, v in estimate.potential_outcomes.items()
                                                              if v is not None))
    lines += _diagnostics_text(estimate.diagnostics or {})
    for block in estimate.conditional or []:
        if block["kind"] == "levels":
            for g in block["groups"]:
                lines.append(f"  effect at {block['modifier']}={g['value']}: {g['effect']:.4g} "
                             f"[{g['interval'][0]:.4g}, {g['interval'][1]:.4g}] ({g['rows']} rows)")
        else:
            lines.append(f"  effect change per unit of {block['modifier']}: {block['slope']:.4g} "
                         f"(std. error {block['slope_std_error']:.3g}); at its quartiles: " +
                         ", ".join(f"{p['value']:.4g}: {p['effect']:.4g}" for p in block["at_quartiles"]))
    return "\n".join(lines)


def _diagnostics_text(d: dict[str, Any]) -> list[str]:
    """The diagnostics as a few lines under the estimate."""
    lines = []
    ov = d.get("overlap")
    if ov:
        arms = "; ".join(f"{a['arm']}: {a['rows']} rows, propensity {a['propensity_min']:.3g}-{a['propensity_max']:.3g}, "
                         f"{a['effective_rows']:.0f} effective" for a in ov["arms"])
        lines.append(f"  overlap: {arms}; {ov['rows_trimmed']} rows trimmed (--trim {ov['trim']:g})")
    bal = d.get("balance")
    if bal:
        before = max(abs(b["smd_before"]) for b in bal)
        after = max((abs(b["smd_after"]) for b in bal if b["smd_after"] == b["smd_after"]), default=float("nan"))
        lines.append(f"  balance: largest |standardized mean difference| {before:.3f} before weighting, {after:.3f} after")
    lin, flex = d.get("linear"), d.get("flexible")
    shown = flex or (lin if lin and "value" in lin else None)  # the other estimate: the flexible one beside linear
    if shown:
        label = "flexible (aipw)" if flex else "linear adjustment"
        text = f"  {label} for comparison: {shown['value']:.6g}"
        if shown.get("interval"):
            text += f" [{shown['interval'][0]:.4g}, {shown['interval'][1]:.4g}]"
        mis = d.get("misspecification") or {}
        if mis.get("flagged") is not None:
            text += " - disagrees: the linear model is misspecified" if mis["flagged"] else " - agrees"
        lines.append(text)
    sens = d.get("sensitivity", {}).get("e_value")
    if sens:
        text = f"  sensitivity: E-value {sens['point']:.3g}"
        if "interval" in sens:
            text += f" (interval limit {sens['interval']:.3g})"
        rv = d.get("sensitivity_linear")
        if rv:
            text += f"; linear robustness value {rv['rv']:.1%}"
        lines.append(text)
    if d.get("plot"):
        lines.append(f"  wrote {d['plot']}")
    lines += [f"  warning: {w}" for w in d.get("warnings", [])]
    return lines
