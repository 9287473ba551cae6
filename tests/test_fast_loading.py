"""Building on the meta device skips the weight fills (nothing to fill) and only those."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from zoo_core import loading


@dataclass
class _Config:
    width: int = 4


class _Fills(loading.Model):  # type: ignore[misc]
    """A model whose constructor also fills a real CPU tensor (as a plugin's init code might)."""

    config_class = _Config

    def __init__(self, config):
        super().__init__(config)
        self.layer = nn.Linear(4, 4)
        self.real = torch.empty(3, device="cpu")
        nn.init.constant_(self.real, 7.0)


def test_meta_build_skips_meta_fills_but_not_real_ones():
    before = {name: getattr(nn.init, name) for name in loading._INIT_FUNCTIONS if hasattr(nn.init, name)}
    model = loading.build_model(_Fills, {}, architecture="fills")
    assert model.layer.weight.is_meta
    assert torch.equal(model.real, torch.full((3,), 7.0))  # a real tensor is still filled
    assert {name: getattr(nn.init, name) for name in before} == before  # torch.nn.init is as it was
    with torch.device("cpu"):
        a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    assert not torch.equal(a.weight, b.weight) and a.weight.abs().max() > 0  # ordinary init unaffected
