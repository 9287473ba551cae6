"""``CausalGenerator``: the interface of the ``causal-generator`` task.

A causal generator is a structural causal model over named scalar factors (``scm``: graph,
mechanisms, exogenous noise) plus an image mechanism learned from images: ``render`` draws
an image from the factors (and image noise, for scenes whose exogenous noise is itself a
picture), ``read`` recovers the factors (and that image noise) from an image. Everything
causal happens in the SCM; the networks only translate between factors and pixels, so
``generate`` (P(images | do(·), given)) and ``counterfactual`` (abduction, action,
prediction) work the same for every model of the task.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np
import torch

import zoo_core

from .scm import SCM, Values

__all__ = ["CausalGenerator", "CausalSamples"]


@dataclass
class CausalSamples:
    """Images with the factor values that made them and where each value came from.

    ``sources[name]`` is ``"do"``, ``"given"``, ``"sampled"`` or ``"abducted"``; ``noise`` holds
    the exogenous values (sampled, or abducted from the input images for a counterfactual).
    """

    images: torch.Tensor  # (N, C, H, W) in [-1, 1]
    factors: Values
    noise: Values
    sources: dict[str, str]
    image_noise: torch.Tensor | None = None
    inputs: list[str] = field(default_factory=list)  # the input files of a counterfactual
    #: for a counterfactual, per input: how far it is from the training images (see ``ood``)
    typicality: list[dict[str, Any]] | None = None

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready object per image (``file`` is filled in by whoever writes them)."""
        rows = []
        for i in range(len(self.images)):
            rows.append({
                "file": None,
                "factors": {k: round(float(v[i]), 6) for k, v in self.factors.items()},
                "source": dict(self.sources),
                "noise": {k: _plain(v[i]) for k, v in self.noise.items()},  # a category's: one Gumbel each
                **({"typicality": self.typicality[i]} if self.typicality is not None else {}),
            })
        return rows


def _plain(value: Any) -> Any:
    return [round(float(x), 6) for x in value] if np.ndim(value) else round(float(value), 6)


class CausalGenerator(zoo_core.Model):
    """An SCM over image factors with a learned image mechanism (see the module docstring)."""

    task: ClassVar[str] = "causal-generator"
    #: factors the model refuses to intervene on (e.g. a property of an image-valued noise)
    not_intervenable: ClassVar[tuple[str, ...]] = ()

    @property
    @abc.abstractmethod
    def scm(self) -> SCM:
        """The structural causal model over the factors."""

    @property
    @abc.abstractmethod
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the images the model draws and reads."""

    @property
    def image_noise_dim(self) -> int:
        """Size of the image noise ``render`` takes besides the factors (0: none)."""
        return 0

    @abc.abstractmethod
    def render(self, factors: Mapping[str, torch.Tensor], image_noise: torch.Tensor | None = None) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1] from factor values (each (N,)) and image noise (N, D)."""

    @abc.abstractmethod
    def read(self, images: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """(factor values, image noise) recovered from images (N, C, H, W) in [-1, 1]."""

    # -- what every causal generator does with those ------------------------------------------

    def _render(self, factors: Values, image_noise: torch.Tensor | None, batch: int = 256) -> torch.Tensor:
        images = []
        n = len(next(iter(factors.values())))
        for start in range(0, n, batch):
            part = {k: torch.as_tensor(v[start:start + batch], dtype=self.dtype, device=self.device)
                    for k, v in factors.items()}
            noise = None if image_noise is None else image_noise[start:start + batch].to(self.device, self.dtype)
            with torch.inference_mode():
                images.append(self.render(part, noise).float().clamp(-1, 1).cpu())
        return torch.cat(images)

    def _check_do(self, do: Mapping[str, float]) -> None:
        for name in do:
            if name in self.not_intervenable:
                raise zoo_core.InputError(f"--do: {name} is a property of the image noise here and cannot be "
                                          "intervened on")

    def generate(self, num: int, seed: int = 0, do: Mapping[str, float] | None = None,
                 given: Mapping[str, float] | None = None) -> CausalSamples:
        """``num`` images from P(images | do(do), given), all randomness from ``seed``."""
        if num <= 0:
            raise zoo_core.InputError(f"--num must be positive, got {num}")
        do, given = dict(do or {}), dict(given or {})
        self._check_do(do)
        rng = np.random.default_rng(seed)
        factors, noise = self.scm.sample(rng, num, do=do, given=given)
        image_noise = self.sample_image_noise(num, seed, factors) if self.image_noise_dim else None
        sources = {name: "do" if name in do else "given" if name in given else "sampled" for name in self.scm.factors}
        return CausalSamples(self._render(factors, image_noise), factors, noise, sources, image_noise)

    def sample_image_noise(self, num: int, seed: int, factors: Values) -> torch.Tensor:
        """Image noise for new samples (default: standard normal, from the seed)."""
        return torch.randn(num, self.image_noise_dim, generator=torch.Generator().manual_seed(seed + 1))

    def read_factors(self, images: torch.Tensor, batch: int = 256) -> tuple[Values, torch.Tensor | None]:
        """``read`` in batches, as numpy factor values (float64) and image noise on the CPU."""
        values: dict[str, list[np.ndarray]] = {name: [] for name in self.scm.factors}
        noises = []
        for start in range(0, len(images), batch):
            with torch.inference_mode():
                factors, noise = self.read(images[start:start + batch].to(self.device, self.dtype))
            for name in values:
                values[name].append(factors[name].double().cpu().numpy())
            if noise is not None:
                noises.append(noise.float().cpu())
        return ({k: np.concatenate(v) for k, v in values.items()}, torch.cat(noises) if noises else None)

    def counterfactual(self, images: torch.Tensor, do: Mapping[str, float]) -> CausalSamples:
        """What these very images would have shown under ``do``: read the factors, abduct the
        noise, intervene, recompute the descendants, render with the same image noise.

        ``typicality`` says, per image, whether it looks like the training images (``ood``):
        on an image that does not, the counterfactual is not to be trusted."""
        do = dict(do)
        if not do:
            raise zoo_core.InputError("--do: a counterfactual needs an intervention, e.g. --do 'light_angle=1.2'")
        self._check_do(do)
        factual, image_noise = self.read_factors(images)
        values, noise = self.scm.counterfactual(factual, do)
        sources = {name: "do" if name in do else "abducted" for name in self.scm.factors}
        from .ood import assess

        typicality = assess(self, images, factual, image_noise, noise)
        return CausalSamples(self._render(values, image_noise), values, noise, sources, image_noise,
                             typicality=typicality)
