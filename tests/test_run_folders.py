"""A folder zoo train wrote is a model: zoo run / zoo info / zoo_core.run take its path."""

import json

import pytest
import torch

import zoo_core
from zoo_core.training import write_model_repo


@pytest.fixture
def run_folder(toy, tmp_path):
    from zoo_toy.models import ToyGenerator

    torch.manual_seed(0)
    model = ToyGenerator.from_config({})
    folder = tmp_path / "runs" / "mine"
    write_model_repo(folder, model.state_dict(), model.config_dict(), "# toy-mlp: my run\n",
                     architecture=("toy-mlp", "generator"))
    (folder / "training.json").write_text(json.dumps({"best": {"val_loss": 0.25}, "best_epoch": 3}))
    return folder


def test_zoo_run_and_info_take_a_run_folder(run_folder, zoo, tmp_path):
    from zoo_core.integrity import sha256_file

    code, out, err = zoo("info", str(run_folder))
    assert code == 0, err
    assert sha256_file(run_folder / "model.safetensors") in out  # the pin the run is used under
    assert "toy-mlp: my run" in out and "val_loss = 0.25" in out
    code, out, err = zoo("run", str(run_folder), "--num", "2", "--out", str(tmp_path / "grid.png"))
    assert code == 0, err
    assert (tmp_path / "grid.png").is_file()
    result = zoo_core.run(str(run_folder), num=3, seed=1)
    assert tuple(result.value.shape)[0] == 3


def test_a_changed_weights_file_is_caught_like_a_registry_file(run_folder):
    entry = zoo_core.get_entry(str(run_folder))
    assert entry.weights is not None and entry.architecture == "toy-mlp"
    with (run_folder / "model.safetensors").open("r+b") as handle:  # a byte flipped after the entry was made
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 1]))
    from zoo_core.weights import resolve_weights

    with pytest.raises(zoo_core.IntegrityError):  # between the lookup and the load
        resolve_weights(entry)
    assert zoo_core.get_entry(str(run_folder)).weights.sha256 != entry.weights.sha256  # a new lookup pins anew


def test_folders_that_are_not_runs_are_one_line_errors(toy, zoo, tmp_path):
    code, _, err = zoo("run", str(tmp_path / "nothing-here"), "--num", "1")
    assert code != 0 and "no such folder" in err and "Traceback" not in err
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "model.safetensors").write_bytes(b"")
    (tmp_path / "half" / "config.json").write_text("{}")
    code, _, err = zoo("info", str(tmp_path / "half"))
    assert code != 0 and "no zoo.json" in err and len(err.strip().splitlines()) == 1


def test_registered_names_still_win_and_unknown_names_still_suggest(toy, zoo):
    code, _, err = zoo("info", "toy-gn")
    assert code != 0 and "did you mean" in err
