"""PNG writing: grids, atomic files, reproducible bytes."""

from __future__ import annotations

import os

import pytest
import torch
from PIL import Image

from zoo_core import images
from zoo_core.errors import InputError


def test_grid_layout_and_padding():
    batch = torch.ones(5, 3, 4, 6)
    grid = images.make_grid(batch, padding=2)
    assert grid.shape == (1, 3, 2 * 6 + 2, 3 * 8 + 2)  # 3 columns, 2 rows
    assert grid[0, :, 0, :].eq(-1).all() and grid[0, :, 2, 2].eq(1).all()


def test_png_round_trip_values(tmp_path):
    x = torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 1, 3)
    path = images.save_png(x, tmp_path / "x.png", {"seed": "1"})
    with Image.open(path) as image:
        assert list(image.tobytes()) == [0, 128, 255]
        assert image.text == {"zoo:seed": "1"}
    back = images.read_image(path, channels=1)
    assert torch.allclose(back, torch.tensor([-1.0, 0.0039, 1.0]).view(1, 1, 1, 3), atol=1e-3)


def test_write_failure_leaves_neither_file_nor_temporary(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        images.save_png(torch.zeros(1, 1, 2, 2), tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_whole(tmp_path):
    path = tmp_path / "x.png"
    images.save_png(torch.zeros(1, 3, 2, 2), path)
    images.save_png(torch.ones(1, 3, 4, 4), path)
    with Image.open(path) as image:
        assert image.size == (4, 4)


def test_directory_as_output_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        images.save_png(torch.zeros(1, 1, 2, 2), tmp_path)


def test_image_files_expands_folders_sorted(tmp_path):
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in images.image_files([tmp_path])] == ["a.jpg", "b.png"]
    with pytest.raises(InputError, match="no such file or directory"):
        images.image_files([tmp_path / "missing"])


def test_an_image_too_large_for_memory_is_refused_from_its_header(tmp_path, monkeypatch):
    """Issue 21.2: a 10000x10000 input reached 3.6 GB resident before being refused."""
    from zoo_core.images import read_image

    path = tmp_path / "big.png"
    Image.new("RGB", (2000, 2000)).save(path)
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", "100MB")
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(1))
    with pytest.raises(InputError, match=r"big.png: a 2000x2000 image needs about 168.0 MB at once, but this "
                                         r"machine has 100.0 MB free; downscale it"):
        read_image(path, 3)
    assert not decoded


def test_pillow_s_decompression_bomb_warning_is_not_printed_raw(tmp_path, monkeypatch, capfd):
    """Issue 21.2: Pillow's DecompressionBombWarning was printed raw, on two lines."""
    import warnings

    from zoo_core.images import image_size, read_image

    path = tmp_path / "wide.png"
    Image.new("RGB", (40, 40)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 1,600 pixels: Pillow warns (over 2x it refuses)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_image(path, 3).shape == (1, 3, 40, 40) and image_size(path) == (40, 40)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    with pytest.raises(InputError, match=r"wide.png: too many pixels for zoo to read safely .*; downscale it"):
        read_image(path, 3)
    assert "DecompressionBomb" not in capfd.readouterr().err


def test_an_animated_gif_warns_that_only_its_first_frame_is_used(tmp_path, capsys):
    """Issue 21.11: an animated GIF silently used its first frame."""
    from zoo_core.images import read_image

    path = tmp_path / "anim.gif"
    frames = [Image.new("L", (8, 8), v) for v in (0, 128, 255)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert float(read_image(path, 1).max()) == -1.0  # the first (black) frame
    assert f"zoo: warning: {path}: has 3 frames (an animation); using the first" in capsys.readouterr().err
