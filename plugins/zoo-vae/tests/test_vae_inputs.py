"""Your own images into the Fashion-MNIST VAE (one size, 28x28 grey): any size and mode is
brought to it by --resize, and what changed is said once per run (issue 19: `zoo run
conv-vae-fashion rgb64.png` used to fail on the shape, and colour became grey without a word)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import zoo_core


@pytest.fixture
def photos(tmp_path):
    """Mixed inputs: RGB 64x48, RGBA 30x20 half transparent, JPEG 40x40, grey 28x28."""
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(folder / "a_rgb.png")
    rgba = Image.new("RGBA", (30, 20), (0, 200, 0, 255))
    rgba.paste((0, 200, 0, 0), (0, 0, 15, 20))  # the left half transparent
    rgba.save(folder / "b_rgba.png")
    Image.new("RGB", (40, 40), (10, 10, 200)).save(folder / "c.jpg")
    Image.new("L", (28, 28), 120).save(folder / "d_grey.png")
    return folder


def test_any_size_and_mode_is_reconstructed_at_28x28_with_one_note_each(photos, zoo, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = zoo("run", "conv-vae-fashion", str(photos), "--out-dir", str(out), "--json")
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("zoo: note:")]
    assert notes == [
        "zoo: note: conv-vae-fashion reads greyscale: colour inputs are converted to grey (first: a_rgb.png)",
        "zoo: note: conv-vae-fashion takes 28x28 images: other sizes are scaled to fit inside, keeping the aspect "
        "ratio, and padded with black (--resize fit; first: a_rgb.png, 64x48)",
    ]
    assert json.loads(stdout)["notes"] == [n.removeprefix("zoo: note: ") for n in notes]
    for name in ("a_rgb", "c", "d_grey"):
        with Image.open(out / f"{name}.png") as image:
            assert image.size == (28, 28) and image.mode == "L"
    with Image.open(out / "b_rgba.png") as image:  # alpha kept, as the upscalers keep it
        assert image.size == (28, 28) and image.mode == "RGBA"
        alpha = np.asarray(image.getchannel("A"), dtype=float)
    # 30x20 fit into 28x28 is 28x19 centred: rows 0-3 and 23-27 are padding (transparent), the
    # left half of the picture was transparent and the right half opaque
    assert alpha[:4].mean() < 128 and alpha[10:18, 20:].mean() > alpha[10:18, :8].mean()


@pytest.mark.parametrize("mode", ["fit", "crop", "pad", "stretch"])
def test_each_resize_mode_gives_the_models_size(photos, tmp_path, mode):
    result = zoo_core.run("conv-vae-fashion", photos / "a_rgb.png", resize=mode)
    assert [tuple(t.shape) for t in result.value] == [(1, 1, 28, 28)]
    assert f"--resize {mode}" in result.data["notes"][1]


def test_fit_pads_with_black_and_crop_does_not(tmp_path):
    """A white 64x32 picture: fit leaves black bars above and below, crop fills the frame."""
    path = tmp_path / "wide.png"
    Image.new("L", (64, 32), 255).save(path)
    from zoo_core.images import read_image
    from zoo_core.resize import resize_to

    image = read_image(path, 1)
    fit, crop = resize_to(image, (28, 28), "fit"), resize_to(image, (28, 28), "crop")
    assert fit[0, 0, :7].max() == -1 and fit[0, 0, 21:].max() == -1  # 28x14 centred: 7 black rows each side
    assert fit[0, 0, 7:21].min() > 0.999
    assert crop.min() > 0.999


def test_an_unknown_resize_mode_is_one_line(photos, zoo, tmp_path):
    code, _, err = zoo("run", "conv-vae-fashion", str(photos), "--resize", "squash", "--out-dir", str(tmp_path / "o"))
    assert code == 2 and "squash" in err and "fit" in err and err.count("\n") == 1
    with pytest.raises(zoo_core.InputError, match="--resize 'squash': use one of fit, crop, pad, stretch"):
        zoo_core.run("conv-vae-fashion", photos / "a_rgb.png", resize="squash")


def test_help_documents_the_default_and_each_mode(zoo):
    code, stdout, _ = zoo("run", "conv-vae-fashion", "--help")
    text = " ".join(stdout.split())
    assert code == 0 and "--resize [fit|crop|pad|stretch]" in text and "[default: fit]" in text
    for words in ("scale to fit inside", "centre-crop", "no scaling", "ignoring the aspect ratio"):
        assert words in text


def test_a_grid_of_mixed_sizes_works_once_they_are_resized(photos, zoo, tmp_path):
    code, _, err = zoo("run", "conv-vae-fashion", str(photos), "--out", str(tmp_path / "grid.png"))
    assert code == 0, err
    assert "zoo: note: the alpha channel of inputs is dropped (a grid has none; first: b_rgba.png)" in err
