"""Data sets of a scene on disk: PNG images with every factor and exogenous noise in a CSV.

``write_dataset`` draws ``num`` units of a scene from a seed and writes ``00000.png …``,
``factors.csv`` (columns ``file``, each factor, then ``u_`` + name for each exogenous noise:
a root is its own noise; the fashion scene adds ``u_garment``, the garment's index in its
split) and ``scene.json`` (scene, seed, sigma, size, split: what regenerates the folder).
Keeping the noise makes every row's exact intervention and counterfactual computable later.
A new folder appears whole or not at all; an existing one (``--force``) keeps every file this
did not write (``zoo_core.staged_folder``).
``read_dataset`` reads such a folder back; ``data_command`` is the ``zoo data`` verb.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import click
import numpy as np
from PIL import Image

import zoo_core
from zoo_core import InputError

from .scenes import fashion, pendulum
from .scm import Values

__all__ = ["SCENES", "SIZE_RANGE", "scene_of", "draw", "write_dataset", "read_dataset", "read_info", "data_command"]

SCENES = {"causal-pendulum": "pendulum", "causal-fashion": "fashion"}  # model name -> scene
SIZE_RANGE = (8, 512)  # pixels; the pendulum is drawn at 4x, so 512 means 2048 x 2048 per image
SPLITS = ("train", "test")
CSV_NAME, INFO_NAME = "factors.csv", "scene.json"
_MODULES = {"pendulum": pendulum, "fashion": fashion}


def scene_of(name: str) -> str:
    """The scene of a model name (``causal-pendulum``) or a scene name (``pendulum``)."""
    if name in SCENES:
        return SCENES[name]
    if name in _MODULES:
        return name
    choices = ", ".join([*SCENES, *_MODULES])
    raise InputError(f"NAME {name!r}: not a causal scene; use one of {choices}")


def _rng(seed: int, split: str) -> np.random.Generator:
    """The train split draws from ``seed``; the test split from the independent stream [seed, 1]."""
    return np.random.default_rng(seed if split == "train" else [seed, 1])


def _check(num: int, seed: int, sigma: float, size: int, split: str) -> None:
    if num < 1:
        raise InputError(f"--num must be at least 1, got {num}")
    if seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {seed}")
    if not math.isfinite(sigma) or sigma < 0:
        raise InputError(f"--sigma must be a finite number >= 0, got {sigma:g}")
    if not SIZE_RANGE[0] <= size <= SIZE_RANGE[1]:
        raise InputError(f"--size must be between {SIZE_RANGE[0]} and {SIZE_RANGE[1]} pixels, got {size}")
    if split not in SPLITS:
        raise InputError(f"--split must be train or test, got {split!r}")


def draw(scene: str, num: int, seed: int, *, sigma: float = 1.0, split: str = "train") -> tuple[Values, Values]:
    """(factors, noise) of ``num`` units of ``scene``, exactly as ``write_dataset`` draws them."""
    scene, rng = scene_of(scene), _rng(seed, split)
    if scene == "fashion":
        return fashion.sample(rng, num, sigma, split)
    model = pendulum.scm(sigma)
    noise = model.sample_noise(rng, num)
    return model.solve(noise), noise


def _image(scene: str, values: Values, noise: Values, i: int, size: int, split: str) -> np.ndarray:
    row = {name: float(column[i]) for name, column in values.items()}
    if scene == "fashion":
        garments, _ = fashion.garments(split)
        return fashion.render(row, garments[int(noise["garment"][i])], size)
    return pendulum.render(row, size)


def _number(value: float) -> str:
    """Shortest text that reads back as the same float (integers without '.0')."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


#: Bytes a row's factor and noise values take while the data set is drawn, per factor: the factor
#: and its noise as float64 (bench/bench_memory_plan.py: 64 bytes a pendulum row at its peak, planned 80).
ROW_BYTES_PER_FACTOR = 16


def _check_memory(scene: str, num: int) -> None:
    """Refuse a ``--num`` whose factor table cannot fit, before drawing it (images stream to disk)."""
    from zoo_core.memory import human_bytes, require

    per_row = ROW_BYTES_PER_FACTOR * (len(_MODULES[scene].FACTORS) + 1)
    require(num * per_row, device="cpu", what=f"--num {num} (the factors and noise of {num} images)",
            fix=f"ask for fewer (each takes {human_bytes(per_row)}), in several folders with different --seed")


def _check_disk(scene: str, num: int, seed: int, sigma: float, size: int, split: str, out: Path) -> None:
    """Refuse a ``--num`` whose images cannot fit on the disk: the first image's PNG, times ``num``, with a margin."""
    import shutil

    from zoo_core.memory import human_bytes

    values, noise = draw(scene, 1, seed, sigma=sigma, split=split)
    pixels = _image(scene, values, noise, 0, size, split)
    encoded = io.BytesIO()
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(encoded, "PNG")
    need = num * (1.5 * len(encoded.getvalue()) + 100)  # PNG sizes vary with the scene; 100: a CSV row
    where = next(p for p in (out, *out.parents) if p.exists())
    free = shutil.disk_usage(where).free
    if need > free:
        raise InputError(f"--num {num}: the images need about {human_bytes(need)} on disk, but {where} has "
                         f"{human_bytes(free)} free; ask for fewer, or write to a larger disk")


def _earlier_files(out: Path) -> list[str]:
    """The images an earlier ``zoo data`` listed in ``out``'s factors.csv (numbered PNGs only), and its index."""
    try:
        rows = list(csv.reader(io.StringIO((out / CSV_NAME).read_text())))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    if not rows or not rows[0] or rows[0][0] != "file" or not (out / INFO_NAME).is_file():
        return []  # not a folder 'zoo data' wrote: nothing in it is ours to remove
    return [row[0] for row in rows[1:] if row and re.fullmatch(r"\d+\.png", row[0])]


def write_dataset(scene: str, num: int, seed: int, out: Path, *, sigma: float = 1.0, size: int | None = None,
                  split: str = "train", force: bool = False) -> Path:
    """Write ``num`` images of ``scene`` (a scene or model name) with their factors and noise to ``out``.

    The same arguments always give the same bytes. ``split``: for the fashion scene, which
    Fashion-MNIST split the garments come from; for both scenes, ``test`` also draws from a
    stream independent of ``train``'s with the same seed. An existing non-empty ``out`` is
    refused unless ``force``; then only the files this writes are replaced (and the images an
    earlier data set listed there removed): nothing else in the folder is touched
    (``zoo_core.staged_folder``). Returns ``out``.
    """
    scene = scene_of(scene)
    size = _MODULES[scene].DEFAULT_SIZE if size is None else size
    _check(num, seed, sigma, size, split)
    out = zoo_core.check_folder_target(out, option="--out", force=force)
    _check_memory(scene, num)
    _check_disk(scene, num, seed, sigma, size, split, out)
    values, noise = draw(scene, num, seed, sigma=sigma, split=split)
    stale = _earlier_files(out) if out.is_dir() else []
    with zoo_core.staged_folder(out, force=force, option="--out", last=(CSV_NAME, INFO_NAME), stale=stale) as tmp:
        _write(tmp, scene, values, noise, size, split)
        info = {"scene": scene, "num": num, "seed": seed, "sigma": sigma, "size": size, "split": split}
        (tmp / INFO_NAME).write_text(json.dumps(info, indent=2) + "\n")
    return out


def _write(folder: Path, scene: str, values: Values, noise: Values, size: int, split: str) -> None:
    num = len(next(iter(values.values())))
    digits = max(5, len(str(num - 1)))
    factors = list(_MODULES[scene].FACTORS)
    with (folder / CSV_NAME).open("w", newline="") as table:  # row by row: the table never sits in memory
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["file", *factors, *(f"u_{name}" for name in noise)])
        for i in range(num):
            name = f"{i:0{digits}d}.png"
            pixels = _image(scene, values, noise, i, size, split)
            Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(folder / name)
            writer.writerow([name, *(_number(values[f][i]) for f in factors),
                             *(_number(u[i]) for u in noise.values())])


# -- reading ---------------------------------------------------------------------------------

def read_dataset(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(images uint8 (N, H, W, C), factors by name, noise by name without ``u_``) of a written folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    files, columns = _read_table(folder / CSV_NAME)
    images = [_read_image(folder, name) for name in files]
    first = images[0]
    for name, image in zip(files, images):
        if image.shape != first.shape:
            raise InputError(f"{folder / name}: {_shape(image)}, but {files[0]} is {_shape(first)}")
    factors = {k: v for k, v in columns.items() if not k.startswith("u_")}
    noise = {k[2:]: v for k, v in columns.items() if k.startswith("u_")}
    return np.stack(images), factors, noise


def read_info(folder: Path) -> dict:
    """What ``scene.json`` says (scene, num, seed, sigma, size, split); ``{}`` when absent."""
    path = Path(folder) / INFO_NAME
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(info, dict):
        raise InputError(f"{path}: not a JSON object")
    return info


def _read_table(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    try:
        rows = list(csv.reader(io.StringIO(path.read_text())))
    except FileNotFoundError:
        raise InputError(f"{path}: missing; a data set folder has the {CSV_NAME} that 'zoo data' writes") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from None
    if not rows or not rows[0] or rows[0][0] != "file":
        raise InputError(f"{path}: the first column must be 'file'")
    header = rows[0]
    if len(set(header)) != len(header):
        raise InputError(f"{path}: a column name appears twice")
    if len(rows) < 2:
        raise InputError(f"{path}: no rows")
    files, numbers = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"{path}: line {line} has {len(row)} fields, expected {len(header)}")
        name = row[0]
        if not name or name != Path(name).name or name in (".", ".."):
            raise InputError(f"{path}: line {line}: {name!r} is not a file name in the folder")
        try:
            numbers.append([float(text) for text in row[1:]])
        except ValueError:
            bad = next(i for i, text in enumerate(row[1:], start=1) if not _is_number(text))
            raise InputError(f"{path}: line {line}, column {header[bad]}: {row[bad]!r} is not a number") from None
        files.append(name)
    table = np.array(numbers, dtype=np.float64).reshape(len(files), len(header) - 1)
    return files, {name: table[:, j] for j, name in enumerate(header[1:])}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_image(folder: Path, name: str) -> np.ndarray:
    path = folder / name
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            pixels = np.asarray(image)
    except FileNotFoundError:
        raise InputError(f"{path}: missing (listed in {CSV_NAME})") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from None
    if mode not in ("L", "RGB"):
        raise InputError(f"{path}: mode {mode}; a data set image is greyscale (L) or RGB")
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _shape(image: np.ndarray) -> str:
    return "x".join(str(d) for d in image.shape)


# -- the zoo data verb -----------------------------------------------------------------------

@click.command("data")
@click.argument("name")
@click.option("--num", type=int, default=1000, show_default=True, help="how many images to draw")
@click.option("--seed", type=int, default=0, show_default=True, help="the same seed always gives the same bytes")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="folder to create (PNGs + factors.csv)")
@click.option("--sigma", type=float, default=None,
              help="scale of the exogenous noise on the non-root factors (0: deterministic mechanisms; "
                   "default: the model's, else 1)")
@click.option("--size", type=int, default=None, help="image side in pixels (default: the scene's, 64 or 32)")
@click.option("--split", type=click.Choice(SPLITS), default="train", show_default=True,
              help="train or test: the garments' Fashion-MNIST split, and an independent random stream")
@click.option("--force", is_flag=True, help="write into a non-empty --out folder, replacing only the files this writes")
def data_command(name: str, num: int, seed: int, out: Path, sigma: float | None, size: int | None, split: str,
                 force: bool) -> None:
    """Draw a data set of NAME's scene (a causal-generator model, or pendulum/fashion): images with
    their factors and noise. A model's scene, noise scale and image size are its defaults."""
    scene, config = name, {}
    if name not in _MODULES:
        try:
            entry = zoo_core.get_entry(name)
        except zoo_core.ZooError:
            entry = None
        if entry is not None and entry.task == "causal-generator" and "scene" in (entry.config or {}):
            config = dict(entry.config)
            scene = config["scene"]
    if sigma is None:
        sigma = float(config.get("sigma", 1.0))
    if size is None and "image_size" in config:
        size = int(config["image_size"])
    path = write_dataset(scene, num, seed, out, sigma=sigma, size=size, split=split, force=force)
    click.echo(f"wrote {num} images, {CSV_NAME} and {INFO_NAME} to {path}")
