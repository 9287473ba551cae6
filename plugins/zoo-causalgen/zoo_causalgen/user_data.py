"""A user's labelled images: a folder of images and a CSV of their attributes, checked.

``attributes.csv`` has a ``file`` column (names relative to the image folder) and one column per
attribute. Each attribute is *continuous*, *binary* (two values) or *categorical* (text, or at
most ``MAX_CATEGORIES`` distinct integers), detected from its values; ``categorical=`` forces
the last kind. Every problem is one ``InputError`` naming the file, the row or the column:
a missing image, an image of another size or mode than the first, an empty or NaN cell, a
constant column, a column named twice. numpy and Pillow only (no torch).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from zoo_core import InputError

__all__ = ["Attribute", "LabelledImages", "read_attributes", "read_images", "MAX_CATEGORIES", "KINDS"]

#: an all-integer column with at most this many distinct values is categorical (a digit's label)
MAX_CATEGORIES = 12
KINDS = ("continuous", "binary", "categorical")
_MISSING = {"", "na", "nan", "n/a", "none", "null", "?"}


@dataclass
class Attribute:
    """One attribute column: its kind and, for discrete kinds, its categories (the SCM's values
    are the category's number for numeric labels, its index for text labels)."""

    name: str
    kind: str
    categories: list[str] = field(default_factory=list)  # discrete kinds: the labels as written
    numeric_categories: bool = True

    @property
    def discrete(self) -> bool:
        return self.kind != "continuous"

    def values_of(self, labels: Sequence[str]) -> np.ndarray:
        """The SCM's float values of a discrete attribute's labels."""
        index = {label: i for i, label in enumerate(self.categories)}
        if self.numeric_categories:
            return np.array([float(label) for label in labels])
        return np.array([float(index[label]) for label in labels])

    def category_values(self) -> list[float]:
        """The SCM value of each category, in order."""
        return self.values_of(self.categories).tolist()


@dataclass
class LabelledImages:
    """The CSV's rows: image files, the attributes and their values (float64 per column)."""

    folder: Path
    files: list[Path]
    attributes: list[Attribute]
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.files)


def _numbers(cells: list[str]) -> list[float] | None:
    out = []
    for cell in cells:
        try:
            out.append(float(cell))
        except ValueError:
            return None
    return out


def _label(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def read_attributes(csv_path: Path, folder: Path, *, categorical: Sequence[str] = (),
                    columns: Sequence[str] | None = None) -> LabelledImages:
    """Read and check ``csv_path`` (rows naming images in ``folder``); see the module docstring."""
    csv_path, folder = Path(csv_path), Path(folder)
    if not csv_path.is_file():
        raise InputError(f"--attributes {csv_path}: no such file")
    if not folder.is_dir():
        raise InputError(f"--images {folder}: no such folder")
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{csv_path}: cannot read it as CSV ({exc})") from None
    if not rows or not rows[0]:
        raise InputError(f"{csv_path}: empty; the first row names the columns (file, then one per attribute)")
    header = [h.strip() for h in rows[0]]
    for i, name in enumerate(header):
        if header.index(name) != i:
            raise InputError(f"{csv_path}: column {name!r} appears twice in the header")
    if "file" not in header:
        raise InputError(f"{csv_path}: no 'file' column; the header must name the image files' column 'file'")
    wanted = [h for h in header if h != "file"] if columns is None else list(columns)
    for name in wanted:
        if name not in header or name == "file":
            raise InputError(f"--columns: {csv_path} has no column {name!r} (columns: {', '.join(header)})")
        if not name.isidentifier():
            raise InputError(f"{csv_path}: column {name!r} is not a name the graph can use (letters, digits, _)")
        if name == "image":
            raise InputError(f"{csv_path}: column 'image' is reserved for the image node of the graph; rename it")
    for name in categorical:
        if name not in wanted:
            raise InputError(f"--categorical: {name!r} is not an attribute column of {csv_path}")
    if not wanted:
        raise InputError(f"{csv_path}: no attribute columns besides 'file'")
    body = rows[1:]
    if not body:
        raise InputError(f"{csv_path}: a header but no rows")
    file_col = header.index("file")
    cells: dict[str, list[str]] = {name: [] for name in wanted}
    files: list[Path] = []
    for number, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(header):
            raise InputError(f"{csv_path}: row {number} has {len(row)} cells; the header has {len(header)}")
        name = row[file_col].strip()
        path = folder / name
        if not name or not path.is_file():
            raise InputError(f"{csv_path}: row {number}: image {name!r} is not in {folder}")
        files.append(path)
        for column in wanted:
            cell = row[header.index(column)].strip()
            if cell.lower() in _MISSING:
                raise InputError(f"{csv_path}: row {number}, column {column!r}: missing value {cell!r}; "
                                 "every image needs every attribute")
            cells[column].append(cell)
    attributes, values = [], {}
    for column in wanted:
        attribute, column_values = _detect(csv_path, column, cells[column], column in categorical)
        attributes.append(attribute)
        values[column] = column_values
    return LabelledImages(folder, files, attributes, values)


def _detect(csv_path: Path, column: str, cells: list[str], force_categorical: bool) -> tuple[Attribute, np.ndarray]:
    numbers = _numbers(cells)
    if numbers is not None:
        bad = next((i for i, v in enumerate(numbers) if not math.isfinite(v)), None)
        if bad is not None:
            raise InputError(f"{csv_path}: row {bad + 2}, column {column!r}: {cells[bad]!r} is not a finite number")
    distinct = sorted(set(numbers)) if numbers is not None else sorted(set(cells))
    if len(distinct) < 2:
        raise InputError(f"{csv_path}: column {column!r} is constant ({cells[0]!r} in every row); nothing can "
                         "cause or be caused by it: drop it (--columns) or give rows where it varies")
    integers = numbers is not None and all(float(v).is_integer() for v in distinct)
    if numbers is None or force_categorical or len(distinct) == 2 or (integers and len(distinct) <= MAX_CATEGORIES):
        kind = "binary" if len(distinct) == 2 else "categorical"
        if numbers is not None:
            labels = [_label(float(v)) for v in distinct]
            attribute = Attribute(column, kind, labels, numeric_categories=True)
            return attribute, np.asarray(numbers, dtype=np.float64)
        attribute = Attribute(column, kind, [str(v) for v in distinct], numeric_categories=False)
        return attribute, attribute.values_of(cells)
    return Attribute(column, "continuous"), np.asarray(numbers, dtype=np.float64)


def read_images(files: Sequence[Path], csv_path: Path | None = None) -> np.ndarray:
    """uint8 (N, H, W, C) pixels; every image must have the first one's size and mode."""
    from PIL import Image

    first_size: tuple[int, int] | None = None
    first_mode = ""
    out: np.ndarray | None = None
    for index, path in enumerate(files):
        try:
            with Image.open(path) as opened:
                image: Any = opened
                image.load()
                mode, size = image.mode, image.size
                if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
                    raise InputError(f"{path}: has an alpha channel; save the images without transparency")
                if mode == "P":
                    image, mode = image.convert("RGB"), "RGB"
                grey = mode in ("L", "1", "I", "I;16", "F")
                if not grey and mode != "RGB":
                    image, mode = image.convert("RGB"), "RGB"
                kind = "greyscale" if grey else "RGB"
                if first_size is None:
                    first_size, first_mode = size, kind
                    out = np.empty((len(files), size[1], size[0], 1 if grey else 3), dtype=np.uint8)
                elif size != first_size:
                    raise InputError(f"{path}: is {size[0]}x{size[1]} pixels; the images must all have the first "
                                     f"one's size, {first_size[0]}x{first_size[1]} ({files[0].name})")
                elif kind != first_mode:
                    raise InputError(f"{path}: is {kind}; the first image ({files[0].name}) is {first_mode}: "
                                     "convert the folder to one mode")
                if grey and mode != "L":
                    array = np.asarray(image, dtype=np.float64)
                    top = 255.0 if mode == "1" or array.max() <= 255 else 65535.0
                    pixels = np.clip(np.round(array * (255.0 / top) if mode != "1" else array * 255), 0, 255)
                    array8 = pixels.astype(np.uint8)
                else:
                    array8 = np.asarray(image, dtype=np.uint8)
        except InputError:
            raise
        except OSError as exc:
            raise InputError(f"{path}: cannot read the image ({exc})") from None
        assert out is not None
        out[index] = array8.reshape(out.shape[1:])
    if out is None:
        raise InputError(f"{csv_path or 'the CSV'}: no images")
    return out
