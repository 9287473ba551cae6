"""Never lose a file: zoo run refuses to overwrite without --force, never writes over its inputs,
writes images in the format their name says, leaves only whole files when stopped, continues
with --skip-existing, and refuses runs that cannot fit in memory before allocating."""

from __future__ import annotations

import errno
import os
import json
import sys

import pytest
import torch
from PIL import Image

import zoo_core


def _picture(path, size=(8, 8), colour=(40, 100, 200)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def test_an_input_is_never_overwritten_even_with_force(toy, zoo, tmp_path):
    item = _picture(tmp_path / "item.png")
    before = item.read_bytes()
    for extra in ([], ["--force"]):
        code, _, err = zoo("run", "toy-ae", "--input", str(item), "--out-dir", str(tmp_path), *extra)
        assert code == 1 and "item.png is one of the inputs" in err and err.count("\n") == 1
        code, _, err = zoo("run", "toy-ae", str(item), "--out", str(item), *extra)
        assert code == 1 and "is one of the inputs" in err
    assert item.read_bytes() == before


def test_out_must_name_an_image_format_the_writer_writes(toy, zoo, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    code, _, err = zoo("run", "toy-gen", "--out", str(notes), "--force")
    assert code == 1 and "--out" in err and ".png" in err and "'.txt'" in err
    assert notes.read_text() == "my notes"
    code, _, err = zoo("run", "toy-gen", "--out", str(tmp_path / "grid.jpg"))
    assert code == 0, err
    data = (tmp_path / "grid.jpg").read_bytes()
    assert data[:3] == b"\xff\xd8\xff"  # really a JPEG
    with Image.open(tmp_path / "grid.jpg") as image:
        assert image.format == "JPEG"
    assert zoo("run", "toy-gen", "--out", str(tmp_path / "grid.webp"))[0] == 0
    with Image.open(tmp_path / "grid.webp") as image:
        assert image.format == "WEBP"


def test_existing_outputs_need_force(toy, zoo, tmp_path):
    grid = tmp_path / "grid.png"
    grid.write_bytes(b"precious")
    code, _, err = zoo("run", "toy-gen", "--out", str(grid))
    assert code == 1 and "already exists; pass --force" in err and grid.read_bytes() == b"precious"
    assert zoo("run", "toy-gen", "--out", str(grid), "--force")[0] == 0
    assert grid.read_bytes().startswith(b"\x89PNG")
    folder = tmp_path / "many"
    assert zoo("run", "toy-gen", "--num", "3", "--out-dir", str(folder))[0] == 0
    code, _, err = zoo("run", "toy-gen", "--num", "3", "--out-dir", str(folder))
    assert code == 1 and "3 of 3 outputs exist already" in err and "--skip-existing" in err and "--force" in err
    code, _, err = zoo("run", "toy-gen", "--num", "3", "--out-dir", str(folder), "--force", "--skip-existing")
    assert code == 1 and "contradict" in err


def _fail_after(monkeypatch, count):
    """Make the image writer fail with 'No space left on device' after ``count`` files."""
    import zoo_core.images as images

    real = images._atomic_write
    calls = {"n": 0}

    def write(path, data, overwrite=True):
        if calls["n"] >= count:
            raise OSError(errno.ENOSPC, "No space left on device")
        calls["n"] += 1
        real(path, data, overwrite)

    monkeypatch.setattr(images, "_atomic_write", write)


def test_a_folder_run_stopped_by_a_full_disk_continues_with_skip_existing(toy, zoo, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    assert zoo("run", "toy-gen", "--num", "20", "--seed", "3", "--out-dir", str(reference))[0] == 0
    folder = tmp_path / "out"
    monkeypatch.setenv("ZOO_THREADS", "4")  # one background writer: files are written in order
    with monkeypatch.context() as patch:
        _fail_after(patch, 7)
        code, _, err = zoo("run", "toy-gen", "--num", "20", "--seed", "3", "--out-dir", str(folder),
                           "--batch-size", "4")
    assert code == 1 and err.count("\n") == 1
    assert "stopped after writing 7 of 20 files (No space left on device)" in err and "--skip-existing" in err
    written = sorted(p.name for p in folder.iterdir())
    assert written == [f"{i:05d}.png" for i in range(7)]  # whole files only: no temporary leftovers
    first = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    code, out, err = zoo("run", "toy-gen", "--num", "20", "--seed", "3", "--out-dir", str(folder), "--skip-existing")
    assert code == 0, err
    assert "wrote 13 images" in out and "kept 7" in out
    for name, (data, mtime) in first.items():  # the finished files were not rewritten
        assert (folder / name).read_bytes() == data and (folder / name).stat().st_mtime_ns == mtime
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {p.name: p.read_bytes() for p in reference.iterdir()}


def test_streamed_batches_give_the_same_images_as_one_pass(toy, tmp_path):
    one = zoo_core.run("toy-cgen", num=37, seed=5, device="cpu")
    streamed = zoo_core.run("toy-cgen", num=37, seed=5, batch_size=8, device="cpu", out_dir=tmp_path / "s")
    assert streamed.value is None and len(streamed.files) == 37  # streamed: nothing kept in memory
    model = zoo_core.load("toy-cgen", device="cpu")
    assert torch.allclose(one.value, model.sample(37, seed=5), atol=1e-6)
    from zoo_core.images import read_image

    again = torch.cat([read_image(tmp_path / "s" / f"{i:05d}.png", 1) for i in range(37)])
    assert (again - one.value).abs().max() <= 1 / 127.5 + 1e-6  # the same images, up to 8-bit rounding


def test_a_run_that_cannot_fit_in_memory_fails_before_allocating(toy, zoo, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", str(10**9))
    code, _, err = zoo("run", "toy-gen", "--num", "100000000", "--out", str(tmp_path / "g.png"))
    assert code == 1 and err.count("\n") == 1, err
    assert "--num 100000000" in err and "needs about" in err and "--out-dir" in err and "--batch-size" in err
    code, _, err = zoo("run", "toy-gen", "--num", "100000000", "--out-dir", str(tmp_path / "d"))
    assert code == 1 and "a batch of 100000000 images" in err and "--batch-size" in err
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


@pytest.mark.slow  # 3-5 s (a subprocess or a large allocation); CI runs it, the fast loop does not
def test_an_untiled_pass_over_a_huge_image_suggests_tile(toy, zoo, tmp_path, monkeypatch):
    big = _picture(tmp_path / "big.png", size=(2048, 2048))
    # held for the whole pass: the input (12 bytes a pixel) and the 4096x4096 output with its saving
    # (130 bytes an output pixel): 2.23 GB; untiled, the pass over the whole image adds 201 MB
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", str(2330 * 10**6))
    code, _, err = zoo("run", "toy-up", str(big), "--out-dir", str(tmp_path / "up"))
    assert code == 1 and "big.png (2048x2048) needs about" in err and "pass --tile" in err, err
    code, _, err = zoo("run", "toy-up", str(big), "--out-dir", str(tmp_path / "up"), "--tile", "256")
    assert code == 0, err
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", str(2000 * 10**6))  # tiles cannot help: the output itself is too big
    code, _, err = zoo("run", "toy-up", str(big), "--out-dir", str(tmp_path / "up2"), "--tile", "256")
    assert code == 1 and "the output image itself" in err, err


def test_long_runs_show_progress_on_a_terminal(toy, zoo, tmp_path, monkeypatch, capsys):
    zoo_core.run("toy-gen", num=6, out_dir=tmp_path / "a", batch_size=2, progress=True)
    assert f"toy-gen -> {tmp_path / 'a'}" in capsys.readouterr().err
    zoo_core.run("toy-gen", num=6, out_dir=tmp_path / "b", batch_size=2)  # the library is quiet by default
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    code, _, err = zoo("run", "toy-gen", "--num", "6", "--out-dir", str(tmp_path / "c"))
    assert code == 0 and f"toy-gen -> {tmp_path / 'c'}" in err and "/6 [" in err
    code, out, err = zoo("run", "toy-gen", "--num", "6", "--out-dir", str(tmp_path / "d"), "--json")
    assert json.loads(out)["num"] == 6  # stdout stays one document; the bar is on stderr


def test_the_library_writes_only_what_it_is_asked_to(toy, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = zoo_core.run("toy-gen", num=4)
    assert result.files == [] and list(work.iterdir()) == [] and result.value.shape == (4, 1, 8, 8)


# -- found in review -------------------------------------------------------------------------

def test_an_output_that_is_also_a_folder_output_is_refused(toy, zoo, tmp_path):
    folder = tmp_path / "x"
    code, _, err = zoo("run", "toy-gen", "--num", "3", "--out-dir", str(folder), "--out", str(folder / "00001.png"))
    assert code == 1 and "is also one of the --out-dir files" in err
    assert not folder.exists()


def test_skip_existing_keeps_only_files_this_run_would_have_written(toy, zoo, tmp_path):
    folder = tmp_path / "x"
    assert zoo("run", "toy-gen", "--num", "2", "--seed", "1", "--out-dir", str(folder))[0] == 0
    code, _, err = zoo("run", "toy-gen", "--num", "4", "--seed", "2", "--out-dir", str(folder), "--skip-existing")
    assert code == 1 and "was not written by this run (seed '1', not '2')" in err
    code, out, err = zoo("run", "toy-gen", "--num", "4", "--seed", "1", "--out-dir", str(folder), "--skip-existing")
    assert code == 0 and "wrote 2 images" in out and "kept 2" in out, err
    (folder / "00004.png").parent.mkdir(exist_ok=True)
    Image.new("L", (8, 8)).save(folder / "00004.png")  # not zoo's: no metadata
    code, _, err = zoo("run", "toy-gen", "--num", "5", "--seed", "1", "--out-dir", str(folder), "--skip-existing")
    assert code == 1 and "model 'none'" in err


def test_a_damaged_png_under_skip_existing_is_called_damaged(toy, zoo, tmp_path):
    """Issue 21.11: a damaged PNG under --skip-existing was 'not written by this run (model 'none')'."""
    folder = tmp_path / "x"
    assert zoo("run", "toy-gen", "--num", "2", "--seed", "1", "--out-dir", str(folder))[0] == 0
    whole = (folder / "00001.png").read_bytes()
    (folder / "00001.png").write_bytes(whole[:len(whole) // 2])
    code, _, err = zoo("run", "toy-gen", "--num", "3", "--seed", "1", "--out-dir", str(folder), "--skip-existing")
    assert code == 1 and "00001.png is damaged" in err and "model 'none'" not in err and err.count("\n") == 1, err


def test_a_run_that_fails_before_writing_leaves_no_empty_folder(toy, zoo, tmp_path):
    odd = tmp_path / "odd.png"
    odd.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)  # fails when it is read (an odd size is padded now)
    code, _, err = zoo("run", "toy-ae", str(odd), "--out-dir", str(tmp_path / "new"))
    assert code == 1 and "odd.png" in err and not (tmp_path / "new").exists()


def test_huge_folder_runs_list_only_the_first_files(toy, tmp_path, monkeypatch):
    import zoo_core.outputs as common

    monkeypatch.setattr(common, "LISTED_FILES", 2)
    result = zoo_core.run("toy-gen", num=5, out_dir=tmp_path / "x", batch_size=2)
    assert result.data["written"] == 5 and "images" not in result.data and len(result.files) == 2
    assert len(list((tmp_path / "x").iterdir())) == 5


def test_given_images_an_autoencoder_refuses_sampling_options(toy, zoo, tmp_path):
    item = _picture(tmp_path / "a.png")
    code, _, err = zoo("run", "toy-ae", str(item), "--num", "4", "--seed", "9", "--out-dir", str(tmp_path / "r"))
    assert code == 1 and "--num, --seed: these sample from the prior" in err
    code, _, err = zoo("run", "toy-gen", "--frames", "5")
    assert code == 1 and "--frames only applies with --interpolate" in err
    code, _, err = zoo("run", "toy-gen", "--interpolate", "3", "--num", "5")
    assert code == 1 and "--interpolate takes --frames" in err


def test_inputs_of_different_sizes_for_one_grid_are_refused_before_any_work(toy, zoo, tmp_path):
    a, b = _picture(tmp_path / "in" / "a.png", (8, 8)), _picture(tmp_path / "in" / "b.png", (6, 6))
    code, _, err = zoo("run", "toy-ae", str(a), str(b), "--out", str(tmp_path / "g.png"),
                       "--out-dir", str(tmp_path / "r"))
    assert code == 1 and "differ in size" in err and not (tmp_path / "r").exists()


@pytest.mark.parametrize("args", [["--tile", "16", "--tile-overlap", "16"], ["--tile", "16", "--tile-overlap", "-1"]])
def test_impossible_tiles_are_one_line_errors(toy, zoo, tmp_path, args):
    item = _picture(tmp_path / "a.png", (40, 40))
    code, _, err = zoo("run", "toy-up", str(item), "--out-dir", str(tmp_path / "u"), *args)
    assert code == 1 and "--tile-overlap" in err and "unexpected" not in err and err.count("\n") == 1


def test_a_fixed_size_upscaler_runs_through_zoo_run(toy, zoo, tmp_path):
    item = _picture(tmp_path / "a.png", (21, 13))
    code, _, err = zoo("run", "toy-tile-up", str(item), "--out", str(tmp_path / "o.png"))
    assert code == 0, err
    with Image.open(tmp_path / "o.png") as image:
        assert image.size == (42, 26)


def test_an_rgba_input_written_as_jpeg_skips_the_alpha_pass(toy, zoo, tmp_path):
    source = tmp_path / "logo.png"
    Image.new("RGBA", (6, 6), (200, 10, 10, 128)).save(source)
    code, out, err = zoo("run", "toy-up", str(source), "--out", str(tmp_path / "o.jpg"))
    assert code == 0, err
    assert "alpha channel dropped" in out and "is a JPEG" in out


@pytest.mark.parametrize("value, ok", [("2GB", True), ("512 MiB", True), ("8e9", True), ("lots", False)])
def test_zoo_memory_limit_takes_sizes(toy, zoo, tmp_path, monkeypatch, value, ok):
    monkeypatch.setenv("ZOO_MEMORY_LIMIT", value)
    code, _, err = zoo("run", "toy-gen", "--num", "2", "--out", str(tmp_path / "g.png"))
    assert (code == 0) is ok, err
    if not ok:
        assert "ZOO_MEMORY_LIMIT='lots'" in err and err.count("\n") == 1


@pytest.mark.parametrize("errno_, words", [(28, "No space left on device"), (30, "Read-only file system")])
def test_a_full_disk_or_read_only_folder_is_one_line_naming_the_output(toy, zoo, tmp_path, monkeypatch, errno_, words):
    """Issue 21.8: a full disk with --out said 'unexpected OSError [Errno 28]' without the path; EROFS the same."""
    import os as os_module

    import zoo_core.atomic

    def failing(real):
        def call(source, target, *args, **kwargs):
            if str(target).endswith("x.png"):
                raise OSError(errno_, os_module.strerror(errno_))
            return real(source, target, *args, **kwargs)
        return call

    monkeypatch.setattr(zoo_core.atomic.os, "replace", failing(os_module.replace))
    monkeypatch.setattr(zoo_core.atomic.os, "link", failing(os_module.link))
    monkeypatch.setattr(zoo_core.atomic, "_rename_noreplace", lambda: None)  # the link path, where failing() acts
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out")
    code, _, err = zoo("run", "toy-gen", "--num", "1", "--out", "x.png")
    assert code == 1 and err.count("\n") == 1 and "unexpected" not in err, err
    assert "x.png: cannot write it (" + words in err
    assert list((tmp_path / "out").iterdir()) == []  # no temporary file left
    with pytest.raises(OSError) as info:  # library callers can still catch it as an OSError
        zoo_core.atomic.write_atomic(tmp_path / "x.png", b"data")
    with pytest.raises(OSError) as info:
        zoo_core.atomic.write_atomic(tmp_path / "x.png", b"data", overwrite=False)
    assert info.value.errno == errno_ and isinstance(info.value, zoo_core.InputError)


def test_a_folder_that_refuses_the_temporary_file_is_named(tmp_path, monkeypatch):
    import zoo_core.atomic

    def refuse(*args, **kwargs):  # what creating the temporary file meets in a read-only folder (root ignores modes)
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(zoo_core.atomic, "_create_temporary", refuse)
    with pytest.raises(zoo_core.OutputError, match=r"out.png: cannot write it \(Read-only file system\); the file "):
        zoo_core.atomic.write_atomic(tmp_path / "out.png", b"x")


def test_a_dangling_link_as_out_is_named_not_blamed_on_another_run(toy, zoo, tmp_path):
    """Issue 21.11: a dangling-symlink --out was blamed on 'another run'."""
    link = tmp_path / "x.png"
    link.symlink_to(tmp_path / "gone" / "x.png")
    code, _, err = zoo("run", "toy-gen", "--num", "1", "--out", str(link))
    assert code == 1 and "is a link to" in err and "which does not exist" in err and "another run" not in err, err
    assert link.is_symlink() and err.count("\n") == 1


@pytest.mark.parametrize("unnamed", [True, False], ids=["unnamed-file", "temporary-name"])
def test_atomic_writes_leave_no_temporary_file_and_survive_a_stale_one(tmp_path, monkeypatch, unnamed):
    """The temporary name is predictable (.NAME.PID-N.tmp); one left by a crashed process with
    the same PID must neither block the write nor be taken over."""
    import zoo_core.atomic

    if not unnamed:  # where O_TMPFILE or /proc is missing: the named temporary file
        monkeypatch.setattr(zoo_core.atomic, "_unnamed_works", False)
    target = tmp_path / "out.png"
    serial = next(zoo_core.atomic._serial) + 1
    stale = tmp_path / f".out.png.{os.getpid()}-{serial}.tmp"
    stale.write_bytes(b"someone else's")
    zoo_core.atomic.write_atomic(target, b"new", overwrite=False)
    assert target.read_bytes() == b"new" and stale.read_bytes() == b"someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([stale.name, "out.png"])
    with pytest.raises(FileExistsError):
        zoo_core.atomic.write_atomic(target, b"newer", overwrite=False)
    assert target.read_bytes() == b"new" and len(list(tmp_path.iterdir())) == 2
    zoo_core.atomic.write_atomic(target, b"newest")
    assert target.read_bytes() == b"newest" and (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_temporaries_of_dead_runs_are_removed_and_a_live_writers_are_not(tmp_path):
    import subprocess

    from zoo_core.outputs import remove_stale_temporaries

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    crashed = tmp_path / f".00001.png.{dead.pid}-7.tmp"
    live = tmp_path / f".00002.png.{os.getpid()}-3.tmp"  # a writer at work in this very folder
    old_style = tmp_path / ".00003.png.a1B2c3_d.tmp"
    foreign = tmp_path / f".notes.txt.{dead.pid}-1.tmp"  # not a file this run writes
    for path in (crashed, live, old_style, foreign):
        path.write_bytes(b"half")
    removed = remove_stale_temporaries(tmp_path, ["00001.png", "00002.png", "00003.png"])
    assert removed == 2 and sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, foreign.name])


def test_a_new_file_that_fails_part_way_leaves_nothing(tmp_path, monkeypatch):
    """Whichever way a new file is written, a failure while writing leaves no file and no
    temporary behind (a full disk here; a kill leaves an unnamed file nothing, too)."""
    import zoo_core.atomic

    real_write = os.write

    def full(fd, data):
        real_write(fd, bytes(data[:3]))
        raise OSError(errno.ENOSPC, "No space left on device")

    for unnamed in (True, False):
        monkeypatch.setattr(zoo_core.atomic, "_unnamed_works", unnamed and bool(zoo_core.atomic._O_TMPFILE))
        monkeypatch.setattr(zoo_core.atomic.os, "write", full)
        with pytest.raises(zoo_core.OutputError, match="out.png"):
            zoo_core.atomic.write_atomic(tmp_path / "out.png", b"0123456789", overwrite=False)
        monkeypatch.setattr(zoo_core.atomic.os, "write", real_write)
        assert list(tmp_path.iterdir()) == []
