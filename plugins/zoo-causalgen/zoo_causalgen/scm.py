"""Structural causal models over named scalar factors: sample, do, condition, abduct, counterfactual.

An SCM is a list of mechanisms in a topological order. Each factor X has parents and an
exogenous noise U_X; its value is ``function(parent values, U_X)``. Roots are their own noise
(``U = X``, drawn from the prior). Everything is vectorised over samples (numpy arrays) and
deterministic given a ``numpy.random.Generator``.

- ``do``: the intervened factors take the given values; the others are recomputed from their
  parents with the same noise (so the same noise gives the counterfactual).
- ``condition``: P(· | given) by likelihood weighting over the prior (or over the intervened
  model, when combined with ``do``): a given factor's likelihood is its noise density at the
  noise its value implies, which needs an ``invert`` and assumes the noise enters additively
  (a constant Jacobian), as in every scene here. A given root is simply set.
- ``abduct``: the noise that explains observed values (``invert`` of each mechanism).
- ``counterfactual``: abduct, act, predict (Pearl's three steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from zoo_core import InputError

__all__ = ["Mechanism", "SCM", "Values", "parse_assignments"]

Values = dict[str, np.ndarray]


@dataclass(frozen=True)
class Mechanism:
    """How one factor is made.

    Args:
        name: the factor's name (a Python identifier).
        parents: the factors it depends on (empty for a root).
        function: ``(parent values, noise) -> values``; ignored for a root (its value is its noise).
        noise: ``(rng, n) -> noise`` draws U (for a root: the prior).
        invert: ``(parent values, values) -> noise``, the abduction of U; None when U cannot be
            recovered (then the factor cannot be conditioned on or abducted).
        noise_logpdf: log density of U (up to a constant), for conditioning on the factor.
        support: (low, high) the values ``do`` and ``given`` accept (a root's prior support).
        unit: shown in help texts, e.g. "rad".
        description: one line for ``zoo info``.
    """

    name: str
    parents: tuple[str, ...] = ()
    function: Callable[[Values, np.ndarray], np.ndarray] | None = None
    noise: Callable[[np.random.Generator, int], np.ndarray] | None = None
    invert: Callable[[Values, np.ndarray], np.ndarray] | None = None
    noise_logpdf: Callable[[np.ndarray], np.ndarray] | None = None
    support: tuple[float, float] = (-np.inf, np.inf)
    unit: str = ""
    description: str = ""

    @property
    def is_root(self) -> bool:
        return not self.parents


@dataclass
class SCM:
    """A structural causal model; ``mechanisms`` in a topological order (checked)."""

    mechanisms: Sequence[Mechanism]
    by_name: dict[str, Mechanism] = field(init=False)

    def __post_init__(self) -> None:
        self.mechanisms = tuple(self.mechanisms)
        self.by_name = {}
        for mechanism in self.mechanisms:
            for parent in mechanism.parents:
                if parent not in self.by_name:
                    raise ValueError(f"{mechanism.name}: parent {parent!r} must come before it")
            if mechanism.name in self.by_name:
                raise ValueError(f"factor {mechanism.name!r} defined twice")
            if mechanism.noise is None:
                raise ValueError(f"{mechanism.name}: no noise distribution")
            if not mechanism.is_root and mechanism.function is None:
                raise ValueError(f"{mechanism.name}: a factor with parents needs a function")
            self.by_name[mechanism.name] = mechanism

    # -- structure --------------------------------------------------------------------------

    @property
    def factors(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.mechanisms)

    def parents(self, name: str) -> tuple[str, ...]:
        return self.by_name[name].parents

    def descendants(self, names: Sequence[str]) -> set[str]:
        """``names`` and every factor downstream of them."""
        found = set(names)
        for mechanism in self.mechanisms:
            if found & set(mechanism.parents):
                found.add(mechanism.name)
        return found

    def graph(self) -> str:
        """The graph in the do-calculus plugin's syntax: 'a -> c; b -> c'."""
        edges = [f"{p} -> {m.name}" for m in self.mechanisms for p in m.parents]
        lonely = [m.name for m in self.mechanisms if m.is_root and not any(m.name in o.parents for o in self.mechanisms)]
        return "; ".join(edges + lonely)

    def check(self, assignments: Mapping[str, float], what: str) -> None:
        """One-line errors for unknown factors and values outside a factor's support."""
        for name, value in assignments.items():
            if name not in self.by_name:
                raise InputError(f"{what}: {name!r} is not a factor of this model (factors: {', '.join(self.factors)})")
            low, high = self.by_name[name].support
            if not (low <= value <= high) or not np.isfinite(value):
                unit = f" {self.by_name[name].unit}" if self.by_name[name].unit else ""
                raise InputError(f"{what}: {name}={value:g} is outside its support [{low:g}, {high:g}]{unit}")

    # -- generating -------------------------------------------------------------------------

    def sample_noise(self, rng: np.random.Generator, n: int) -> Values:
        """U for every factor, drawn in the mechanisms' order (so a seed fixes every one)."""
        return {m.name: np.asarray(m.noise(rng, n), dtype=np.float64) for m in self.mechanisms}  # type: ignore[misc]

    def solve(self, noise: Values, do: Mapping[str, float] | None = None) -> Values:
        """Factor values from the noise, with ``do``'s factors set (their mechanisms cut)."""
        do = dict(do or {})
        n = len(next(iter(noise.values())))
        values: Values = {}
        for m in self.mechanisms:
            if m.name in do:
                values[m.name] = np.full(n, float(do[m.name]))
            elif m.is_root:
                values[m.name] = noise[m.name]
            else:
                parents = {p: values[p] for p in m.parents}
                values[m.name] = np.asarray(m.function(parents, noise[m.name]), dtype=np.float64)  # type: ignore[misc]
        return values

    def sample(self, rng: np.random.Generator, n: int, do: Mapping[str, float] | None = None,
               given: Mapping[str, float] | None = None) -> tuple[Values, Values]:
        """(factors, noise) of ``n`` draws from P(factors | do(do), given)."""
        do, given = dict(do or {}), dict(given or {})
        self.check(do, "--do")
        self.check(given, "--given")
        both = sorted(set(do) & set(given))
        if both:
            raise InputError(f"--do and --given both set {both[0]}; a factor is either intervened on or observed")
        if not given:
            noise = self.sample_noise(rng, n)
            return self.solve(noise, do), noise
        return self._condition(rng, n, do, given)

    def _condition(self, rng: np.random.Generator, n: int, do: dict[str, float],
                   given: dict[str, float]) -> tuple[Values, Values]:
        """Likelihood weighting: draw many from the (intervened) model with given roots set,
        weight by the given non-roots' noise densities, resample ``n``."""
        for name in given:
            m = self.by_name[name]
            if not m.is_root and (m.invert is None or m.noise_logpdf is None):
                raise InputError(f"--given: {name} cannot be conditioned on in this model (its noise is not recoverable)")
        pool = max(4096, 256 * n)
        noise = self.sample_noise(rng, pool)
        fixed_roots = {k: v for k, v in given.items() if self.by_name[k].is_root}
        for name, value in fixed_roots.items():
            noise[name] = np.full(pool, float(value))
        values = self.solve(noise, {**do, **fixed_roots})
        log_weight = np.zeros(pool)
        for name, value in given.items():
            m = self.by_name[name]
            if m.is_root:
                continue
            parents = {p: values[p] for p in m.parents}
            implied = m.invert(parents, np.full(pool, float(value)))  # type: ignore[misc]
            log_weight += m.noise_logpdf(implied)  # type: ignore[misc]
            noise[name] = implied
        log_weight -= log_weight.max()
        weight = np.exp(log_weight)
        if not np.isfinite(weight).all() or weight.sum() <= 0:
            raise InputError(f"--given {_show(given)}: no draw of the model comes close; the observation is impossible here")
        chosen = rng.choice(pool, size=n, p=weight / weight.sum())
        noise = {k: v[chosen] for k, v in noise.items()}
        values = {k: v[chosen] for k, v in values.items()}
        for name, value in given.items():
            values[name] = np.full(n, float(value))
        return values, noise

    # -- explaining -------------------------------------------------------------------------

    def abduct(self, values: Values) -> Values:
        """The noise that makes the model produce ``values`` (roots: the values themselves)."""
        noise: Values = {}
        for m in self.mechanisms:
            if m.is_root:
                noise[m.name] = np.asarray(values[m.name], dtype=np.float64)
            elif m.invert is None:
                raise InputError(f"{m.name}: its noise cannot be recovered, so no counterfactual")
            else:
                noise[m.name] = np.asarray(m.invert({p: values[p] for p in m.parents}, values[m.name]), dtype=np.float64)
        return noise

    def counterfactual(self, values: Values, do: Mapping[str, float]) -> tuple[Values, Values]:
        """(counterfactual values, abducted noise) of the units ``values`` under ``do``."""
        self.check(do, "--do")
        noise = self.abduct(values)
        return self.solve(noise, do), noise


def _show(assignments: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in assignments.items())


def parse_assignments(text: str | Sequence[str] | None, what: str) -> dict[str, float]:
    """'light_angle=1.2, shadow_length=8' -> {'light_angle': 1.2, 'shadow_length': 8.0}.

    Several texts (an option given more than once: ``--do a=1 --do b=2``) are read as one list;
    a factor set twice, in one text or across them, is an error.
    """
    if text is not None and not isinstance(text, str):
        text = ", ".join(part for part in text if part.strip())
    if text is None or not text.strip():
        return {}
    found: dict[str, float] = {}
    for part in text.split(","):
        name, equals, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name.isidentifier() or not value:
            raise InputError(f"{what}: cannot read {part.strip()!r}; write factor=value pairs separated by commas, "
                             "e.g. 'light_angle=1.2, shadow_length=8'")
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"{what}: {name}={value!r} is not a number") from None
        if name in found:
            raise InputError(f"{what}: {name} is set twice")
        found[name] = number
    return found
