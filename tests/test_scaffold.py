"""``zoo new-plugin``: the scaffold of every kind installs, passes its own tests and runs.

The slow part installs every kind (each core task's scaffold) with ``pip install --no-index --no-build-isolation
-e`` into one temporary virtualenv that sees the installed zoo-core, torch and pytest
(``--system-site-packages``), runs their test suites there, and runs them with ``zoo``.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from zoo_core.cli import main
from zoo_core.integrity import check_file
from zoo_core.registry import parse_registry_file
from zoo_core.scaffold import kinds, plan

from plugin_venv import make_venv

KINDS = ("generator", "encoder", "autoencoder", "image-to-image", "causal-analyzer")
NAMES = {kind: f"t-{kind}" for kind in KINDS}  # t-generator, t-encoder, ...


def test_every_core_task_has_a_scaffold():
    assert set(KINDS) <= set(kinds())


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.parametrize("name, message", [
    ("zoo-sneakers", "NAME 'zoo-sneakers': give it without the 'zoo-' prefix"),
    ("Sneakers", "NAME 'Sneakers': use lower-case letters"),
    ("two--dashes", "NAME 'two--dashes'"),
    ("9lives", "NAME '9lives'"),
    ("snake_case", "NAME 'snake_case'"),
    ("core", "NAME 'core': zoo-core would clash"),
    ("sneakers\n", "NAME 'sneakers\\n'"),
])
def test_bad_names_are_one_line_errors(zoo, tmp_path, name, message):
    code, _, err = zoo("new-plugin", name, "--dir", str(tmp_path / "p"))
    assert code == 1 and err.startswith("zoo: error: ") and err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_bad_kind_is_a_usage_error(zoo, tmp_path):
    code, _, err = zoo("new-plugin", "sneakers", "--kind", "gan", "--dir", str(tmp_path / "p"))
    assert code == 2 and "--kind" in err and "generator" in err


def test_refuses_a_non_empty_folder_and_fills_an_empty_one(zoo, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    code, _, err = zoo("new-plugin", "sneakers", "--dir", str(busy), "--kind", "causal-analyzer")
    assert code == 1 and "--dir" in err and "not empty" in err and err.count("\n") == 1
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]  # no half-written staging folder
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = zoo("new-plugin", "sneakers", "--dir", str(empty), "--kind", "causal-analyzer")
    assert code == 0, err
    assert (empty / "zoo_sneakers" / "analyzer.py").is_file() and "pip install -e" in out


def test_a_folder_that_cannot_be_made_is_a_one_line_error(zoo, tmp_path):
    (tmp_path / "afile").write_text("mine")
    code, _, err = zoo("new-plugin", "sneakers", "--dir", str(tmp_path / "afile" / "sub"), "--kind", "causal-analyzer")
    assert code == 1 and "--dir" in err and "unexpected" not in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_default_folder_is_zoo_name_in_the_current_directory(zoo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert zoo("new-plugin", "pixel-art", "--kind", "causal-analyzer")[0] == 0
    pyproject = (tmp_path / "zoo-pixel-art" / "pyproject.toml").read_text()
    assert 'name = "zoo-pixel-art"' in pyproject and 'pixel-art = "zoo_pixel_art"' in pyproject


@pytest.mark.parametrize("kind", KINDS)
def test_one_keyword_per_line_in_the_architecture(zoo, tmp_path, kind):
    assert zoo("new-plugin", "tidy", "--kind", kind, "--dir", str(tmp_path / "p"))[0] == 0
    hooks = (tmp_path / "p" / "zoo_tidy" / "__init__.py").read_text()
    line = next(text for text in hooks.splitlines() if "description=" in text)
    assert line.rstrip().endswith('",'), line  # the next keyword (options=, tiling=...) on a line of its own


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "causal-analyzer"])
def test_registry_fragment_pins_the_bundled_weights(zoo, tmp_path, kind):
    assert zoo("new-plugin", "pins", "--kind", kind, "--dir", str(tmp_path / "p"))[0] == 0
    (entry,) = parse_registry_file(tmp_path / "p" / "zoo_pins" / "models.toml")
    s = plan("pins", kind)
    assert (entry.name, entry.architecture, entry.task, entry.plugin) == (s.model, s.arch, kind, "zoo-pins")
    w = entry.weights
    assert w.bundled == (tmp_path / "p" / "zoo_pins" / "weights" / "pins-demo.safetensors").resolve()
    check_file(w.bundled, size=w.size, sha256=w.sha256, what="scaffolded weights", rehash=True)
    for source in (tmp_path / "p").rglob("*.py"):
        compile(source.read_text(), str(source), "exec")  # every file is valid Python


def test_scaffolded_weights_are_seeded(zoo, tmp_path):
    for folder in ("a", "b"):
        assert zoo("new-plugin", "same", "--dir", str(tmp_path / folder))[0] == 0
    a, b = (tmp_path / f / "zoo_same" / "weights" / "same-demo.safetensors" for f in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Every kind scaffolded and installed editable into one virtualenv."""
    root = tmp_path_factory.mktemp("scaffold")
    for kind, name in NAMES.items():
        assert main(["new-plugin", name, "--kind", kind, "--dir", str(root / f"zoo-{name}")]) == 0
    env = make_venv(root / "venv")
    env["ZOO_CACHE_DIR"] = str(root / "zoo-cache")
    env["HF_HOME"] = str(root / "hf")
    editable = [arg for name in NAMES.values() for arg in ("-e", str(root / f"zoo-{name}"))]
    _run(["pip", "install", "-q", "--no-deps", *editable], env, root, timeout=300)
    return root, env


@pytest.mark.slow  # a virtualenv with every scaffold
def test_scaffolded_plugins_pass_their_own_tests(installed):
    root, env = installed
    done = _run(["pytest", "-q", "-p", "no:cacheprovider", *(str(root / f"zoo-{n}" / "tests") for n in NAMES.values())],
                env, root, timeout=300)
    summary = done.stdout.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|skipped|failed|error)", summary)}
    # 6+5+5+5+7 tests; only the conformance test of each kind may skip (a zoo-core without the kit)
    assert counts.get("passed", 0) + counts.get("skipped", 0) == 28 and counts.get("skipped", 0) <= 5, done.stdout


@pytest.mark.slow  # a virtualenv with every scaffold
def test_scaffolded_plugins_show_in_zoo_list_and_run(installed):
    root, env = installed
    rows = {r["name"]: r for r in json.loads(_run(["zoo", "list", "t-", "--json"], env, root).stdout)}
    for kind, name in NAMES.items():
        row = rows[f"{name}-demo"]
        assert (row["task"], row["plugin"], row["available"]) == (kind, f"zoo-{name}", True)
        assert row["weights"] == ("none" if kind == "causal-analyzer" else "bundled")
    plugins = _run(["zoo", "plugins"], env, root).stdout
    assert all(f"zoo-{name}" in plugins for name in NAMES.values())

    generated = json.loads(_run(["zoo", "run", "t-generator-demo", "--num", "4", "--temperature", "0.5",
                                 "--out", "g.png", "--json"], env, root).stdout)
    assert generated["image_shape"] == [1, 16, 16] and generated["run"]["weights"] == "bundled"
    assert (root / "g.png").read_bytes().startswith(b"\x89PNG")

    from PIL import Image

    Image.new("RGB", (16, 16), (200, 30, 90)).save(root / "in.png")
    encoded = json.loads(_run(["zoo", "run", "t-encoder-demo", "--input", "in.png", "--out", "z.safetensors",
                               "--json"], env, root).stdout)
    assert encoded["latent_shape"] == [1, 4, 4, 4]
    rebuilt = json.loads(_run(["zoo", "run", "t-autoencoder-demo", "--input", "in.png", "--out", "r.png", "--json"],
                              env, root).stdout)
    assert set(rebuilt["psnr_db"]) == {"in.png"}
    upscaled = json.loads(_run(["zoo", "run", "t-image-to-image-demo", "in.png", "--out-dir", "up", "--json"],
                               env, root).stdout)
    assert upscaled["sizes"] == {"in.png": [32, 32]} and (root / "up" / "in.png").is_file()
    answer = _run(["zoo", "run", "t-causal-analyzer-demo", "--graph", "Z -> X; Z -> Y; X -> Y",
                   "--treatment", "X", "--outcome", "Y"], env, root).stdout
    assert "adjust for Z" in answer
