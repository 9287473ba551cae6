"""The core's output service keeps zoo's file-safety promises for a plugin's task.

tests/task_plugin/zoo_patterns (plugin API 3) declares what its task writes with
``zoo_core.Outputs`` and writes only through the ``OutputPlan`` the core hands its runner.
Without a line of file handling of its own it refuses overwrites, never writes over an
input, continues with --skip-existing, leaves only whole files when stopped with Ctrl-C, and
clears the temporaries of a run that was killed outright.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

import zoo_core

SOURCE = Path(__file__).parent / "task_plugin" / "zoo_patterns"


@pytest.fixture
def patterns(site):
    """zoo-patterns installed through entry-point metadata, with weights and a registry entry."""
    import torch
    from safetensors.torch import save_file

    from zoo_core.integrity import sha256_file

    package = site.root / "zoo_patterns"
    shutil.copytree(SOURCE, package, ignore=shutil.ignore_patterns("__pycache__"))
    site.add_metadata("zoo-patterns", "zoo_patterns")
    weights = package / "weights" / "stripes.safetensors"
    weights.parent.mkdir()
    save_file({"level": torch.tensor([0.8])}, str(weights))
    (package / "models.toml").write_text(textwrap.dedent(f"""
        [models.stripes-demo]
        architecture = "stripes"
        task = "pattern-generator"
        description = "diagonal stripes"
        license = "mit"
        [models.stripes-demo.weights]
        filename = "model.safetensors"
        size = {weights.stat().st_size}
        sha256 = "{sha256_file(weights)}"
        bundled = "weights/stripes.safetensors"
        """))
    zoo_core.plugins.reset()
    zoo_core.clear_model_cache()
    return site


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_core_adds_the_output_and_loading_options(patterns, zoo):
    code, out, _ = zoo("info", "stripes-demo", "--json")
    assert code == 0
    names = [o["name"] for o in json.loads(out)["run_options"]]
    assert names == ["--num", "--seed", "--out", "--out-dir", "--force", "--skip-existing", "--device", "--dtype",
                     "--weights", "--threads", "--pause", "--json"]
    code, out, _ = zoo("run", "stripes-demo", "--help")
    assert code == 0 and "one file per pattern" in out and "--skip-existing" in out


def test_a_plugin_task_refuses_to_overwrite_and_force_replaces(patterns, zoo, tmp_path):
    out = tmp_path / "out"
    code, _, err = zoo("run", "stripes-demo", "--num", "3", "--out-dir", str(out))
    assert code == 0, err
    before = _contents(out)
    assert list(before) == ["00000.png", "00001.png", "00002.png"]
    code, _, err = zoo("run", "stripes-demo", "--num", "3", "--seed", "1", "--out-dir", str(out))
    assert code == 1 and "3 of 3 outputs exist already" in err and "--skip-existing" in err
    assert "Traceback" not in err and _contents(out) == before
    grid = tmp_path / "grid.png"
    grid.write_bytes(b"mine")
    code, _, err = zoo("run", "stripes-demo", "--out", str(grid))
    assert code == 1 and "already exists; pass --force" in err and grid.read_bytes() == b"mine"
    code, _, err = zoo("run", "stripes-demo", "--num", "3", "--seed", "1", "--out-dir", str(out), "--force")
    assert code == 0, err
    assert _contents(out) != before and sorted(_contents(out)) == sorted(before)


def test_a_plugin_task_never_writes_over_an_input(patterns, zoo, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (16, 16), (200, 40, 40)).save(photos / "red.png")
    original = (photos / "red.png").read_bytes()
    code, _, err = zoo("run", "stripes-demo", str(photos / "red.png"), "--out-dir", str(photos), "--force")
    assert code == 1 and "is one of the inputs" in err
    code, _, err = zoo("run", "stripes-demo", str(photos / "red.png"), "--out", str(photos / "red.png"), "--force")
    assert code == 1 and "is one of the inputs" in err
    assert (photos / "red.png").read_bytes() == original
    code, _, err = zoo("run", "stripes-demo", str(photos / "red.png"), "--out-dir", str(tmp_path / "tinted"))
    assert code == 0, err
    with Image.open(tmp_path / "tinted" / "red.png") as tinted:
        assert tinted.size == (16, 16) and tinted.text["zoo:model"] == "stripes-demo"


def test_a_plugin_task_resumes_with_skip_existing(patterns, zoo, tmp_path):
    out = tmp_path / "out"
    assert zoo("run", "stripes-demo", "--num", "4", "--out-dir", str(out))[0] == 0
    whole = _contents(out)
    (out / "00001.png").unlink()
    (out / "00003.png").unlink()
    code, text, err = zoo("run", "stripes-demo", "--num", "4", "--out-dir", str(out), "--skip-existing", "--json")
    assert code == 0, err
    report = json.loads(text)
    assert (report["written"], report["kept"]) == (2, 2)
    assert report["images"] == [str(out / "00001.png"), str(out / "00003.png")]
    assert _contents(out) == whole  # the same seed redraws the same bytes; the kept ones untouched
    code, _, err = zoo("run", "stripes-demo", "--num", "5", "--seed", "9", "--out-dir", str(out), "--skip-existing")
    assert code == 1 and "was not written by this run" in err and "seed" in err
    assert _contents(out) == whole


def test_the_library_writes_through_the_same_plan(patterns, tmp_path):
    out = tmp_path / "out"
    result = zoo_core.run("stripes-demo", num=2, out_dir=out)
    assert [p.name for p in result.files] == ["00000.png", "00001.png"]
    with pytest.raises(zoo_core.InputError, match="2 of 2 outputs exist already"):
        zoo_core.run("stripes-demo", num=2, out_dir=out)
    value = zoo_core.run("stripes-demo", num=2).value  # no output asked for: nothing written, images returned
    assert tuple(value.shape) == (2, 3, 16, 16)


def test_stale_temporaries_of_a_killed_run_are_removed_and_nothing_else(patterns, zoo, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".00001.png.k3x_9abc.tmp", tmp_path / ".grid.png.q1w2e3r4.tmp"]
    foreign = [out / ".notes.txt.k3x_9abc.tmp", out / ".00001.png.tmp", out / "00009.png.k3x_9abc.tmp"]
    for path in [*stale, *foreign]:
        path.write_bytes(b"half a file")
    code, _, err = zoo("run", "stripes-demo", "--num", "3", "--out-dir", str(out), "--out", str(tmp_path / "grid.png"))
    assert code == 0, err
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in foreign)  # not a temporary of an output this run writes


@pytest.mark.slow
def test_ctrl_c_leaves_only_whole_files_and_skip_existing_finishes(patterns, tmp_path):
    """A real interrupt (SIGINT to a `zoo run` process) part way through a folder run."""
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(patterns.root), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "zoo_core", "run", "stripes-demo", "--num", "40", "--out-dir", str(out)]
    process = subprocess.Popen([*command, "--pause", "0.1"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("*.png"))) < 3:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    names = sorted(p.name for p in out.iterdir())
    assert 3 <= len(names) < 40 and all(n.endswith(".png") and not n.startswith(".") for n in names)
    assert f"stopped after writing {len(names)} of 40 files" in err and "--skip-existing" in err
    for path in out.iterdir():
        with Image.open(path) as image:
            image.load()  # a cut-off PNG fails here
    finished = subprocess.run([*command, "--skip-existing"], env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert len(list(out.glob("*.png"))) == 40 and f"kept {len(names)} that existed" in finished.stdout
