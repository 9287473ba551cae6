"""docs/writing-a-task.md runs as written: its example plugin (the ```python file=PATH blocks) is
installed through entry-point metadata and every command the page shows does what it says."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import zoo_core

PAGE = Path(__file__).resolve().parent.parent / "docs" / "writing-a-task.md"


def _files() -> dict[str, str]:
    blocks = re.findall(r"```python file=(\S+)\n(.*?)```", PAGE.read_text(), flags=re.S)
    return {path: text for path, text in blocks}


@pytest.fixture
def posterize(site):
    files = _files()
    assert set(files) == {"zoo_posterize/__init__.py", "zoo_posterize/filters.py"}
    for path, text in files.items():
        target = site.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    site.add_metadata("zoo-posterize", "zoo_posterize", entry_name="posterize")
    zoo_core.plugins.reset()
    return site


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (6, 4), (10, 120, 250)).save(folder / "photo.png")
    Image.new("L", (5, 5), 77).save(folder / "grey.png")
    return folder


def test_the_pages_example_plugin_works_as_the_page_says(posterize, photos, zoo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = zoo("list", "--task", "image-filter")
    assert code == 0 and "posterize-demo" in out, err
    code, out, err = zoo("run", "posterize-demo", "photos/photo.png", "--out-dir", "out", "--levels", "3")
    assert code == 0, err
    with Image.open(tmp_path / "out" / "photo.png") as image:  # three levels per channel: 0, mid-grey, 255
        assert set(np.unique(np.array(image)).tolist()) <= {0, 127, 128, 255}
    first = (tmp_path / "out" / "photo.png").read_bytes()
    code, _, err = zoo("run", "posterize-demo", "photos/photo.png", "--out-dir", "out")
    assert code == 1 and "already" in err and "--skip-existing" in err
    code, out, err = zoo("run", "posterize-demo", "photos", "--out-dir", "out", "--skip-existing")
    assert code == 0 and "kept 1 that existed" in out, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["grey.png", "photo.png"]
    assert (tmp_path / "out" / "photo.png").read_bytes() == first
    code, out, err = zoo("plugins", "zoo-posterize", "--check")
    assert code == 0, out + err


def test_the_library_takes_files_or_images_in_memory(posterize, photos):
    from_file = zoo_core.run("posterize-demo", photos / "photo.png", levels=3).value[0]
    from_array = zoo_core.run("posterize-demo", np.array(Image.open(photos / "photo.png")), levels=3).value[0]
    assert from_file.shape == (1, 3, 4, 6) and bool((from_file == from_array).all())
    with pytest.raises(zoo_core.InputError, match="--levels 1: must be 2 or more"):
        zoo_core.run("posterize-demo", photos / "photo.png", levels=1)
