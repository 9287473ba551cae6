"""Pearl's three rules of the do-calculus: does a rule license a given step on a given graph?"""

from __future__ import annotations

from dataclasses import dataclass

from zoo_core import InputError

from .graph import ADMG
from .query import Query
from .separation import m_separated

__all__ = ["RuleCheck", "check_rule"]


@dataclass
class RuleCheck:
    """Rule ``rule`` applied to ``before`` on ``on``: the graph and separation it needs."""

    rule: int
    applies: bool
    before: Query
    after: Query
    graph: ADMG  # the mutilated graph the separation is tested in
    graph_name: str  # e.g. "G with edges into X removed and edges out of Z removed"
    separation: tuple[list[str], list[str], list[str]]  # Y _||_ Z | X, W

    def separation_text(self) -> str:
        ys, zs, given = self.separation
        text = f"{', '.join(ys)} _||_ {', '.join(zs)}"
        return text + (f" | {', '.join(given)}" if given else "")


def check_rule(graph: ADMG, rule: int, query: Query, on: list[str]) -> RuleCheck:
    """Rule 1 deletes observations ``on``; rule 2 exchanges the action do(on) for observing
    it; rule 3 deletes the action do(on)."""
    if rule not in (1, 2, 3):
        raise InputError(f"--rule {rule}: the do-calculus has rules 1, 2 and 3")
    graph.check_names(query.variables, "--query")
    graph.check_names(on, "--on")
    if not on:
        raise InputError("--on: name the variables the rule acts on, e.g. --on Z")
    ys = list(query.outcomes)
    if rule == 1:
        missing = [v for v in on if v not in query.conditions]
        if missing:
            raise InputError(f"--on {', '.join(missing)}: rule 1 deletes observations, and the query does not "
                             f"condition on {', '.join(missing)}: write e.g. P(Y | do(X), {missing[0]}, W)")
        xs = list(query.treatments)
        ws = [v for v in query.conditions if v not in on]
        mutilated = graph.without_incoming(xs)
        name = _name([("into", xs)])
        after = Query(dict(query.outcomes), dict(query.treatments),
                      {k: v for k, v in query.conditions.items() if k not in on}, query.expectation)
    else:
        missing = [v for v in on if v not in query.treatments]
        if missing:
            raise InputError(f"--on {', '.join(missing)}: rule {rule} acts on interventions, and the query does not "
                             f"intervene on {', '.join(missing)}: write e.g. P(Y | do(X, {missing[0]}), W)")
        xs = [v for v in query.treatments if v not in on]
        ws = list(query.conditions)
        cut = graph.without_incoming(xs)
        if rule == 2:
            mutilated = cut.without_outgoing(on)
            name = _name([("into", xs), ("out of", on)])
            after = Query(dict(query.outcomes), {k: v for k, v in query.treatments.items() if k not in on},
                          {**query.conditions, **{k: query.treatments[k] for k in on}}, query.expectation)
        else:
            ancestors_of_w = cut.ancestors(ws) if ws else set()
            zw = [v for v in on if v not in ancestors_of_w]
            mutilated = cut.without_incoming(zw)
            name = _name([("into", xs + zw)])
            after = Query(dict(query.outcomes), {k: v for k, v in query.treatments.items() if k not in on},
                          dict(query.conditions), query.expectation)
    given = graph.sort(set(xs) | set(ws))
    applies = m_separated(mutilated, ys, on, given)
    return RuleCheck(rule, applies, query, after, mutilated, name, (ys, list(on), given))


def _name(cuts: list[tuple[str, list[str]]]) -> str:
    parts = [f"edges {where} {', '.join(nodes)} removed" for where, nodes in cuts if nodes]
    return "G with " + " and ".join(parts) if parts else "G"
