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

import gc
import heapq
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
    # The work makes many small acyclic objects: the cycle collector, which would walk them
    # all again and again, was half the time on long graphs. Paused here, restored after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            estimand = _idc(set(y), set(x), set(z), graph)
        except NotIdentifiable as failure:
            return Identification(graph, y, x, z, None, failure.hedge)
        # Line 3 can leave variables W that the effect does not depend on in the estimand
        # (P_x(y) = P_{x,w}(y) for every w, as in the napkin formula): it holds for each value
        # of them; ``invariant`` names them and estimation averages over their observed values.
        estimand = prune(estimand, graph)
    finally:
        if collecting:
            gc.enable()
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
        # A district S of G \ X that is a whole district of G needs no recursion when ``dist``
        # is the observational distribution of G: Q[S] is line 6's product (Tian & Pearl 2002),
        # which is what the recursion would return. On a chain every district is such a one,
        # so the recursion (and a subgraph per district, quadratic) is skipped.
        observational = _is_observational(dist, nodes)
        terms = [_district_factor(graph, s, rank) if observational and graph.is_district(s)
                 else _id(s, nodes - s, dist, graph, rank) for s in districts]
        return sum_over(nodes - (y | x), product(terms))
    (district,) = districts
    whole = graph.c_components()
    # line 5: the graph is one district: a hedge
    if len(whole) == 1:
        raise NotIdentifiable(Hedge(frozenset(nodes), frozenset(district)))
    # line 6: S is a district of G
    if any(district == c for c in whole):
        factors = [_factor(dist, graph, v, rank) for v in sorted(district, key=rank.__getitem__)]
        return sum_over(district - y, product(factors))
    # line 7: S sits inside a larger district S' of G
    larger = next(c for c in whole if district < c)
    factors = [_factor(dist, graph, v, rank) for v in sorted(larger, key=rank.__getitem__)]
    return _id(y, x & larger, product(factors), graph.subgraph(larger), rank)


def _is_observational(dist: Expr, nodes: set[str]) -> bool:
    """Whether ``dist`` is P(nodes), the observational distribution of the current graph."""
    return isinstance(dist, Prob) and not dist.given and dist.heads == nodes


def _district_factor(graph: ADMG, district: set[str], rank: dict[str, int]) -> Expr:
    """Q[S] for a district S of ``graph`` from its observational distribution: P(S) when S has
    no parents outside itself (ID's line 1), else line 6's product of ordered blankets."""
    if all(graph.parents[v] <= district for v in district):
        return Prob(frozenset(district))
    return product([_blanket_factor(graph, v, rank) for v in sorted(district, key=rank.__getitem__)])


def _factor(dist: Expr, graph: ADMG, v: str, rank: dict[str, int]) -> Expr:
    """dist(v | the nodes of ``graph`` before v), the factor of lines 6 and 7.

    When ``dist`` is the observational distribution of ``graph``'s nodes, the ordered local
    Markov property lets v condition on its Markov blanket among its predecessors alone
    (``_blanket_factor``). Otherwise the conditional is computed from ``dist`` as a ratio of
    its marginals.
    """
    nodes = set(graph.nodes)
    if not _is_observational(dist, nodes):
        return conditional(dist, nodes, v, {u for u in nodes if rank[u] < rank[v]})
    return _blanket_factor(graph, v, rank)


def _blanket_factor(graph: ADMG, v: str, rank: dict[str, int]) -> Prob:
    """P(v | its district in G[nodes before v, and v] and that district's parents)."""
    district, queue = {v}, [v]
    while queue:
        for sibling in graph.siblings[queue.pop()]:
            if rank[sibling] < rank[v] and sibling not in district:
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
    B and C then disappears. A summed variable that a join leaves in no other factor is
    summed out at once (variable elimination), so a chain of n factors collapses in O(n)
    joins of small terms instead of growing one term to n heads.
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
    factors = list(body.factors) if isinstance(body, Product) else [body]
    merged, factors = _join_chains(factors, expr.over, graph, memo)
    if not merged and body is expr.body:
        return expr
    return sum_over(expr.over, product(factors))


def _join_chains(factors: list[Expr], over: frozenset[str], graph: ADMG, memo: dict) -> tuple[bool, list[Expr]]:
    """The factors of one sum's body after every chain-rule join (see ``_merge_in_sums``).

    A worklist in topological order of the factors' heads: a factor is tried against the
    factors it shares a variable with (as first or second term of the chain rule); a join
    adds one new factor, which is tried in turn. Pairs that failed never change, so each
    is tried once (``memo``).
    """
    rank = graph.rank
    alive: dict[int, Expr] = dict(enumerate(factors))
    uses: dict[str, int] = {}  # summed variable -> how many factors mention it
    by_given: dict[str, set[int]] = {}
    by_head: dict[str, set[int]] = {}

    keys: dict[int, int] = {}  # factor -> the rank of its first head

    def add(i: int, term: Expr) -> None:
        alive[i] = term
        for v in term.free & over:
            uses[v] = uses.get(v, 0) + 1
        if isinstance(term, Prob):
            for v in term.heads:
                by_head.setdefault(v, set()).add(i)
            for v in term.given:
                by_given.setdefault(v, set()).add(i)
            keys[i] = min(rank[v] for v in term.heads)
            heapq.heappush(queue, (keys[i], i))

    def remove(i: int) -> None:
        term = alive.pop(i)
        for v in term.free & over:
            uses[v] -= 1
        if isinstance(term, Prob):
            for v in term.heads:
                by_head[v].discard(i)
            for v in term.given:
                by_given[v].discard(i)

    queue: list[tuple[int, int]] = []
    for i, factor in enumerate(factors):
        add(i, factor)
    fresh = len(factors)
    merged = False
    while queue:
        _, i = heapq.heappop(queue)
        term = alive.get(i)
        if not isinstance(term, Prob):
            continue
        pairs = {(i, j) for v in term.heads for j in by_given.get(v, ()) if j != i}
        pairs |= {(j, i) for v in term.given for j in by_head.get(v, ()) if j != i}
        for a, b in sorted(pairs, key=lambda p: (keys[p[0]], keys[p[1]], p)):
            first, second = alive[a], alive[b]
            if (first, second) not in memo:
                memo[first, second] = _chain(first, second, graph)  # type: ignore[arg-type]
            joined = memo[first, second]
            if joined is None:
                continue
            remove(a)
            remove(b)
            # a summed head that no other factor mentions is summed out here
            heads = frozenset(v for v in joined.heads if v not in over or uses.get(v, 0))
            if heads:
                add(fresh, Prob(heads, joined.given))
                fresh += 1
            merged = True
            break
    return merged, [alive[i] for i in sorted(alive)]


def _chain(first: Prob, second: Prob, graph: ADMG) -> Prob | None:
    """P(A | C) P(B | C2) as P(A, B | C ∪ E) by the chain rule, where E = C2 \\ (C ∪ A) may be
    added to the first factor's conditioning if A ⊥ E | C, and the second's conditioning may
    grow to C ∪ E ∪ A if B is m-separated from what it gains; else None."""
    if not first.heads & second.given or second.heads & (first.heads | first.given):
        return None
    extra = second.given - first.heads - first.given
    if extra and not _separated(graph, first.heads, extra, first.given):
        return None
    context = first.heads | first.given | extra
    gained = context - second.given
    if gained and not _separated(graph, second.heads, gained, second.given):
        return None
    return Prob(first.heads | second.heads, first.given | extra)


def _separated(graph: ADMG, heads: frozenset[str], others: frozenset[str], given: frozenset[str]) -> bool:
    """m_separated(heads, others | given), answered in O(|blanket|) when the ordered local Markov
    property settles it: a single head v is m-separated from the nodes before it given any set
    of nodes before it that holds its ordered Markov blanket (Richardson 2003). Otherwise (or
    when that does not apply) the graph search, which costs the size of the ancestral set."""
    if len(heads) == 1:
        (v,) = heads
        rank = graph.rank
        top = rank[v]
        if all(rank[u] < top for u in others) and all(rank[u] < top for u in given):
            blankets = graph.__dict__.setdefault("_ordered_blankets", {})
            if v not in blankets:
                blankets[v] = _blanket_factor(graph, v, rank).given
            if blankets[v] <= given:
                return True
    return m_separated(graph, heads, others, given)


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
