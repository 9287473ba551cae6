"""Library ergonomics of zoo_core.run: to_json() is the text `zoo run --json` prints and to_dict()
the document; images in memory (tensors, PIL images, numpy arrays) are inputs like files, and
an error never prints a tensor's contents; a result shows its images in a notebook."""

from __future__ import annotations

import io
import json
import tempfile

import numpy as np
import pytest
import torch
from PIL import Image

import zoo_core


def test_to_json_is_the_text_the_cli_prints_and_to_dict_the_document(toy, zoo, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_THREADS", "1")  # the default follows the load, which may change between the two runs
    code, out, err = zoo("run", "toy-gen", "--num", "2", "--out", str(tmp_path / "g.png"), "--json")
    assert code == 0, err
    result = zoo_core.run("toy-gen", num=2, out=tmp_path / "h.png")
    text = result.to_json()
    assert isinstance(text, str) and json.loads(text) == result.to_dict()
    cli, library = json.loads(out), result.to_dict()
    for document in (cli, library):
        document["run"].pop("seconds")
        document.pop("grid")
    assert cli == library


def test_image_inputs_may_be_tensors_pil_images_or_numpy_arrays(toy, tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the in-memory images are written
    picture = tmp_path / "a.png"
    Image.new("RGB", (8, 8), (40, 100, 200)).save(picture)
    from_file = zoo_core.run("toy-up", picture).value[0]
    tensor = torch.tensor([40, 100, 200], dtype=torch.float32).view(3, 1, 1).expand(3, 8, 8) / 127.5 - 1
    array = np.array(Image.open(picture))
    for given in (tensor, Image.open(picture), array):
        result = zoo_core.run("toy-up", given)
        assert torch.allclose(result.value[0], from_file, atol=1e-6), type(given)
    two = zoo_core.run("toy-up", torch.stack([tensor, tensor]), out_dir=tmp_path / "up")  # (N, C, H, W): N inputs
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["input-00000.png", "input-00001.png"]
    assert two.data["written"] == 2
    mixed = zoo_core.run("toy-up", picture, input=[tensor, Image.open(picture)])  # --input takes them too
    assert len(mixed.value) == 3 and all(torch.allclose(v[0], from_file, atol=1e-6) for v in mixed.value)
    assert list(scratch.iterdir()) == []  # the PNGs made of in-memory images are gone after the run


def test_errors_never_print_a_tensors_contents(toy):
    huge = torch.full((3, 4096), 0.123456)
    with pytest.raises(zoo_core.InputError) as caught:
        zoo_core.run("toy-up", huge)
    message = str(caught.value)
    assert "torch.Tensor of shape (3, 4096)" in message and "0.1234" not in message and len(message) < 300
    with pytest.raises(zoo_core.InputError) as caught:
        zoo_core.run("toy-gen", num=torch.zeros(1000))
    assert "a torch.Tensor of shape (1000,)" in str(caught.value) and "0." not in str(caught.value)
    with pytest.raises(zoo_core.InputError, match="not an image array: give uint8"):
        zoo_core.run("toy-up", np.zeros((8, 8, 3), dtype=np.float64))


def test_a_result_shows_its_images_in_a_notebook(toy):
    result = zoo_core.run("toy-gen", num=4)
    png = result._repr_png_()
    with Image.open(io.BytesIO(png)) as grid:
        assert grid.format == "PNG" and grid.size[0] > result.value.shape[-1]
    analysis = zoo_core.run("toy-parents", graph="A -> B")
    assert analysis._repr_png_() is None  # no images: the notebook shows the repr instead
