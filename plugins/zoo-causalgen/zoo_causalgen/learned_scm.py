"""The learned mechanisms (``TorchSCM``) seen through the task's numpy ``SCM``.

``zoo run`` and ``CausalGenerator`` speak ``SCM`` (numpy values per factor, ``do``/``given``,
abduct, counterfactual); this wraps each learned mechanism in a ``Mechanism`` whose function
and inverse run the network, and fixes what the generic SCM assumes that learned mechanisms
break: conditioning weighs each draw by the mechanism's exact likelihood (a location-scale
flow's Jacobian is not constant), abduction of a discrete attribute draws its Gumbels from a
seeded generator (so a counterfactual is repeatable), and ``--do`` on a discrete attribute must
name one of its categories. A discrete attribute's noise is one Gumbel per category: (N, K).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from zoo_core import InputError

from .scm import SCM, Mechanism, Values

__all__ = ["LearnedSCM", "learned_scm"]


class LearnedSCM(SCM):
    """An ``SCM`` whose mechanisms are a ``TorchSCM``'s (see the module docstring)."""

    torch_scm: Any = None
    abduction_seed: int = 0

    def check(self, assignments: Mapping[str, float], what: str) -> None:
        super().check(assignments, what)
        for name, value in assignments.items():
            spec = self.torch_scm.specs[name]
            if spec.discrete and not any(abs(value - c) < 1e-9 for c in spec.categories):
                shown = ", ".join(f"{c:g}" + (f" ({label})" if label != f"{c:g}" else "")
                                  for c, label in zip(spec.categories, spec.labels))
                raise InputError(f"{what}: {name}={value:g} is not one of its categories: {shown}")

    def solve(self, noise: Values, do: Mapping[str, float] | None = None) -> Values:
        """Values from the noise with ``do``'s attributes set (a root is T^-1(loc + scale * u) here,
        not its noise itself as in the generic SCM)."""
        n = len(next(iter(noise.values())))
        device = _device(self.torch_scm)
        with torch.inference_mode():
            interventions = {k: (torch.ones(n, dtype=torch.bool, device=device),
                                 torch.full((n,), float(v), device=device)) for k, v in (do or {}).items()}
            values = self.torch_scm.solve(_tensors(self.torch_scm, noise), interventions)
        return {k: v.double().cpu().numpy() for k, v in values.items()}

    def abduct(self, values: Values) -> Values:
        generator = torch.Generator().manual_seed(self.abduction_seed)
        with torch.inference_mode():
            noise = self.torch_scm.abduct(_tensors(self.torch_scm, values), generator)
        return {k: v.double().cpu().numpy() for k, v in noise.items()}

    def _condition(self, rng: np.random.Generator, n: int, do: dict[str, float],
                   given: dict[str, float]) -> tuple[Values, Values]:
        """Likelihood weighting with each given attribute's exact log-likelihood given its parents."""
        pool = max(4096, 256 * n)
        noise = self.sample_noise(rng, pool)
        fixed = {**do, **given}
        values = self.solve(noise, fixed)  # given values set, descendants computed from them
        log_weight = np.zeros(pool)
        with torch.inference_mode():
            tensors = _tensors(self.torch_scm, values)
            log_probs = self.torch_scm.log_prob(tensors)
        for name in given:
            log_weight += log_probs[name].double().cpu().numpy()
        log_weight -= log_weight.max()
        weight = np.exp(log_weight)
        if not np.isfinite(weight).all() or weight.sum() <= 0:
            raise InputError("--given: no draw of the model comes close; the observation is impossible here")
        chosen = rng.choice(pool, size=n, p=weight / weight.sum())
        values = {k: v[chosen] for k, v in values.items()}
        abducted = self.abduct(values)  # the noise of the chosen units, given values included
        return values, abducted


def _device(torch_scm: Any) -> torch.device:
    return next(iter(torch_scm.buffers())).device


def _tensors(torch_scm: Any, values: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    device = _device(torch_scm)
    return {k: torch.as_tensor(np.asarray(v), dtype=torch.float32, device=device) for k, v in values.items()}


def learned_scm(torch_scm: Any) -> LearnedSCM:
    """The numpy ``SCM`` view of ``torch_scm`` (its modules are used, not copied)."""
    mechanisms = []
    for name in torch_scm.order:
        spec, mechanism = torch_scm.specs[name], torch_scm.mechanisms[name]

        def function(parents: Values, noise: np.ndarray, name: str = name, mechanism: Any = mechanism) -> np.ndarray:
            with torch.inference_mode():
                codes = torch_scm.codes(_tensors(torch_scm, parents), torch_scm.specs[name].parents)
                u = torch.as_tensor(np.asarray(noise), dtype=torch.float32, device=_device(torch_scm))
                return mechanism.sample(u, codes).double().cpu().numpy()

        def draw(rng: np.random.Generator, n: int, spec: Any = spec) -> np.ndarray:
            if spec.discrete:
                return rng.gumbel(size=(n, len(spec.categories)))
            return rng.standard_normal(n)

        mechanisms.append(Mechanism(
            name=name, parents=tuple(spec.parents), function=function if spec.parents else None, noise=draw,
            support=(float(spec.low), float(spec.high)), description=f"{spec.kind}, learned"))
    scm = LearnedSCM(mechanisms)
    scm.torch_scm = torch_scm
    return scm
