"""No command deletes what it did not write (issue 21.1): every command that takes a folder,
checked with unrelated files beside and above it, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import zoo_core
from zoo_core.errors import InputError
from zoo_core.folders import _host, check_folder_target, staged_folder


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A user's project: files in the current folder, in a subfolder and in the folder above."""
    folder = tmp_path / "work"
    (folder / "src").mkdir(parents=True)
    (folder / "keep.txt").write_bytes(b"notes\n")
    (folder / "src" / "main.py").write_bytes(b"print('hi')\n")
    (tmp_path / "above.txt").write_bytes(b"above\n")
    monkeypatch.chdir(folder)
    return tmp_path


def test_staged_folder_is_public_and_documented():
    assert zoo_core.staged_folder is staged_folder and "staged_folder" in zoo_core.__all__
    assert "staged_folder" in (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()


def test_a_new_folder_appears_whole_and_a_failure_leaves_nothing(tmp_path):
    with staged_folder(tmp_path / "new") as staging:
        (staging / "a.txt").write_text("a")
        assert not (tmp_path / "new").exists()
    assert tree_bytes(tmp_path) == {"new/a.txt": b"a"}
    with pytest.raises(RuntimeError), staged_folder(tmp_path / "other") as staging:
        (staging / "a.txt").write_text("a")
        raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_force_into_the_current_folder_replaces_only_its_own_files(work):
    before = tree_bytes(work)
    (Path("out.txt")).write_text("old run")
    with staged_folder(Path("."), force=True, stale=["gone.txt", "../above.txt", "src"]) as staging:
        (staging / "out.txt").write_text("new run")
    after = tree_bytes(work)
    assert {k: after[k] for k in before} == before and after["work/out.txt"] == b"new run"
    assert sorted(set(after) - set(before)) == ["work/out.txt"]


def test_stale_names_of_an_earlier_run_are_removed_and_nothing_else(work):
    Path("00003.png").write_bytes(b"earlier run")
    with staged_folder(Path("."), force=True, stale=["00003.png"]) as staging:
        (staging / "00000.png").write_bytes(b"new")
    assert not Path("00003.png").exists() and Path("keep.txt").read_bytes() == b"notes\n"


def test_a_folder_holding_files_needs_force_and_the_folder_above_is_never_a_target(work):
    before = tree_bytes(work)
    with pytest.raises(InputError, match=r"^--out .*already holds files.*--force"):
        check_folder_target(Path("."))
    for above in ("..", "../.."):
        with pytest.raises(InputError, match="above the current folder"):
            check_folder_target(Path(above), force=True)
    with pytest.raises(InputError, match="--dir .*is a file"):
        check_folder_target(Path("keep.txt"), option="--dir", force=True)
    assert tree_bytes(work) == before


def test_a_live_runs_staging_folder_is_kept_a_dead_ones_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".d.zoo-staging.{_host()}.{dead.pid}.x1"
    live = tmp_path / f".d.zoo-staging.{_host()}.{os.getppid()}.x2"
    other = tmp_path / ".d.something-else"
    for folder in (stale, live, other):
        folder.mkdir()
    with staged_folder(tmp_path / "d") as staging:
        (staging / "a").write_text("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "d"])


def test_export_force_into_the_current_folder_keeps_unrelated_files(toy, zoo, work):
    before = tree_bytes(work)
    assert zoo("export", "toy-gen", ".")[0] == 0  # none of its three files there yet
    assert zoo("export", "toy-gen", ".")[0] == 1  # now they are: refused without --force
    code, _, err = zoo("export", "toy-gen", ".", "--force")
    assert code == 0, err
    after = tree_bytes(work)
    assert {k: after[k] for k in before} == before
    assert sorted(set(after) - set(before)) == ["work/README.md", "work/config.json", "work/model.safetensors"]


def test_new_plugin_into_the_current_empty_folder_keeps_the_folder(zoo, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "above.txt").write_bytes(b"above\n")
    monkeypatch.chdir(empty)
    inode = empty.stat().st_ino
    code, _, err = zoo("new-plugin", "sneakers", "--dir", ".", "--kind", "causal-analyzer")
    assert code == 0, err
    assert empty.stat().st_ino == inode and Path("pyproject.toml").is_file()  # filled, not replaced
    assert (tmp_path / "above.txt").read_bytes() == b"above\n"
    code, _, err = zoo("new-plugin", "sneakers", "--dir", "..", "--kind", "causal-analyzer")
    assert code == 1 and err.count("\n") == 1
    assert (tmp_path / "above.txt").read_bytes() == b"above\n"


def test_train_force_in_the_current_folder_keeps_unrelated_files(work):
    pytest.importorskip("torch")
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from test_training import LineTask, run
    finally:
        sys.path.pop(0)
    run(LineTask(), Path("."), max_epochs=1)
    before = tree_bytes(work)
    run(LineTask(), Path("."), max_epochs=1, force=True)
    after = tree_bytes(work)
    assert set(after) == set(before)
    for name in ("work/keep.txt", "work/src/main.py", "above.txt"):
        assert after[name] == before[name]
