"""Tiled maps: exact for local maps, every pixel covered, bad tile sizes refused."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from zoo_core.errors import InputError
from zoo_core.tiling import tile_starts, tiled_map


@pytest.mark.parametrize("size,tile,overlap", [(100, 32, 8), (64, 32, 0), (33, 32, 8), (32, 32, 8), (10, 32, 8)])
def test_tiles_cover_every_pixel_and_overlap_enough(size, tile, overlap):
    starts = tile_starts(size, tile, overlap)
    covered = torch.zeros(size, dtype=torch.bool)
    for start in starts:
        covered[start:start + tile] = True
    assert covered.all()
    assert starts[0] == 0 and starts[-1] + min(tile, size) == size
    for a, b in zip(starts, starts[1:]):
        assert a + tile - b >= overlap


def test_a_pixelwise_upsampling_map_is_exact_when_tiled():
    weight = torch.randn(5, 3, 1, 1)

    def decode(z):  # 1x1 conv then nearest 8x: every output pixel depends on one latent pixel
        return F.interpolate(F.conv2d(z, weight), scale_factor=8, mode="nearest")

    latents = torch.randn(2, 3, 13, 9)
    tiled = tiled_map(decode, latents, tile=4, overlap=2, scale=8, multiple=1)
    assert torch.allclose(tiled, decode(latents), atol=1e-6)


def test_a_pixelwise_downsampling_map_is_exact_when_tiled():
    def encode(x):
        return F.avg_pool2d(x, 8)

    images = torch.randn(1, 3, 72, 56)
    tiled = tiled_map(encode, images, tile=32, overlap=16, scale=1 / 8, multiple=8)
    assert torch.allclose(tiled, encode(images), atol=1e-6)


def test_bad_tiles_are_input_errors():
    images = torch.zeros(1, 3, 64, 64)
    with pytest.raises(InputError, match="--tile 12"):
        tiled_map(lambda x: x, images, tile=12, overlap=0, scale=1, multiple=8)
    with pytest.raises(InputError, match="--tile-overlap 32"):
        tiled_map(lambda x: x, images, tile=32, overlap=32, scale=1, multiple=8)
