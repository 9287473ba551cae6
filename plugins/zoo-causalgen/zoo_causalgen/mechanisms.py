"""Attribute mechanisms learned from data, with exact abduction (Pawlowski et al. 2020's deep SCM).

- **Continuous** attributes are conditional invertible flows: a fixed monotone map fitted to the
  training marginal (piecewise linear through its quantiles onto the standard normal's, so a
  skewed attribute needs no learning to look Gaussian), then a conditional location-scale
  transform whose location and log-scale are networks of the parents:
  ``x = T^-1(loc(pa) + exp(log_scale(pa)) * u)``, ``u ~ N(0, 1)``. Abduction inverts it exactly:
  ``u = (T(x) - loc(pa)) / exp(log_scale(pa))``. Values are clamped to the support seen in
  training (observed values are inside it, so abduction of data stays exact).
- **Binary and categorical** attributes are Gumbel-max mechanisms: ``x = argmax(logits(pa) + g)``,
  ``g`` standard Gumbel per category. Abduction samples ``g`` from its posterior given the
  observed category (the maximum from Gumbel(logsumexp), the others truncated below it; Oberst
  & Sontag 2019), so ``argmax(logits + g)`` gives back the observation, always.

``TorchSCM`` chains them in a topological order: sample, solve under per-unit interventions,
abduct, counterfactual, log-likelihood, and the code the image mechanism is conditioned on
(continuous attributes as T(x), discrete ones one-hot).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import torch
from torch import nn

__all__ = ["AttributeSpec", "ContinuousMechanism", "CategoricalMechanism", "TorchSCM", "Interventions",
           "fit_knots"]

#: per unit interventions: name -> (mask (N,) bool, values (N,)); a unit is intervened where mask holds
Interventions = Mapping[str, tuple[torch.Tensor, torch.Tensor]]
KNOTS = 33
_LOG_SCALE = (-7.0, 3.0)


@dataclass
class AttributeSpec:
    """One attribute as the model knows it (lives in config.json, so zoo info needs no torch)."""

    name: str
    kind: str  # continuous | binary | categorical
    parents: list[str] = field(default_factory=list)
    low: float = 0.0  # the support: the smallest and largest training value (discrete: category values)
    high: float = 1.0
    knots_x: list[float] = field(default_factory=list)  # continuous: quantiles of the training values
    knots_y: list[float] = field(default_factory=list)  # ... and the standard normal's at the same levels
    categories: list[float] = field(default_factory=list)  # discrete: the SCM value of each category
    labels: list[str] = field(default_factory=list)  # discrete: each category as written in the CSV

    @property
    def discrete(self) -> bool:
        return self.kind != "continuous"

    @property
    def code_size(self) -> int:
        return len(self.categories) if self.discrete else 1


def fit_knots(values: torch.Tensor | list[float], knots: int = KNOTS) -> tuple[list[float], list[float]]:
    """Quantile knots of ``values`` and the standard normal's quantiles at the same levels
    (ties merged, so the map stays strictly increasing)."""
    x = torch.as_tensor(values, dtype=torch.float64)
    levels = torch.linspace(0.5 / knots, 1 - 0.5 / knots, knots, dtype=torch.float64)
    qx = torch.quantile(x, levels)
    qy = math.sqrt(2) * torch.erfinv(2 * levels - 1)
    keep_x, keep_y = [float(qx[0])], [float(qy[0])]
    for a, b in zip(qx[1:].tolist(), qy[1:].tolist()):
        if a > keep_x[-1] + 1e-9 * max(1.0, abs(a)):
            keep_x.append(a)
            keep_y.append(b)
    if len(keep_x) < 2:  # (nearly) all one value: a plain standardisation
        mean, std = float(x.mean()), float(x.std()) or 1.0
        keep_x, keep_y = [mean - std, mean + std], [-1.0, 1.0]
    return keep_x, keep_y


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    last = nn.Linear(hidden, outputs)
    nn.init.zeros_(last.weight)  # start as the marginal: loc 0, scale 1 / uniform logits
    nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Linear(inputs, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), last)


def _interp(x: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Piecewise-linear ``x -> y`` through the knots, extended linearly; (y, slope dy/dx)."""
    xs, ys = xs.to(x.dtype), ys.to(x.dtype)
    index = torch.searchsorted(xs.contiguous(), x.contiguous()).clamp(1, len(xs) - 1)
    x0, x1, y0, y1 = xs[index - 1], xs[index], ys[index - 1], ys[index]
    slope = (y1 - y0) / (x1 - x0)
    return y0 + (x - x0) * slope, slope


class ContinuousMechanism(nn.Module):
    """``x = T^-1(loc(pa) + exp(log_scale(pa)) * u)``; see the module docstring."""

    knots_x: torch.Tensor
    knots_y: torch.Tensor

    def __init__(self, spec: AttributeSpec, parent_size: int, hidden: int) -> None:
        super().__init__()
        self.spec = spec
        self.register_buffer("knots_x", torch.tensor(spec.knots_x or [0.0, 1.0], dtype=torch.float32))
        self.register_buffer("knots_y", torch.tensor(spec.knots_y or [-1.0, 1.0], dtype=torch.float32))
        if parent_size:
            self.net = _mlp(parent_size, hidden, 2)
        else:
            self.loc_scale = nn.Parameter(torch.zeros(2))

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """T(x): the value on the standard normal's scale (the code parents and the image see)."""
        return _interp(x.float(), self.knots_x, self.knots_y)[0]

    def denormalise(self, y: torch.Tensor) -> torch.Tensor:
        return _interp(y.float(), self.knots_y, self.knots_x)[0]

    def _params(self, parents: torch.Tensor | None, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(parents) if parents is not None else self.loc_scale.expand(n, 2)
        return out[:, 0], out[:, 1].clamp(*_LOG_SCALE)

    def sample(self, noise: torch.Tensor, parents: torch.Tensor | None) -> torch.Tensor:
        loc, log_scale = self._params(parents, len(noise))
        x = self.denormalise(loc + log_scale.exp() * noise.float())
        return x.clamp(self.spec.low, self.spec.high)

    def abduct(self, x: torch.Tensor, parents: torch.Tensor | None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        loc, log_scale = self._params(parents, len(x))
        return (self.normalise(x) - loc) / log_scale.exp()

    def log_prob(self, x: torch.Tensor, parents: torch.Tensor | None) -> torch.Tensor:
        loc, log_scale = self._params(parents, len(x))
        y, slope = _interp(x.float(), self.knots_x, self.knots_y)
        u = (y - loc) / log_scale.exp()
        return -0.5 * u ** 2 - 0.5 * math.log(2 * math.pi) - log_scale + slope.log()

    def draw_noise(self, n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
        return torch.randn(n, generator=generator).to(device)

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return self.normalise(x)[:, None]


class CategoricalMechanism(nn.Module):
    """``x = categories[argmax(logits(pa) + g)]`` with Gumbel noise ``g``; see the module docstring."""

    values: torch.Tensor

    def __init__(self, spec: AttributeSpec, parent_size: int, hidden: int) -> None:
        super().__init__()
        self.spec = spec
        k = len(spec.categories)
        self.register_buffer("values", torch.tensor(spec.categories or [0.0, 1.0], dtype=torch.float32))
        if parent_size:
            self.net = _mlp(parent_size, hidden, k)
        else:
            self.logits = nn.Parameter(torch.zeros(k))

    def _logits(self, parents: torch.Tensor | None, n: int) -> torch.Tensor:
        return self.net(parents) if parents is not None else self.logits.expand(n, -1)

    def index(self, x: torch.Tensor) -> torch.Tensor:
        """The category index of each value (the nearest category's)."""
        return (x.float()[:, None] - self.values[None, :]).abs().argmin(dim=1)

    def sample(self, noise: torch.Tensor, parents: torch.Tensor | None) -> torch.Tensor:
        logits = self._logits(parents, len(noise))
        return self.values[(logits + noise.to(logits)).argmax(dim=1)]

    def abduct(self, x: torch.Tensor, parents: torch.Tensor | None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Gumbels from their posterior given the observed categories (top-down sampling)."""
        logits = self._logits(parents, len(x)).float()
        chosen = self.index(x)
        gumbels = -torch.log(-torch.log(torch.rand(logits.shape, generator=generator).clamp(1e-12, 1 - 1e-12)))
        gumbels = gumbels.to(logits)
        top = torch.logsumexp(logits, dim=1) + gumbels[torch.arange(len(x)), chosen]  # the max's value
        others = -torch.logaddexp(-top[:, None], -(logits + gumbels))  # Gumbel(logits) truncated below top
        perturbed = torch.where(torch.nn.functional.one_hot(chosen, logits.shape[1]).bool(), top[:, None], others)
        # a tie with the maximum (possible in float rounding) would let argmax pick another category
        perturbed = torch.where(torch.nn.functional.one_hot(chosen, logits.shape[1]).bool(), perturbed,
                                torch.minimum(perturbed, top[:, None] - 1e-4 * (1 + top.abs()[:, None])))
        return perturbed - logits

    def log_prob(self, x: torch.Tensor, parents: torch.Tensor | None) -> torch.Tensor:
        logits = self._logits(parents, len(x))
        return torch.log_softmax(logits.float(), dim=1).gather(1, self.index(x)[:, None])[:, 0]

    def probabilities(self, parents: torch.Tensor | None, n: int) -> torch.Tensor:
        return torch.softmax(self._logits(parents, n).float(), dim=1)

    def draw_noise(self, n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
        u = torch.rand(n, len(self.spec.categories), generator=generator).clamp(1e-12, 1 - 1e-12)
        return (-torch.log(-torch.log(u))).to(device)

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot(self.index(x), len(self.spec.categories)).float()


class TorchSCM(nn.Module):
    """The attribute mechanisms in a topological order (see the module docstring)."""

    def __init__(self, specs: list[AttributeSpec], image_parents: list[str], hidden: int = 64) -> None:
        super().__init__()
        self.specs = {s.name: s for s in specs}
        self.order = [s.name for s in specs]
        self.image_parents = list(image_parents)
        self.mechanisms = nn.ModuleDict()
        for spec in specs:
            size = sum(self.specs[p].code_size for p in spec.parents)
            kind = CategoricalMechanism if spec.discrete else ContinuousMechanism
            self.mechanisms[spec.name] = kind(spec, size, hidden)

    def code(self, name: str, x: torch.Tensor) -> torch.Tensor:
        return self.mechanisms[name].code(x)  # type: ignore[operator]

    def codes(self, values: Mapping[str, torch.Tensor], names: list[str]) -> torch.Tensor | None:
        if not names:
            return None
        return torch.cat([self.code(n, values[n]) for n in names], dim=1)

    @property
    def image_code_size(self) -> int:
        return sum(self.specs[n].code_size for n in self.image_parents)

    def image_code(self, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The image mechanism's conditioning: the image parents' codes, side by side."""
        code = self.codes(values, self.image_parents)
        if code is None:
            n = len(next(iter(values.values())))
            return torch.zeros(n, 0, device=next(iter(values.values())).device)
        return code

    def parent_codes(self, name: str, values: Mapping[str, torch.Tensor]) -> torch.Tensor | None:
        return self.codes(values, self.specs[name].parents)

    def sample_noise(self, n: int, generator: torch.Generator | None = None,
                     device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        return {name: self.mechanisms[name].draw_noise(n, generator, torch.device(device))  # type: ignore[operator]
                for name in self.order}

    def solve(self, noise: Mapping[str, torch.Tensor], do: Interventions | None = None) -> dict[str, torch.Tensor]:
        """Values from the noise, each intervened unit's value replaced (its mechanism cut)."""
        values: dict[str, torch.Tensor] = {}
        for name in self.order:
            made = self.mechanisms[name].sample(noise[name], self.parent_codes(name, values))  # type: ignore[operator]
            if do and name in do:
                mask, value = do[name]
                made = torch.where(mask, value.to(made), made)
            values[name] = made
        return values

    def abduct(self, values: Mapping[str, torch.Tensor], generator: torch.Generator | None = None
               ) -> dict[str, torch.Tensor]:
        """The noise that gives back ``values`` (exact for continuous; a posterior draw for discrete)."""
        return {name: self.mechanisms[name].abduct(values[name], self.parent_codes(name, values),  # type: ignore[operator]
                                                   generator) for name in self.order}

    def counterfactual(self, values: Mapping[str, torch.Tensor], do: Interventions,
                       generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Abduct, act, predict."""
        return self.solve(self.abduct(values, generator), do)

    def log_prob(self, values: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each attribute's log-likelihood given its parents, per unit."""
        return {name: self.mechanisms[name].log_prob(values[name], self.parent_codes(name, values))  # type: ignore[operator]
                for name in self.order}
