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
