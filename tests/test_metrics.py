"""Fréchet distance and KID on feature sets with known answers."""

from __future__ import annotations

import torch

from zoo_core.metrics import frechet_distance, kernel_distance


def test_frechet_distance_of_gaussians_matches_the_closed_form():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(20000, 4, generator=generator, dtype=torch.float64)
    b = torch.randn(20000, 4, generator=generator, dtype=torch.float64) * 2 + torch.tensor([1.0, 0, 0, 0])
    # N(0, I) vs N(mu, 4I): |mu|^2 + tr(I) + tr(4I) - 2 tr(2I) = 1 + 4 + 16 - 16 = 5
    assert abs(frechet_distance(a, b) - 5.0) < 0.15
    assert abs(frechet_distance(a, b) - frechet_distance(b, a)) < 1e-9
    assert frechet_distance(a, a) < 1e-6


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(2000, 8, generator=generator)
    b = torch.randn(2000, 8, generator=generator)
    shifted = torch.randn(2000, 8, generator=generator) + 0.5
    same, _ = kernel_distance(a, b, subsets=20, subset_size=500)
    different, spread = kernel_distance(a, shifted, subsets=20, subset_size=500)
    assert abs(same) < 0.01 and different > 0.05 and spread < different


def test_too_few_feature_vectors_are_refused_not_nan():
    import pytest

    one, many = torch.randn(1, 4), torch.randn(50, 4)
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(one, many)
    with pytest.raises(ValueError, match="at least 2"):
        kernel_distance(many, one)
