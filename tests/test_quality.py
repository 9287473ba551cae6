"""The held-out quality signal for any folder: the random feature space ranks real < blurred <
noised far from the floor, on pictures drawn here (no download), at any size and channel count."""

from __future__ import annotations

import pytest
import torch

import zoo_core
from zoo_core.metrics import (HeldOutQuality, RandomFeatures, add_noise, blur, feature_space, random_features,
                              split_held_out)
from zoo_core.testing.data import shape_images


@pytest.mark.parametrize("channels,size", [(3, 32), (1, 28), (4, 48),
                                           pytest.param(3, 128, marks=pytest.mark.slow)])  # 15 s
def test_the_default_metric_ranks_real_below_blurred_below_noised_far_from_the_floor(channels, size):
    torch.set_num_threads(1)
    images = shape_images(800, size, channels, seed=1)  # a user's folder: 720 to train on, 80 held out
    train, held = split_held_out(len(images), seed=0)
    quality = HeldOutQuality(random_features(), images[held], images[train], samples=300)
    fresh = shape_images(300, size, channels, seed=7)  # what a perfect generator would draw
    floor = quality.floor["kid_floor"]
    real, blurred, noised = (quality.score(x)["kid"] - floor for x in (fresh, blur(fresh), add_noise(fresh, 0.2)))
    assert real < blurred < noised, (floor, real, blurred, noised)
    # real images land near the floor (KID is unbiased); degraded ones many times further away
    assert blurred > 2 * abs(real) and noised > 10 * abs(real), (floor, real, blurred, noised)
    assert set(quality.score(fresh)) == {"kid", "fd", "kid_floor", "fd_floor"}


def test_the_random_feature_space_is_fixed_by_its_seed_and_takes_any_size():
    images = shape_images(8, 40, 3, seed=2)
    a, b, other = RandomFeatures(0), RandomFeatures(0), RandomFeatures(1)
    assert torch.equal(a(images), b(images)) and not torch.equal(a(images), other(images))
    assert a(images).shape == (8, a.features)
    assert a(shape_images(3, 100, 1)).shape == a(shape_images(3, 17, 3)).shape == (3, a.features)


def test_the_held_out_split_is_seeded_disjoint_and_never_everything():
    train, held = split_held_out(200, seed=3)
    assert len(held) == 20 and len(train) == 180 and not set(train.tolist()) & set(held.tolist())
    assert torch.equal(split_held_out(200, seed=3)[1], held) and not torch.equal(split_held_out(200, seed=4)[1], held)
    assert len(split_held_out(5)[1]) == 2  # KID needs two on each side
    with pytest.raises(ValueError, match="cannot hold out"):
        split_held_out(2)


def test_a_zoo_encoder_is_a_feature_space_by_name():
    space = feature_space("fashion-classifier", device="cpu")  # bundled: no download
    rgb = shape_images(6, 48, 3, seed=0)  # converted to grey and resized to its 32x32
    features = space(rgb)
    assert features.shape == (6, 128) and features.dtype == torch.float32
    assert space.name == "fashion-classifier"


def test_a_model_without_encode_is_refused_by_name():
    with pytest.raises(zoo_core.InputError, match="--feature-model dcgan-fashion: a DCGAN has no encode"):
        feature_space("dcgan-fashion", device="cpu")


def test_an_unknown_feature_model_is_refused_by_name():
    with pytest.raises(zoo_core.InputError, match="--feature-model no-such-model: no such model"):
        feature_space("no-such-model", device="cpu")
