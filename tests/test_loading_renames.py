"""Model.file_key_renames: files written in an older layout load strictly under the model's names."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import zoo_core
from zoo_core.errors import StateDictMismatchError
from zoo_core.loading import build_model, load_weights_into


class _Config:
    pass


class Renamed(zoo_core.Model):
    """One linear layer; files from 'version 1' called it ``old``."""

    config_class = _Config

    def __init__(self, config):
        super().__init__(config)
        self.new = nn.Linear(3, 2)

    def file_key_renames(self, file_keys):
        return {k: "new." + k.split(".", 1)[1] for k in file_keys if k.startswith("old.")}


def _load(tmp_path, tensors):
    path = tmp_path / "w.safetensors"
    save_file(tensors, str(path))
    model = build_model(Renamed, _Config(), architecture="renamed")
    return load_weights_into(model, path, device=torch.device("cpu"), dtype=torch.float32, architecture="renamed")


def test_old_names_are_renamed_and_loaded(tmp_path):
    weight, bias = torch.randn(2, 3), torch.randn(2)
    model = _load(tmp_path, {"old.weight": weight, "old.bias": bias})
    assert torch.equal(model.new.weight, weight) and torch.equal(model.new.bias, bias)


def test_current_names_still_load(tmp_path):
    weight, bias = torch.randn(2, 3), torch.randn(2)
    model = _load(tmp_path, {"new.weight": weight, "new.bias": bias})
    assert torch.equal(model.new.weight, weight)


def test_renamed_files_are_still_checked_strictly(tmp_path):
    with pytest.raises(StateDictMismatchError, match="missing keys: new.bias"):
        _load(tmp_path, {"old.weight": torch.randn(2, 3)})


def test_a_file_with_both_names_is_refused(tmp_path):
    with pytest.raises(StateDictMismatchError, match="both old and new names for new.weight"):
        _load(tmp_path, {"old.weight": torch.randn(2, 3), "new.weight": torch.randn(2, 3), "new.bias": torch.zeros(2)})
