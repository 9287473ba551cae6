"""The offline data readers: IDX files (as Fashion-MNIST ships them) and image folders."""

from __future__ import annotations

import gzip
import struct

import pytest
import torch
from PIL import Image

from zoo_core.data import load_dataset, load_fashion_mnist, read_idx, to_model_range
from zoo_core.errors import InputError
from zoo_core.testing.data import idx_bytes, write_fake_fashion_mnist


def test_idx_round_trip_uint8_and_big_endian_int32(tmp_path):
    images = torch.randint(0, 256, (3, 4, 5))
    (tmp_path / "a").write_bytes(idx_bytes(images))
    assert torch.equal(read_idx(tmp_path / "a"), images.to(torch.uint8))
    values = torch.tensor([[1, -2], [70000, 3]])
    (tmp_path / "b").write_bytes(gzip.compress(idx_bytes(values, code=0x0C)))
    assert torch.equal(read_idx(tmp_path / "b"), values.to(torch.int32))


@pytest.mark.parametrize("data,message", [
    (b"\x01\x02\x08\x01", "bad magic number"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"\x00" * 4, "has 4 bytes, expected 10"),
    (b"\x1f\x8bnot really gzip", "cannot read IDX file"),
    # a damaged deflate stream behind a valid gzip header raises zlib.error, not OSError
    (gzip.compress(b"\x00" * 64, mtime=0)[:10] + b"\xff" * 20, "cannot read IDX file"),
    # 65536**4 bytes wraps to 0 in int64: the reader must not take that for an empty file
    (struct.pack(">BBBB4I", 0, 0, 8, 4, 65536, 65536, 65536, 65536), "has 0 bytes, expected 18446744073709551616"),
])
def test_malformed_idx_files_are_input_errors(tmp_path, data, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        read_idx(path)


def test_fashion_mnist_from_a_folder_plain_or_gzip(tmp_path):
    for gz in (True, False):
        folder = write_fake_fashion_mnist(tmp_path / f"gz{gz}", 40, 20, gz=gz)
        train = load_fashion_mnist("train", folder)
        assert train.images.shape == (40, 1, 28, 28) and train.images.dtype == torch.uint8
        assert train.labels.tolist()[:3] == [0, 1, 2] and train.classes[7] == "sneaker"
        assert len(load_fashion_mnist("test", folder)) == 20


def test_fashion_mnist_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_FASHION_MNIST_DIR", str(write_fake_fashion_mnist(tmp_path / "fm", 40, 20)))
    assert len(load_fashion_mnist("test")) == 20


def test_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(InputError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("train", tmp_path)


def test_image_folder_with_class_subfolders(tmp_path):
    for index, cls in enumerate(["cats", "dogs"]):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("RGB", (20, 10), (index * 200, i * 50, 0)).save(tmp_path / cls / f"{i}.png")
    data = load_dataset("folder", data_dir=tmp_path, channels=3, size=16)
    assert data.images.shape == (6, 3, 16, 16) and data.classes == ("cats", "dogs")
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    (tmp_path / "cats" / "broken.png").write_text("no")
    with pytest.raises(InputError, match="broken.png: not a readable image"):
        load_dataset("folder", data_dir=tmp_path, channels=3, size=16)


def test_to_model_range_pads_28_to_32_with_background():
    images = torch.full((2, 1, 28, 28), 255, dtype=torch.uint8)
    x = to_model_range(images, 32)
    assert x.shape == (2, 1, 32, 32)
    assert x[:, :, 2:30, 2:30].eq(1).all() and x[:, :, :2].eq(-1).all()
    assert to_model_range(images, 64).shape == (2, 1, 64, 64)


def test_idx_file_with_no_items(tmp_path):
    (tmp_path / "empty").write_bytes(struct.pack(">BBBB3I", 0, 0, 8, 3, 0, 28, 28))
    assert read_idx(tmp_path / "empty").shape == (0, 28, 28)


def test_fashion_mnist_labels_out_of_range_are_an_input_error(tmp_path):
    folder = write_fake_fashion_mnist(tmp_path / "fm", 20, 10, gz=False)
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(torch.arange(20)))
    with pytest.raises(InputError, match="labels must be 0..9, found 0..19"):
        load_fashion_mnist("train", folder)


def test_image_folder_ignores_hidden_folders_and_refuses_loose_images_beside_classes(tmp_path):
    for name in ("cats", "dogs", ".thumbnails"):
        (tmp_path / name).mkdir()
        Image.new("L", (8, 8), 100).save(tmp_path / name / "a.png")
    data = load_dataset("folder", data_dir=tmp_path, channels=1, size=8)
    assert data.classes == ("cats", "dogs") and data.labels.tolist() == [0, 1]
    Image.new("L", (8, 8), 100).save(tmp_path / "stray.png")
    with pytest.raises(InputError, match="both class subfolders and images of its own"):
        load_dataset("folder", data_dir=tmp_path, channels=1, size=8)
