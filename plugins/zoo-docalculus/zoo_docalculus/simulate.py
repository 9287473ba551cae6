"""Random causal diagrams and discrete models over them, with exact distributions.

Used to check estimands numerically (the estimand evaluated on the exact observational
distribution must equal the exact interventional one), to simulate data for estimation,
and by the benchmarks. Each bidirected edge becomes a latent binary parent of its two ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .graph import ADMG

__all__ = ["random_admg", "DiscreteModel"]


def random_admg(n: int, *, degree: float = 3.0, bidirected: float = 1.0, seed: int = 0,
                prefix: str = "V") -> ADMG:
    """A random ADMG on ``n`` nodes named V0..V{n-1} (already in a topological order).

    Each ordered pair i < j gets a directed edge i -> j with probability degree / (n - 1),
    so a node has ``degree`` directed neighbours on average; each pair gets a bidirected
    edge with probability bidirected / (n - 1) (``bidirected`` per node on average).
    """
    rng = np.random.default_rng(seed)
    names = [f"{prefix}{i}" for i in range(n)]
    p_dir = min(1.0, degree / max(n - 1, 1))
    p_bi = min(1.0, bidirected / max(n - 1, 1))
    i, j = np.triu_indices(n, 1)
    directed = rng.random(len(i)) < p_dir
    bi = rng.random(len(i)) < p_bi
    return ADMG(names, [(names[a], names[b]) for a, b in zip(i[directed], j[directed])],
                [(names[a], names[b]) for a, b in zip(i[bi], j[bi])])


@dataclass
class DiscreteModel:
    """A discrete model on an ADMG: random conditional tables, one latent per bidirected edge.

    ``levels`` gives each observed variable's number of values (2 by default); latents are
    binary. Conditional tables are drawn from a Dirichlet, so every probability is positive.
    """

    graph: ADMG
    tables: dict[str, np.ndarray]  # variable -> P(variable | parents, latent parents), variable last
    parents: dict[str, list[str]]  # observed and latent parents, in table axis order
    levels: dict[str, int]
    latents: list[str]

    @classmethod
    def random(cls, graph: ADMG, *, seed: int = 0, levels: Mapping[str, int] | None = None,
               concentration: float = 1.0) -> DiscreteModel:
        rng = np.random.default_rng(seed)
        latents = [f"U_{a}_{b}" for a, b in sorted(graph.bidirected)]
        sizes = {v: (levels or {}).get(v, 2) for v in graph.nodes} | {u: 2 for u in latents}
        parents: dict[str, list[str]] = {}
        for u in latents:
            parents[u] = []
        for v in graph.topological_order:
            confounders = [f"U_{a}_{b}" for a, b in sorted(graph.bidirected) if v in (a, b)]
            parents[v] = graph.sort(graph.parents[v]) + confounders
        tables = {}
        for v, ps in parents.items():
            shape = [sizes[p] for p in ps]
            tables[v] = rng.dirichlet(np.full(sizes[v], concentration), size=shape or None).reshape(*shape, sizes[v])
        return cls(graph, tables, parents, sizes, latents)

    @property
    def variables(self) -> list[str]:
        """Observed variables, in the axis order of the tables this model returns."""
        return list(self.graph.nodes)

    def _joint(self, intervention: Mapping[str, int | None] | None = None) -> np.ndarray:
        """Joint over observed variables (axes in ``variables`` order); do(X) fixes X's axis
        to a point mass at its value when ``intervention`` gives one, or keeps X's axis as
        the do-value when it maps X to None."""
        every = self.latents + self.variables
        axis = {v: i for i, v in enumerate(every)}
        joint = np.ones((1,) * len(every))
        intervention = dict(intervention or {})
        for v in every:
            if v in intervention:
                # do(v): v's own table is replaced by 1; v's axis then indexes the do-value
                shape = [1] * len(every)
                shape[axis[v]] = self.levels[v]
                joint = joint * np.ones(shape)
                continue
            table = self.tables[v]
            order = self.parents[v] + [v]
            shape = [1] * len(every)
            for name in order:
                shape[axis[name]] = self.levels[name]
            # move the table's axes into the global order
            positions = sorted(range(len(order)), key=lambda k: axis[order[k]])
            joint = joint * np.transpose(table, positions).reshape(shape)
        return joint.sum(axis=tuple(range(len(self.latents)))) if self.latents else joint

    def observational(self) -> np.ndarray:
        """P(V), one axis per observed variable."""
        return self._joint()

    def interventional(self, treatments: list[str]) -> np.ndarray:
        """P(V \\ X | do(X = x)) for every x at once: the treatments' axes index the do-values."""
        return self._joint({x: None for x in treatments})

    def sample(self, n: int, *, seed: int = 0) -> dict[str, np.ndarray]:
        """``n`` rows drawn from the model: a column of integer codes per observed variable."""
        rng = np.random.default_rng(seed)
        values: dict[str, np.ndarray] = {}
        for v in self.latents + list(self.graph.topological_order):
            table = self.tables[v]
            index = tuple(values[p] for p in self.parents[v])
            probs = table[index] if index else np.broadcast_to(table, (n, self.levels[v]))
            cumulative = probs.cumsum(axis=-1)
            draws = rng.random(n)[:, None]
            values[v] = np.minimum((draws > cumulative).sum(axis=-1), self.levels[v] - 1)
        return {v: values[v] for v in self.variables}

    def effect(self, outcomes: list[str], treatments: list[str], conditions: Sequence[str] = ()) -> np.ndarray:
        """The exact P(outcomes | do(treatments), conditions): an array with one axis per observed
        variable (size 1 for the variables not in the query), NaN where a condition has probability 0."""
        table = self.interventional(list(treatments)) if treatments else self.observational()
        axes = {v: i for i, v in enumerate(self.variables)}
        keep = set(outcomes) | set(treatments) | set(conditions)
        num = table.sum(axis=tuple(i for v, i in axes.items() if v not in keep), keepdims=True)
        given = set(treatments) | set(conditions)
        den = table.sum(axis=tuple(i for v, i in axes.items() if v not in given), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return num / den
