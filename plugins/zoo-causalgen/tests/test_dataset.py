"""Data-set folders: exact round trips, same seed same bytes, atomic replacement, one-line errors."""

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from zoo_core import InputError
from zoo_causalgen import dataset
from zoo_causalgen.dataset import SCENES, data_command, draw, read_dataset, read_info, write_dataset
from zoo_causalgen.scenes import fashion, pendulum


def folder_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_pendulum_round_trip_is_exact(tmp_path):
    out = write_dataset("causal-pendulum", 6, 3, tmp_path / "d", size=16)
    assert sorted(p.name for p in out.iterdir()) == [f"0000{i}.png" for i in range(6)] + ["factors.csv", "scene.json"]
    images, factors, noise = read_dataset(out)
    values, drawn = draw("pendulum", 6, 3)
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.uint8
    assert list(factors) == list(pendulum.FACTORS) and list(noise) == list(pendulum.FACTORS)
    for name in pendulum.FACTORS:
        np.testing.assert_array_equal(factors[name], values[name])  # the CSV's text reads back bit for bit
        np.testing.assert_array_equal(noise[name], drawn[name])
    np.testing.assert_array_equal(images, pendulum.render_batch(factors, 16))
    np.testing.assert_array_equal(images, pendulum.true_images(noise, size=16))
    assert read_info(out) == {"scene": "pendulum", "num": 6, "seed": 3, "sigma": 1.0, "size": 16, "split": "train"}
    header = (out / "factors.csv").read_text().splitlines()[0]
    assert header == ("file,pendulum_angle,light_angle,shadow_length,shadow_position,u_pendulum_angle,"
                      "u_light_angle,u_shadow_length,u_shadow_position")


def test_same_seed_same_bytes_and_the_test_split_is_another_stream(tmp_path):
    a = write_dataset("pendulum", 4, 7, tmp_path / "a", size=16)
    b = write_dataset("causal-pendulum", 4, 7, tmp_path / "b", size=16)
    assert folder_bytes(a) == folder_bytes(b)
    other = write_dataset("pendulum", 4, 8, tmp_path / "c", size=16)
    assert folder_bytes(other)["factors.csv"] != folder_bytes(a)["factors.csv"]
    test = draw("pendulum", 4, 7, split="test")[0]
    assert not np.array_equal(test["pendulum_angle"], draw("pendulum", 4, 7)[0]["pendulum_angle"])


def test_fashion_folder_has_garment_index_and_class(tmp_path):
    try:
        garments, labels = fashion.garments("test")
    except InputError as exc:
        pytest.skip(f"Fashion-MNIST is not installed: {exc}")
    out = write_dataset("causal-fashion", 5, 1, tmp_path / "f", split="test")
    images, factors, noise = read_dataset(out)
    assert images.shape == (5, 32, 32, 1)
    assert list(factors) == ["garment_class", "scale", "brightness"] and "garment" in noise
    index = noise["garment"].astype(int)
    np.testing.assert_array_equal(index, noise["garment"])
    np.testing.assert_array_equal(factors["garment_class"], labels[index])
    np.testing.assert_array_equal(images, fashion.render_batch(factors, garments[index]))
    np.testing.assert_array_equal(images, fashion.true_images(noise, split="test"))
    assert ",u_garment\n" in (out / "factors.csv").read_text().split("\n", 1)[0] + "\n"


def test_existing_folders_refused_unless_force_then_only_its_own_files_replaced(tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    write_dataset("pendulum", 5, 0, out, size=8)  # an empty folder is fine
    (out / "stray.txt").write_text("x")
    with pytest.raises(InputError, match="--out .*--force"):
        write_dataset("pendulum", 3, 0, out, size=8)
    assert (out / "stray.txt").exists()
    write_dataset("pendulum", 3, 0, out, size=8, force=True)
    assert (out / "stray.txt").read_text() == "x" and len(read_dataset(out)[0]) == 3
    assert sorted(p.name for p in out.iterdir()) == ["00000.png", "00001.png", "00002.png", "factors.csv",
                                                      "scene.json", "stray.txt"]  # the earlier 00003, 00004 gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no temporary or old folder left behind
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        write_dataset("pendulum", 1, 0, tmp_path / "file", force=True)


def tree_bytes(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_data_out_dot_force_keeps_every_unrelated_byte_beside_and_above(tmp_path, monkeypatch):
    """Issue 21.1: 'cd work && zoo data causal-pendulum --num 2 --out . --force' replaced the whole folder."""
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "keep.txt").write_bytes(b"the user's notes\n")
    (work / "src" / "main.py").write_bytes(b"print('hello')\n")
    (work / "00007.png").write_bytes(b"the user's own picture, not listed by any zoo data run")
    (tmp_path / "above.txt").write_bytes(b"beside the work folder\n")
    before = tree_bytes(tmp_path)
    monkeypatch.chdir(work)
    result = CliRunner().invoke(data_command, ["causal-pendulum", "--num", "2", "--out", ".", "--force",
                                               "--size", "8"])
    assert result.exit_code == 0, result.output
    after = tree_bytes(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before  # every unrelated byte survives
    assert sorted(set(after) - set(before)) == ["work/00000.png", "work/00001.png", "work/factors.csv",
                                                "work/scene.json"]
    assert len(read_dataset(work)[0]) == 2 and work.samefile(".")
    refused = CliRunner().invoke(data_command, ["pendulum", "--num", "2", "--out", "..", "--force"])
    assert isinstance(refused.exception, InputError) and "above the current folder" in str(refused.exception)
    assert tree_bytes(tmp_path) == after


def test_out_naming_a_link_to_a_folder_writes_into_the_folder(tmp_path):
    """Issue 21.8: 'zoo data --out LINK' (a link to a folder) ended in 'unexpected NotADirectoryError'."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    write_dataset("pendulum", 2, 0, tmp_path / "link", size=8)
    assert (tmp_path / "link").is_symlink() and len(read_dataset(real)[0]) == 2
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="dangling.*does not exist"):
        write_dataset("pendulum", 2, 0, tmp_path / "dangling", size=8)


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    """Issue 21.9: a killed 'zoo data' left a hidden temp folder that no later run removed."""
    import subprocess
    import sys
    from zoo_core.folders import _host
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".d.zoo-staging.{_host()}.{dead.pid}.abc123"
    left.mkdir()
    (left / "00000.png").write_bytes(b"half")
    write_dataset("pendulum", 2, 0, tmp_path / "d", size=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(dataset, "_image", broken)
    with pytest.raises(RuntimeError):
        write_dataset("pendulum", 2, 0, tmp_path / "d", size=8)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, option", [
    ({"num": 0}, "--num"), ({"size": 4}, "--size"), ({"size": 4096}, "--size"), ({"sigma": -1.0}, "--sigma"),
    ({"sigma": float("nan")}, "--sigma"), ({"seed": -1}, "--seed"), ({"split": "val"}, "--split"),
    ({"scene": "mnist"}, "NAME"),
])
def test_bad_arguments_are_one_line_errors_naming_the_option(tmp_path, kwargs, option):
    args = {"scene": "pendulum", "num": 2, "seed": 0, **kwargs}
    with pytest.raises(InputError) as info:
        write_dataset(args.pop("scene"), args.pop("num"), args.pop("seed"), tmp_path / "d", **args)
    assert str(info.value).startswith(option) and "\n" not in str(info.value)
    assert not (tmp_path / "d").exists()


def test_malformed_folders_are_one_line_errors_naming_the_file(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        read_dataset(tmp_path / "missing")
    out = write_dataset("pendulum", 3, 0, tmp_path / "d", size=8)
    table = out / "factors.csv"
    good = table.read_text()
    cases = [
        ("", "first column must be 'file'"),
        ("file,a\n", "no rows"),
        (good.replace(",", ";", 1), "first column must be 'file'"),
        (good.replace("00001.png,", "00001.png,abc", 1), "line 3, column pendulum_angle: .* is not a number"),
        (good + "00003.png,1\n", "line 5 has 2 fields, expected 9"),
        (good.replace("00002.png", "../x.png"), "line 4: '../x.png' is not a file name"),
        (good.replace("00002.png", "00009.png"), "00009.png: missing"),
    ]
    for text, message in cases:
        table.write_text(text)
        with pytest.raises(InputError, match=message) as info:
            read_dataset(out)
        assert "\n" not in str(info.value) and str(out) in str(info.value)
    table.write_text(good)
    (out / "00001.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="00001.png: not a readable image"):
        read_dataset(out)
    Image.new("RGBA", (8, 8)).save(out / "00001.png")
    with pytest.raises(InputError, match="00001.png: mode RGBA"):
        read_dataset(out)
    Image.new("RGB", (9, 9)).save(out / "00001.png")
    with pytest.raises(InputError, match="00001.png: 9x9x3, but 00000.png is 8x8x3"):
        read_dataset(out)
    table.unlink()
    with pytest.raises(InputError, match="factors.csv: missing"):
        read_dataset(out)


def test_data_command(tmp_path):
    assert SCENES == {"causal-pendulum": "pendulum", "causal-fashion": "fashion"}
    runner = CliRunner()
    result = runner.invoke(data_command, ["causal-pendulum", "--num", "3", "--seed", "2", "--out",
                                          str(tmp_path / "d"), "--size", "16"])
    assert result.exit_code == 0, result.output
    assert "wrote 3 images" in result.output
    assert folder_bytes(tmp_path / "d") == folder_bytes(write_dataset("pendulum", 3, 2, tmp_path / "e", size=16))
    refused = runner.invoke(data_command, ["pendulum", "--num", "3", "--out", str(tmp_path / "d")])
    assert isinstance(refused.exception, InputError) and "--force" in str(refused.exception)
    bad = runner.invoke(data_command, ["pendulum", "--num", "0", "--out", str(tmp_path / "z")])
    assert isinstance(bad.exception, InputError) and str(bad.exception).startswith("--num")
    assert runner.invoke(data_command, ["--help"]).exit_code == 0


def test_a_num_whose_factors_or_images_cannot_fit_is_refused_before_drawing(tmp_path, monkeypatch):
    """Issue 21.2: 'zoo data ... --num 100000000' started at once and grew without bound."""
    import shutil
    from collections import namedtuple

    monkeypatch.setenv("ZOO_MEMORY_LIMIT", "1MB")
    with pytest.raises(InputError, match=r"^--num 100000 \(the factors and noise of 100000 images\) needs about "
                                         r"8.0 MB at once"):
        write_dataset("pendulum", 100_000, 0, tmp_path / "d", size=8)
    monkeypatch.delenv("ZOO_MEMORY_LIMIT")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 0, 10**5))
    with pytest.raises(InputError, match=r"^--num 1000: the images need about .* on disk, but .* has 100.0 KB free"):
        write_dataset("pendulum", 1000, 0, tmp_path / "d", size=8)
    assert list(tmp_path.iterdir()) == []
