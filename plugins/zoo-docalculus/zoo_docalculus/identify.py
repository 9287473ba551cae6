"""Identification of causal effects: the complete ID and IDC algorithms (Shpitser & Pearl 2006).

``identify(graph, outcomes, treatments, conditions)`` returns an ``Identification``: either
an estimand (an ``Expr`` over observational probabilities) or, when the effect is not
identifiable, the hedge the algorithm failed on (two C-forests as node sets).

The recursion follows the paper's lines 1-7 with one fixed topological order. Distributions
passed down are expressions, so the conditionals of lines 6 and 7 are computed from the
current distribution (never assumed to be plain observational conditionals); the expression
constructors then simplify only by identities that always hold. Afterwards ``prune`` drops
conditioning variables that the graph makes irrelevant (by m-separation), which turns the
back-door and front-door results into their textbook forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .expression import Expr, Fraction, Prob, Product, Sum, conditional, fraction, product, rebuild, sum_over
from .graph import ADMG
from .separation import m_connected_nodes, m_separated

__all__ = ["Identification", "Hedge", "identify", "identify_effect", "prune", "is_hedge"]


@dataclass(frozen=True)
class Hedge:
    """The witness of non-identifiability: C-forests F' ⊂ F sharing their root set."""

    forest: frozenset[str]  # F: meets the treatments
    subforest: frozenset[str]  # F': avoids them

    def roots(self, graph: ADMG) -> set[str]:
        """R: the nodes of F' without children in F' (both forests are rooted there)."""
        return {v for v in self.subforest if not graph.children[v] & self.subforest}


class NotIdentifiable(Exception):
    def __init__(self, hedge: Hedge) -> None:
        super().__init__(f"hedge {sorted(hedge.forest)} / {sorted(hedge.subforest)}")
        self.hedge = hedge


@dataclass
class Identification:
    """The answer for P(outcomes | do(treatments), conditions)."""

    graph: ADMG
    outcomes: list[str]
    treatments: list[str]
    conditions: list[str]
    estimand: Expr | None
    hedge: Hedge | None = None
    invariant: list[str] = field(default_factory=list)  # free in the estimand, irrelevant to its value

    @property
    def identifiable(self) -> bool:
        return self.estimand is not None

    def text(self) -> str:
        return self.estimand.text(self.graph.rank.__getitem__) if self.estimand is not None else ""

    def latex(self) -> str:
        return self.estimand.latex(self.graph.rank.__getitem__) if self.estimand is not None else ""


def identify(graph: ADMG, outcomes: Iterable[str], treatments: Iterable[str] = (),
             conditions: Iterable[str] = ()) -> Identification:
    """Identify P(outcomes | do(treatments), conditions) on ``graph`` (IDC when conditioned)."""
    y, x, z = list(outcomes), list(treatments), list(conditions)
    try:
        estimand = _idc(set(y), set(x), set(z), graph)
    except NotIdentifiable as failure:
        return Identification(graph, y, x, z, None, failure.hedge)
    # Line 3 can leave variables W that the effect does not depend on in the estimand
    # (P_x(y) = P_{x,w}(y) for every w, as in the napkin formula): it holds for each value of
    # them; ``invariant`` names them and estimation averages over their observed values.
    estimand = prune(estimand, graph)
    invariant = graph.sort(estimand.free - set(y) - set(x) - set(z))
    return Identification(graph, y, x, z, estimand, invariant=invariant)


def identify_effect(graph: ADMG, outcomes: Iterable[str], treatments: Iterable[str]) -> Expr:
    """The unpruned ID estimand of P(outcomes | do(treatments)); raises ``NotIdentifiable``."""
    return _id(set(outcomes), set(treatments), Prob(frozenset(graph.nodes)), graph, graph.rank)


def _idc(y: set[str], x: set[str], z: set[str], graph: ADMG) -> Expr:
    """IDC: move conditions that rule 2 turns into actions, then divide."""
    if not z:
        return _id(y, x, Prob(frozenset(graph.nodes)), graph, graph.rank)
    cut = graph.without_incoming(x)
    for zj in graph.sort(z):
        if m_separated(cut.without_outgoing({zj}), y, {zj}, x | (z - {zj})):
            return _idc(y, x | {zj}, z - {zj}, graph)
    joint = _id(y | z, x, Prob(frozenset(graph.nodes)), graph, graph.rank)
    return fraction(joint, sum_over(y, joint))


def _id(y: set[str], x: set[str], dist: Expr, graph: ADMG, rank: dict[str, int]) -> Expr:
    """Lines 1-7 of ID; ``dist`` is the current distribution over ``graph``'s nodes."""
    nodes = set(graph.nodes)
    # line 1: no intervention left
    if not x:
        return sum_over(nodes - y, dist)
    # line 2: only ancestors of Y matter
    ancestors = graph.ancestors(y)
    if nodes - ancestors:
        return _id(y, x & ancestors, sum_over(nodes - ancestors, dist), graph.subgraph(ancestors, ancestral=True), rank)
    # line 3: intervening on W, which cannot reach Y once X is fixed, changes nothing
    useless = (nodes - x) - graph.ancestors(y, cut=x)
    if useless:
        return _id(y, x | useless, dist, graph, rank)
    # line 4: factor over the districts of G \ X
    districts = graph.c_components(without=x)
    if len(districts) > 1:
        terms = [_id(s, nodes - s, dist, graph, rank) for s in districts]
        return sum_over(nodes - (y | x), product(terms))
    (district,) = districts
    whole = graph.c_components()
    # line 5: the graph is one district: a hedge
    if len(whole) == 1:
        raise NotIdentifiable(Hedge(frozenset(nodes), frozenset(district)))
    order = sorted(nodes, key=rank.__getitem__)
    position = {v: i for i, v in enumerate(order)}

    def before(v: str) -> set[str]:
        return set(order[:position[v]])

    # line 6: S is a district of G
    if any(district == c for c in whole):
        factors = [_factor(dist, graph, v, before(v)) for v in sorted(district, key=rank.__getitem__)]
        return sum_over(district - y, product(factors))
    # line 7: S sits inside a larger district S' of G
    larger = next(c for c in whole if district < c)
    factors = [_factor(dist, graph, v, before(v)) for v in sorted(larger, key=rank.__getitem__)]
    return _id(y, x & larger, product(factors), graph.subgraph(larger), rank)


def _factor(dist: Expr, graph: ADMG, v: str, before: set[str]) -> Expr:
    """dist(v | the nodes before v), the factor of lines 6 and 7.

    When ``dist`` is the observational distribution of ``graph``'s nodes, the ordered local
    Markov property lets v condition on its Markov blanket among its predecessors alone:
    its district in G[before ∪ {v}] and that district's parents. Otherwise the conditional is
    computed from ``dist`` as a ratio of its marginals.
    """
    nodes = set(graph.nodes)
    if not (isinstance(dist, Prob) and not dist.given and dist.heads == nodes):
        return conditional(dist, nodes, v, before)
    prefix = before | {v}
    district, queue = {v}, [v]
    while queue:
        for sibling in graph.siblings[queue.pop()]:
            if sibling in prefix and sibling not in district:
                district.add(sibling)
                queue.append(sibling)
    blanket = set(district)
    for member in district:
        blanket |= graph.parents[member]
    return Prob(frozenset({v}), frozenset(blanket - {v}))


def prune(expr: Expr, graph: ADMG) -> Expr:
    """Drop conditioning variables that are m-separated from the heads given the rest.

    Each step is an identity of the observational distribution of any model with this graph,
    so the estimand's value is unchanged; sums that become trivial then disappear.
    """
    memo: dict[Prob, Prob] = {}

    def leaf(term: Prob) -> Expr:
        if term not in memo:
            memo[term] = _pruned(term)
        return memo[term]

    def _pruned(term: Prob) -> Prob:
        # v in C is irrelevant iff no path open given C reaches it from the heads; by the
        # intersection property all such v go at once, and the rest is checked again
        given = set(term.given)
        adjacent = set().union(*(graph.parents[h] | graph.siblings[h] | graph.children[h] for h in term.heads))
        while given - adjacent:  # a variable adjacent to a head is never separated from it
            irrelevant = (given - adjacent) - m_connected_nodes(graph, term.heads, given, targets=given - adjacent)
            if not irrelevant:
                break
            given -= irrelevant
        return term if len(given) == len(term.given) else Prob(term.heads, frozenset(given))

    expr = rebuild(expr, leaf)
    chains: dict = {}
    while True:
        merged = _merge_in_sums(expr, graph, chains)
        if merged is expr or merged == expr:
            return expr
        expr = rebuild(merged, leaf)


def _merge_in_sums(expr: Expr, graph: ADMG, memo: dict | None = None) -> Expr:
    """Inside sums, join P(A | C) P(B | C, A) into P(A, B | C) by the chain rule.

    P(B | C2) may first gain conditioning variables that are m-separated from B, so chains
    such as P(B | A) P(C | B) P(D | A, B, C) collapse to P(B, C, D | A) and the sum over
    B and C then disappears.
    """
    memo = {} if memo is None else memo
    if isinstance(expr, Product):
        factors = [_merge_in_sums(f, graph, memo) for f in expr.factors]
        return expr if all(a is b for a, b in zip(factors, expr.factors)) else product(factors)
    if isinstance(expr, Fraction):
        num, den = _merge_in_sums(expr.num, graph, memo), _merge_in_sums(expr.den, graph, memo)
        return expr if num is expr.num and den is expr.den else fraction(num, den)
    if not isinstance(expr, Sum):
        return expr
    body = _merge_in_sums(expr.body, graph, memo)
    changed = body is not expr.body
    factors = list(body.factors) if isinstance(body, Product) else [body]
    merged = True
    while merged:
        merged = False
        probs = sorted((f for f in factors if isinstance(f, Prob)),
                       key=lambda f: min(graph.rank[v] for v in f.heads))
        for first in probs:
            for second in probs:
                if not first.heads & second.given or first is second:
                    continue
                if (first, second) not in memo:
                    memo[first, second] = _chain(first, second, graph)
                joined = memo[first, second]
                if first is not second and joined is not None:
                    factors.remove(first)
                    factors.remove(second)
                    factors.append(joined)
                    merged = changed = True
                    break
            if merged:
                break
    return sum_over(expr.over, product(factors)) if changed else expr


def _chain(first: Prob, second: Prob, graph: ADMG) -> Prob | None:
    """P(A | C) P(B | C2) as P(A, B | C ∪ E) by the chain rule, where E = C2 \\ (C ∪ A) may be
    added to the first factor's conditioning if A ⊥ E | C, and the second's conditioning may
    grow to C ∪ E ∪ A if B is m-separated from what it gains; else None."""
    if not first.heads & second.given or second.heads & (first.heads | first.given):
        return None
    extra = second.given - first.heads - first.given
    if extra and not m_separated(graph, first.heads, extra, first.given):
        return None
    context = first.heads | first.given | extra
    gained = context - second.given
    if gained and not m_separated(graph, second.heads, gained, second.given):
        return None
    return Prob(first.heads | second.heads, first.given | extra)


def is_hedge(graph: ADMG, hedge: Hedge, outcomes: Iterable[str], treatments: Iterable[str]) -> bool:
    """Whether ``hedge`` is a hedge for P(outcomes | do(treatments)) in ``graph``.

    C-forests are edge subgraphs, so for node sets F' ⊂ F this means: F meets the treatments
    and F' does not; each is one district in its induced graph; with R the nodes of F'
    without children in F', every node of F' and of F has a directed path to R inside its
    own set (keep one such edge per node: a forest rooted in R); and R lies among the
    ancestors of the outcomes once the treatments' incoming edges are cut.
    """
    x = set(treatments)
    forest, sub = set(hedge.forest), set(hedge.subforest)
    if not (sub < forest and forest & x and not sub & x):
        return False
    roots = hedge.roots(graph)
    for part in (forest, sub):
        induced = graph.subgraph(part)
        if len(induced.c_components()) != 1 or induced.ancestors(roots) != part:
            return False
    return roots <= graph.without_incoming(x).ancestors(outcomes)
