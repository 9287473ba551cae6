"""Sample-quality metrics on features: Fréchet distance and kernel inception distance (KID).

Both compare two sets of feature vectors. Which network made the features matters: zoo's
plugins say which (e.g. a Fashion-MNIST classifier), and these are never Inception FID
unless the features really are Inception's.
"""

from __future__ import annotations

import torch

__all__ = ["frechet_distance", "kernel_distance"]


def _stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need at least 2 feature vectors (N, D), got shape {tuple(features.shape)}")
    x = features.double()
    mean = x.mean(0)
    centred = x - mean
    return mean, centred.T @ centred / (len(x) - 1)


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` and ``b`` (N, D).

    ||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2), in float64 via
    symmetric eigendecompositions, so it stays real and non-negative where sqrtm would not.
    """
    mu_a, cov_a = _stats(a)
    mu_b, cov_b = _stats(b)
    root_a = _sqrt_psd(cov_a)
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    value = (mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross
    return float(value.clamp(min=0))


def kernel_distance(a: torch.Tensor, b: torch.Tensor, *, subsets: int = 100, subset_size: int = 1000,
                    seed: int = 0) -> tuple[float, float]:
    """KID: unbiased MMD² with the kernel (x·y/d + 1)³, mean and std over random subsets."""
    generator = torch.Generator().manual_seed(seed)
    x, y = a.double(), b.double()
    m = min(subset_size, len(x), len(y))
    if m < 2:  # the unbiased estimate leaves out the diagonal: m(m-1) pairs
        raise ValueError(f"KID needs at least 2 feature vectors per set, got {len(x)} and {len(y)}")
    d = x.shape[1]
    values = []
    for _ in range(subsets):
        xs = x[torch.randperm(len(x), generator=generator)[:m]]
        ys = y[torch.randperm(len(y), generator=generator)[:m]]
        kxx = (xs @ xs.T / d + 1) ** 3
        kyy = (ys @ ys.T / d + 1) ** 3
        kxy = (xs @ ys.T / d + 1) ** 3
        off = m * (m - 1)
        values.append((kxx.sum() - kxx.diagonal().sum()) / off + (kyy.sum() - kyy.diagonal().sum()) / off
                      - 2 * kxy.mean())
    stacked = torch.stack(values)
    return float(stacked.mean()), float(stacked.std()) if len(values) > 1 else 0.0
