"""zoo_core.run: the same document as zoo run --json, option checking, the model cache; and the
image-to-image task (padding, tiling, fixed-size models, alpha, EXIF orientation, 16-bit)."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import zoo_core
from zoo_core.running import _CACHE


def _without_seconds(document):
    document["run"].pop("seconds")
    return document


def _picture(path, size=(8, 8), colour=(40, 100, 200), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)
    return path


@pytest.mark.parametrize("name, arguments, options", [
    ("toy-cgen", [], {"num": 5, "seed": 2, "label": "one"}),
    ("toy-ae", ["in/a.png"], {}),
    ("toy-enc", ["in/a.png"], {}),
    ("toy-up", ["in/a.png"], {"tile": 4, "tile_overlap": 2}),
    ("toy-parents", [], {"graph": "A -> B; B -> C"}),
], ids=["generator", "autoencoder", "encoder", "image-to-image", "causal-analyzer"])
def test_the_library_and_the_cli_give_the_same_document(toy, zoo, tmp_path, monkeypatch, name, arguments, options):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_THREADS", "1")  # the default follows the load, which may change between the two runs
    _picture(tmp_path / "in" / "a.png")
    task = zoo_core.get_entry(name).task
    outputs = {"generator": {"out": "g.png"}, "autoencoder": {"out_dir": "ae"}, "encoder": {"out": "z.safetensors"},
               "image-to-image": {"out_dir": "up"}, "causal-analyzer": {}}[task]
    argv = ["run", name, *arguments]
    for key, value in {**options, **outputs}.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    code, out, err = zoo(*argv, "--json")
    assert code == 0, err
    cli = _without_seconds(json.loads(out))
    for written in outputs.values():  # the library must not refuse to write what the CLI wrote
        path = tmp_path / written
        if path.is_dir():
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
        else:
            path.unlink()
    library = _without_seconds(zoo_core.run(name, *arguments, **options, **outputs).to_dict())
    assert library == cli


def test_options_are_checked_by_name_and_type(toy):
    with pytest.raises(zoo_core.InputError, match="toy-gen takes no option 'nmu' \\(did you mean 'num'\\?\\)"):
        zoo_core.run("toy-gen", nmu=3)
    with pytest.raises(zoo_core.InputError, match="--num 'three': expected an integer, got str"):
        zoo_core.run("toy-gen", num="three")
    with pytest.raises(zoo_core.InputError, match="--dtype 'float8': use one of float32"):
        zoo_core.run("toy-gen", dtype="float8")
    with pytest.raises(zoo_core.InputError, match="toy-parents needs --graph"):
        zoo_core.run("toy-parents")
    with pytest.raises(zoo_core.InputError, match="takes no positional argument"):
        zoo_core.run("toy-gen", "photo.png")


def test_python_values_get_the_cli_s_messages_and_seeds_are_bounded(toy):
    """Issue 21.8: label=99 said 'expected a str'; a seed past 64 bits ended in 'unexpected ValueError: Overflow'."""
    with pytest.raises(zoo_core.InputError, match=r"^--seed 1180591620717411303424: must be between 0 and 2?9223"):
        zoo_core.run("toy-gen", seed=1180591620717411303424)
    with pytest.raises(zoo_core.InputError, match=r"^--seed -1: must be between 0"):
        zoo_core.run("toy-gen", seed="-1")
    with pytest.raises(zoo_core.InputError, match=r"^--dtype 3.5: expected text, got float|--dtype 3.5: use one of"):
        zoo_core.run("toy-gen", dtype=3.5)


def test_an_int_for_a_text_option_means_what_it_says_on_the_command_line(toy, zoo):
    code, _, err = zoo("run", "toy-cgen", "--label", "99", "--num", "1")
    with pytest.raises(zoo_core.InputError) as python:
        zoo_core.run("toy-cgen", label=99, num=1)
    assert code == 1 and str(python.value) in err and "expected a str" not in err


def test_models_are_cached_per_process_boundedly(toy, monkeypatch):
    import zoo_core.api

    loads = []
    real = zoo_core.api.load
    monkeypatch.setattr(zoo_core.api, "load", lambda *a, **k: loads.append(a[0]) or real(*a, **k))
    zoo_core.clear_model_cache()
    for _ in range(3):
        zoo_core.run("toy-gen", num=2)
    assert loads == ["toy-gen"]
    zoo_core.run("toy-gen", num=2, dtype="bfloat16")  # another dtype: another model
    zoo_core.run("toy-cgen", num=2)
    assert len(_CACHE) == 2  # bounded: the least recently used one was dropped
    zoo_core.run("toy-gen", num=2)
    assert loads == ["toy-gen", "toy-gen", "toy-cgen", "toy-gen"]
    zoo_core.run("toy-gen", num=2, cache=False)
    assert loads[-1] == "toy-gen" and len(loads) == 5
    zoo_core.clear_model_cache()
    assert len(_CACHE) == 0


# -- image-to-image ----------------------------------------------------------------------------

def test_apply_takes_any_size_and_fixed_size_models_run_on_tiles(toy):
    model = zoo_core.load("toy-up", device="cpu")
    image = torch.rand(1, 3, 11, 7) * 2 - 1
    out = model.process(image)
    assert out.shape == (1, 3, 22, 14)
    tiled = model.process(image, tile=4, tile_overlap=2)
    assert tiled.shape == out.shape and (tiled - out).abs().max() < 0.05  # a local map: seams are small
    fixed = zoo_core.load("toy-tile-up", device="cpu")  # takes exactly 8x8: process() tiles and pads
    for size in [(3, 5), (8, 8), (21, 13)]:
        result = fixed.process(torch.rand(1, 3, *size) * 2 - 1)
        assert result.shape == (1, 3, size[0] * 2, size[1] * 2)
    with pytest.raises(zoo_core.InputError, match="8-pixel tiles only"):
        fixed.process(image, tile=4)


def test_zoo_run_upscales_files_and_folders_under_their_own_names(toy, zoo, tmp_path):
    photos = tmp_path / "photos"
    _picture(photos / "a.png", (5, 3))
    _picture(photos / "b.jpg", (4, 4))
    code, out, err = zoo("run", "toy-up", str(photos / "a.png"), str(photos / "b.jpg"), "--out-dir", str(tmp_path / "u"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "u").iterdir()) == ["a.png", "b.png"]
    with Image.open(tmp_path / "u" / "a.png") as image:
        assert image.size == (10, 6)
    code, _, err = zoo("run", "toy-up", str(photos / "a.png"))
    assert code == 1 and "say where to write: --out-dir" in err
    code, _, err = zoo("run", "toy-up", str(photos), "--out", str(tmp_path / "one.png"))
    assert code == 1 and "--out takes one input, got 2" in err


def test_alpha_is_upscaled_separately_or_dropped(toy, zoo, tmp_path):
    source = tmp_path / "logo.png"
    image = Image.new("RGBA", (6, 6), (200, 10, 10, 255))
    image.putpixel((0, 0), (0, 0, 0, 0))
    image.save(source)
    assert zoo("run", "toy-up", str(source), "--out-dir", str(tmp_path / "keep"))[0] == 0
    with Image.open(tmp_path / "keep" / "logo.png") as out:
        assert out.mode == "RGBA" and out.size == (12, 12)
        assert out.getpixel((0, 0))[3] < 40 and out.getpixel((11, 11))[3] > 215
    code, out, _ = zoo("run", "toy-up", str(source), "--out-dir", str(tmp_path / "drop"), "--alpha", "drop")
    assert code == 0 and "alpha channel dropped" in out
    with Image.open(tmp_path / "drop" / "logo.png") as dropped:
        assert dropped.mode == "RGB"


def test_exif_orientation_and_16_bit_greyscale_are_read_as_viewers_show_them(tmp_path):
    import numpy as np

    from zoo_core.images import read_image

    tall = Image.new("RGB", (4, 2), (255, 0, 0))
    tall.putpixel((0, 0), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view"
    tall.save(tmp_path / "rotated.jpg", exif=exif, quality=100)
    assert read_image(tmp_path / "rotated.jpg", 3).shape == (1, 3, 4, 2)  # upright: 2 wide, 4 high
    deep = Image.fromarray(np.array([[0, 65535], [32768, 16384]], dtype=np.uint16))
    deep.save(tmp_path / "deep.png")
    values = read_image(tmp_path / "deep.png", 1)[0, 0]
    assert torch.allclose(values, torch.tensor([[-1.0, 1.0], [32768 / 65535 * 2 - 1, 16384 / 65535 * 2 - 1]]),
                          atol=1e-5)


@pytest.mark.slow  # starts two Python processes under torchrun
def test_a_folder_upscaled_by_two_torchrun_processes_equals_one_process(toy, site, tmp_path):
    import os
    import subprocess
    import sys

    photos = tmp_path / "photos"
    for i in range(5):
        _picture(photos / f"p{i}.png", (6 + i, 5), (40 * i, 90, 200))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site.root), os.environ.get("PYTHONPATH", "")]))
    common = ["run", "toy-up", str(photos), "--device", "cpu"]
    one = subprocess.run([sys.executable, "-m", "zoo_core", *common, "--out-dir", str(tmp_path / "one")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m", "zoo_core",
                          *common, "--out-dir", str(tmp_path / "two")], env=env, capture_output=True, text=True,
                         timeout=180)
    assert two.returncode == 0, two.stderr
    assert "(rank 0 of 2)" in two.stdout and "(rank 1 of 2)" in two.stdout
    assert "wrote 3 images" in two.stdout and "wrote 2 images" in two.stdout  # p0, p2, p4 and p1, p3
    first = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()} and len(first) == 5
