"""A folder run with a file that cannot be read: the file is named in one line and skipped, the
others are written, and the run exits non-zero saying how many failed. Conversions between
colour and grey are said once per run, not once per file. (Resizing to a model's one input
size is tested with the Fashion-MNIST VAE in plugins/zoo-vae/tests/test_vae_inputs.py.)"""

from __future__ import annotations

import json

import pytest
from PIL import Image

import zoo_core


def _folder(tmp_path, *, corrupt: str = "broken.png", count: int = 3, mode: str = "RGB"):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(count):
        Image.new(mode, (8, 8), 40 * i if mode == "L" else (40 * i, 100, 200)).save(folder / f"img{i}.png")
    if corrupt:
        good = (folder / "img0.png").read_bytes()
        (folder / corrupt).write_bytes(good[: len(good) // 2])  # a truncated download
    return folder


@pytest.mark.parametrize("model,extra", [
    ("toy-up", []),  # image-to-image (an upscaler)
    ("toy-ae", []),  # autoencoder
])
def test_a_corrupt_file_is_named_skipped_and_the_run_exits_non_zero(toy, zoo, tmp_path, model, extra):
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    code, stdout, err = zoo("run", model, str(folder), "--out-dir", str(out), *extra)
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["img0.png", "img1.png", "img2.png"]
    skipped = [line for line in err.splitlines() if "broken.png" in line and line.startswith("zoo: skipped:")]
    assert len(skipped) == 1 and "not a readable image" in skipped[0]
    assert err.splitlines()[-1] == (f"zoo: error: 1 of 4 inputs could not be read ({folder / 'broken.png'}); "
                                    "the other 3 were done")
    assert "wrote 3 images" in stdout
    assert "Traceback" not in err


def test_the_json_document_lists_the_failed_input_and_is_still_printed(toy, zoo, tmp_path):
    folder = _folder(tmp_path, corrupt="notes.png")
    (folder / "notes.png").write_text("not an image at all")
    code, stdout, err = zoo("run", "toy-up", str(folder), "--out-dir", str(tmp_path / "out"), "--json")
    document = json.loads(stdout)
    assert code == 1 and document["written"] == 3
    assert list(document["failed"]) == [str(folder / "notes.png")]


def test_the_encoder_skips_the_corrupt_file_and_encodes_the_others(toy, zoo, tmp_path):
    from safetensors import safe_open

    folder = _folder(tmp_path)
    target = tmp_path / "latents.safetensors"
    code, _, err = zoo("run", "toy-enc", str(folder), "--out", str(target))
    assert code == 1 and "1 of 4 inputs could not be read" in err
    with safe_open(str(target), "pt") as handle:
        assert handle.get_tensor("latents").shape[0] == 3
        assert "broken.png" not in handle.metadata()["inputs"]


def test_the_python_api_returns_what_was_done_and_the_failures(toy, tmp_path):
    folder = _folder(tmp_path)
    result = zoo_core.run("toy-up", folder, out_dir=tmp_path / "out")
    assert len(result.files) == 3
    assert list(result.failed) == [str(folder / "broken.png")] and result.inputs == 4
    assert result.failure_message().startswith("1 of 4 inputs could not be read")


def test_one_unreadable_input_alone_is_the_error_itself(toy, zoo, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    code, _, err = zoo("run", "toy-up", str(bad), "--out", str(tmp_path / "o.png"))
    assert code == 1 and err.count("\n") == 1 and "bad.png: not a readable image" in err
    assert not (tmp_path / "o.png").exists()


def test_a_folder_where_nothing_can_be_read_writes_nothing(toy, zoo, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.jpg"):
        (folder / name).write_bytes(b"garbage")
    code, _, err = zoo("run", "toy-up", str(folder), "--out-dir", str(tmp_path / "out"))
    assert code == 1 and err.splitlines()[-1] == "zoo: error: none of the 2 inputs could be read (each is named above)"
    assert err.count("zoo: skipped:") == 2
    assert not (tmp_path / "out").exists()  # no empty folder left behind


def test_grey_inputs_to_a_colour_model_are_announced_once(toy, zoo, tmp_path):
    folder = _folder(tmp_path, corrupt="", mode="L")
    code, _, err = zoo("run", "toy-up", str(folder), "--out-dir", str(tmp_path / "out"), "--json")
    assert code == 0
    notes = [line for line in err.splitlines() if line.startswith("zoo: note:")]
    assert notes == ["zoo: note: toy-up reads colour: greyscale inputs are repeated in all three channels "
                     "(first: img0.png)"]


def test_colour_inputs_to_a_colour_model_need_no_note(toy, zoo, tmp_path):
    folder = _folder(tmp_path, corrupt="")
    code, stdout, err = zoo("run", "toy-ae", str(folder), "--out-dir", str(tmp_path / "out"), "--json")
    assert code == 0 and "zoo: note:" not in err and "notes" not in json.loads(stdout)


def test_resize_is_refused_when_the_autoencoder_samples(toy, zoo, tmp_path):
    code, _, err = zoo("run", "toy-ae", "--num", "2", "--resize", "crop", "--out", str(tmp_path / "s.png"))
    assert code == 1 and "--resize applies to input images" in err


def test_a_model_that_takes_any_size_is_not_resized(toy, zoo, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.new("RGB", (6, 10)).save(folder / "tall.png")
    out = tmp_path / "out"
    code, _, err = zoo("run", "toy-ae", str(folder), "--out-dir", str(out))
    assert code == 0 and "zoo: note:" not in err
    with Image.open(out / "tall.png") as image:
        assert image.size == (6, 10)


def test_a_size_that_is_not_a_multiple_is_padded_and_cropped_back(toy, zoo, tmp_path):
    """toy-ae takes multiples of 2 (it used to refuse 7x9): padded by reflection, reconstructed,
    cropped back to the input's size, said once."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.new("RGB", (7, 9), (10, 200, 30)).save(folder / "a.png")
    Image.new("RGB", (5, 5), (10, 20, 30)).save(folder / "b.png")
    out = tmp_path / "out"
    code, stdout, err = zoo("run", "toy-ae", str(folder), "--out-dir", str(out), "--json")
    assert code == 0, err
    assert [line for line in err.splitlines() if line.startswith("zoo: note:")] == [
        "zoo: note: toy-ae takes sizes that are multiples of 2: other sizes are padded by reflection and the "
        "reconstruction cropped back (first: a.png, 7x9)"]
    for name, size in (("a.png", (7, 9)), ("b.png", (5, 5))):
        with Image.open(out / name) as image:
            assert image.size == size
    assert json.loads(stdout)["mean_psnr_db"] > 0
