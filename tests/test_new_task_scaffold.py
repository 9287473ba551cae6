"""`zoo new-plugin NAME --new-task TASK` writes a plugin that registers a new task (interface,
runner through the output service, checks, a model with bundled weights, tests) and that, as
written, passes `zoo plugins --check` and its own tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from PIL import Image

import zoo_core


@pytest.fixture
def tint(site, zoo, tmp_path):
    folder = tmp_path / "zoo-tint"
    code, out, err = zoo("new-plugin", "tint", "--new-task", "image-tint", "--dir", str(folder))
    assert code == 0, err
    assert "task image-tint" in out
    package = folder / "zoo_tint"
    assert sorted(p.name for p in package.iterdir() if p.suffix in (".py", ".toml")) == \
        ["__init__.py", "model.py", "models.toml", "task.py"]
    (site.root / "zoo_tint").symlink_to(package)  # importable, with its entry point, as pip install -e makes it
    site.add_metadata("zoo-tint", "zoo_tint", entry_name="tint")
    zoo_core.plugins.reset()
    return folder


def test_the_scaffolded_task_plugin_passes_the_kit_and_runs(tint, zoo, tmp_path):
    from zoo_core.testing.conformance import check_plugin

    check_plugin("zoo-tint").assert_ok()
    code, out, err = zoo("plugins", "zoo-tint")
    assert code == 0 and "image-tint" in out and "conflict" not in out, err
    Image.new("RGB", (7, 5), (10, 200, 30)).save(tmp_path / "p.png")
    code, out, err = zoo("run", "tint-demo", str(tmp_path / "p.png"), "--out-dir", str(tmp_path / "o"),
                         "--strength", "0.5")
    assert code == 0 and (tmp_path / "o" / "p.png").is_file(), err
    code, out, _ = zoo("run", "tint-demo", "--help")
    assert all(flag in out for flag in ("--out-dir", "--skip-existing", "--force", "--device", "--strength"))


def test_new_task_names_are_checked(site, zoo, tmp_path):
    code, _, err = zoo("new-plugin", "tint", "--new-task", "generator", "--dir", str(tmp_path / "a"))
    assert code == 1 and "--new-task 'generator': is a task already (zoo-core)" in err
    code, _, err = zoo("new-plugin", "tint", "--new-task", "Bad Task", "--dir", str(tmp_path / "b"))
    assert code == 1 and "lower-case words joined by dashes" in err
    code, _, err = zoo("new-plugin", "tint", "--new-task", "image-tint", "--kind", "encoder", "--dir",
                       str(tmp_path / "c"))
    assert code == 2 and "pass one" in err
    assert not any((tmp_path / d).exists() for d in "abc")


@pytest.mark.slow  # a fresh interpreter runs the plugin's own test suite
def test_the_scaffolded_task_plugin_passes_its_own_tests(tint, site):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site.root), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tint / "tests")],
                          capture_output=True, text=True, env=env, cwd=tint, timeout=300)
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"\b7 passed\b", summary) and "skipped" not in summary, summary
