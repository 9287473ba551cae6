"""Estimands: expressions over observational probabilities, built simplified.

Four node types: ``Prob`` (a conditional of the observational distribution), ``Product``,
``Sum`` (marginalisation, which binds its variables) and ``Fraction``. The constructors
``product``, ``sum_over`` and ``fraction`` only apply identities that hold for every
distribution (a sum over a variable that one factor alone carries as a head marginalises
it away; common factors cancel; ``P(A, B | C) / P(B | C) = P(A | B, C)``), so simplifying
never changes the value. Identities that need the graph (dropping a conditioning variable
that is m-separated) live in ``identify.prune``.

``evaluate`` computes an expression on a joint probability table, which is how the tests
check every estimand numerically and how estimation plugs in data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

if TYPE_CHECKING:  # numpy is imported by evaluation only: identification questions never load it
    import numpy as np

__all__ = ["Expr", "Prob", "Product", "Sum", "Fraction", "ONE", "product", "sum_over", "fraction",
           "conditional", "render", "evaluate", "prob_terms", "rebuild"]


class Expr:
    """Base of estimand nodes; ``free`` (set on construction) are the variables the value depends on."""

    free: frozenset[str]

    def text(self, key: Callable[[str], object] | None = None) -> str:
        return render(self, key, latex=False)

    def latex(self, key: Callable[[str], object] | None = None) -> str:
        return render(self, key, latex=True)


@dataclass(frozen=True)
class Prob(Expr):
    """P(heads | given) under the observational distribution."""

    heads: frozenset[str]
    given: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "free", self.heads | self.given)


@dataclass(frozen=True)
class Product(Expr):
    factors: tuple[Expr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "free", frozenset().union(*(f.free for f in self.factors)))


@dataclass(frozen=True)
class Sum(Expr):
    over: frozenset[str]
    body: Expr

    def __post_init__(self) -> None:
        object.__setattr__(self, "free", self.body.free - self.over)


@dataclass(frozen=True)
class Fraction(Expr):
    num: Expr
    den: Expr

    def __post_init__(self) -> None:
        object.__setattr__(self, "free", self.num.free | self.den.free)


ONE = Product(())


def _factors(expr: Expr) -> list[Expr]:
    return list(expr.factors) if isinstance(expr, Product) else [expr]


def product(factors: Iterable[Expr]) -> Expr:
    """The product, flattened, without factors equal to 1."""
    flat = [f for factor in factors for f in _factors(factor)]
    return flat[0] if len(flat) == 1 else Product(tuple(flat))


def sum_over(over: Iterable[str], body: Expr) -> Expr:
    """Σ_over body, simplified: heads marginalised away, sums pushed to the factors that need them."""
    over = body.free.intersection(over)
    if not over:
        return body
    over = set(over)
    if isinstance(body, Sum):
        return sum_over(over | body.over, body.body)
    if isinstance(body, Prob):
        if over <= body.heads:
            return Prob(body.heads - over, body.given) if body.heads - over else ONE
        return Sum(frozenset(over), body)
    if not isinstance(body, Product):
        return Sum(frozenset(over), body)
    factors: list[Expr | None] = list(body.factors)
    users: dict[str, set[int]] = {v: set() for v in over}
    for i, term in enumerate(body.factors):
        for v in term.free & over:
            users[v].add(i)
    queue = sorted(over)
    while queue:
        v = queue.pop()
        if v not in over or len(users[v]) != 1:
            continue
        (i,) = users[v]
        factor = factors[i]
        assert factor is not None
        if isinstance(factor, Prob) and v not in factor.heads:
            continue  # a sum over a conditioning variable is not 1
        # v lives in this factor alone: sum it there
        before = factor.free
        reduced = sum_over({v}, factor)
        over.discard(v)
        del users[v]
        if reduced == ONE:
            factors[i] = None
        else:
            factors[i] = reduced
        for gone in (before - (reduced.free if reduced != ONE else frozenset())) & over:
            users[gone].discard(i)
            queue.append(gone)
    remaining = [f for f in factors if f is not None]
    if not over:
        return product(remaining)
    inside = [f for f in remaining if f.free & over]
    outside = [f for f in remaining if not f.free & over]
    return product([*outside, Sum(frozenset(over), product(inside))])


def fraction(num: Expr, den: Expr) -> Expr:
    """num / den with common factors cancelled and P(A, B | C) / P(B | C) -> P(A | B, C)."""
    top, bottom = _factors(num), _factors(den)
    for factor in list(bottom):
        if factor in top:
            top.remove(factor)
            bottom.remove(factor)
    if not bottom:
        return product(top)
    if len(top) == 1 and len(bottom) == 1 and isinstance(top[0], Prob) and isinstance(bottom[0], Prob):
        t, b = top[0], bottom[0]
        if t.given == b.given and b.heads < t.heads:
            return Prob(t.heads - b.heads, t.given | b.heads)
    return Fraction(product(top), product(bottom))


def conditional(dist: Expr, variables: set[str], head: str, given: set[str]) -> Expr:
    """dist(head | given), for a distribution ``dist`` over ``variables`` (others are context)."""
    num = sum_over(variables - given - {head}, dist)
    return fraction(num, sum_over({head}, num))


def prob_terms(expr: Expr) -> list[Prob]:
    """Every ``Prob`` in the expression."""
    if isinstance(expr, Prob):
        return [expr]
    if isinstance(expr, Product):
        return [p for f in expr.factors for p in prob_terms(f)]
    if isinstance(expr, Sum):
        return prob_terms(expr.body)
    if isinstance(expr, Fraction):
        return prob_terms(expr.num) + prob_terms(expr.den)
    return []


def rebuild(expr: Expr, leaf: Callable[[Prob], Expr]) -> Expr:
    """The expression with each ``Prob`` replaced by ``leaf(prob)``, re-simplified bottom up
    (a part whose leaves did not change is returned as it was)."""
    if isinstance(expr, Prob):
        return leaf(expr)
    if isinstance(expr, Product):
        factors = [rebuild(f, leaf) for f in expr.factors]
        return expr if all(a is b for a, b in zip(factors, expr.factors)) else product(factors)
    if isinstance(expr, Sum):
        body = rebuild(expr.body, leaf)
        return expr if body is expr.body else sum_over(expr.over, body)
    if isinstance(expr, Fraction):
        num, den = rebuild(expr.num, leaf), rebuild(expr.den, leaf)
        return expr if num is expr.num and den is expr.den else fraction(num, den)
    raise TypeError(expr)


# -- printing ---------------------------------------------------------------------------------


def render(expr: Expr, key: Callable[[str], object] | None = None, *, latex: bool = False) -> str:
    """Text like ``sum_{Z} P(Z) P(Y | X, Z)`` or LaTeX like ``\\sum_{Z} P(Z) P(Y \\mid X, Z)``.

    A summed variable that is also free elsewhere is primed (X'), as in the front-door formula.
    ``key`` orders variable names (topologically, when a graph is known).
    """
    names = {v: v for v in expr.free}
    return _render(expr, names, set(names.values()), _Order(key or (lambda v: v)), latex)


class _Order:
    """Sorts variable names by ``key``; also ranks a product's factors for printing."""

    def __init__(self, key: Callable[[str], Any]) -> None:
        self.key = key

    def __call__(self, names: Iterable[str]) -> list[str]:
        return sorted(names, key=self.key)


def _name(v: str, names: dict[str, str], latex: bool) -> str:
    shown = names[v]
    return shown.replace("_", r"\_") if latex else shown


def _render(expr: Expr, names: dict[str, str], used: set[str], order, latex: bool) -> str:
    if isinstance(expr, Prob):
        heads = ", ".join(_name(v, names, latex) for v in order(expr.heads))
        if not expr.given:
            return f"P({heads})"
        bar = r" \mid " if latex else " | "
        return f"P({heads}{bar}{', '.join(_name(v, names, latex) for v in order(expr.given))})"
    if isinstance(expr, Sum):
        inner, taken = dict(names), set(used)
        for v in order(expr.over):
            shown = v
            while shown in taken:
                shown += "'"
            inner[v] = shown
            taken.add(shown)
        bound = ", ".join(_name(v, inner, latex) for v in order(expr.over))
        body = _render(expr.body, inner, taken, order, latex)
        return rf"\sum_{{{bound}}} {body}" if latex else f"sum_{{{bound}}} {body}"
    if isinstance(expr, Fraction):
        num = _render(expr.num, names, used, order, latex)
        den = _render(expr.den, names, used, order, latex)
        return rf"\frac{{{num}}}{{{den}}}" if latex else f"[{num}] / [{den}]"
    if isinstance(expr, Product):
        if not expr.factors:
            return "1"
        parts = sorted(expr.factors, key=lambda f: _factor_rank(f, order))
        shown = []
        for i, factor in enumerate(parts):
            text = _render(factor, names, used, order, latex)
            if isinstance(factor, (Sum, Fraction)) and i < len(parts) - 1 and not latex:
                text = f"[{text}]"
            elif isinstance(factor, Sum) and i < len(parts) - 1:
                text = rf"\left({text}\right)"
            shown.append(text)
        return " ".join(shown)
    raise TypeError(expr)


def _factor_rank(expr: Expr, order: _Order) -> tuple:
    """Probabilities first, in the order of their heads; then sums, then fractions."""
    if isinstance(expr, Prob):
        return (0, tuple(order.key(v) for v in order(expr.heads)))
    return (1 if isinstance(expr, Sum) else 2, ())


# -- evaluating -------------------------------------------------------------------------------


class Evaluator:
    """Evaluates expressions on a joint table whose axes are ``variables`` (in that order).

    Results are arrays with one axis per variable (size 1 where the value does not depend on
    it). A conditional on an empty cell is NaN; a product with a zero factor is 0 even if
    another factor is NaN (a term with zero probability contributes nothing).
    """

    def __init__(self, joint: np.ndarray, variables: Sequence[str]) -> None:
        self.joint = joint
        self.axis = {v: i for i, v in enumerate(variables)}
        self._marginals: dict[frozenset[str], np.ndarray] = {}

    def marginal(self, keep: frozenset[str]) -> np.ndarray:
        if keep not in self._marginals:
            drop = tuple(i for v, i in self.axis.items() if v not in keep)
            self._marginals[keep] = self.joint.sum(axis=drop, keepdims=True) if drop else self.joint
        return self._marginals[keep]

    def __call__(self, expr: Expr) -> np.ndarray:
        import numpy as np

        if isinstance(expr, Prob):
            num = self.marginal(expr.heads | expr.given)
            if not expr.given:
                return num
            with np.errstate(divide="ignore", invalid="ignore"):
                return num / self.marginal(expr.given)
        if isinstance(expr, Product):
            result = np.ones((1,) * len(self.axis))
            zero = np.zeros((1,) * len(self.axis), dtype=bool)
            for factor in expr.factors:
                value = self(factor)
                result = result * value
                zero = zero | (value == 0)
            return np.where(zero, 0.0, result)
        if isinstance(expr, Sum):
            return self(expr.body).sum(axis=tuple(self.axis[v] for v in expr.over), keepdims=True)
        if isinstance(expr, Fraction):
            with np.errstate(divide="ignore", invalid="ignore"):
                return self(expr.num) / self(expr.den)
        raise TypeError(expr)


def evaluate(expr: Expr, joint: np.ndarray, variables: Sequence[str]) -> np.ndarray:
    """The value of ``expr`` for every assignment of its free variables (see ``Evaluator``)."""
    return Evaluator(joint, variables)(expr)
