"""Reading a CSV data set: named columns, missing values, optional row weights.

Shared by estimation and discovery. Values stay strings until a caller asks for them as
numbers or as discrete codes, so '1' and '1.0' can be matched numerically and text levels
work too.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo_core import InputError

#: Cell values read as missing (compared case-insensitively, after stripping spaces).
MISSING = frozenset({"", "na", "nan", "null", "none", "?"})


@dataclass
class Table:
    """A CSV file as columns of strings, with a per-row weight (1 unless a weight column)."""

    path: Path
    names: list[str]
    cells: dict[str, np.ndarray]  # column -> object array of stripped strings
    weights: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.weights)

    def require(self, names: list[str] | tuple[str, ...] | set[str]) -> None:
        """Fail with one line naming the columns the data lacks, or holds no value in (such a
        column would drop every row, and the error should name it rather than the rows)."""
        absent = [n for n in sorted(names) if n not in self.cells]
        if absent:
            raise InputError(f"{self.path}: no column {', '.join(map(repr, absent))} (columns: "
                             f"{', '.join(self.names)}); name the CSV columns after the graph's nodes")
        empty = [n for n in names if self.n_rows and _missing(self.cells[n]).all()]
        if empty:
            raise InputError(f"{self.path}: column {empty[0]!r} has no values (every cell is empty or NA); "
                             "fill it in or drop it")

    def present(self, names) -> np.ndarray:
        """Rows where every one of ``names`` has a value."""
        keep = np.ones(self.n_rows, dtype=bool)
        for name in names:
            keep &= ~_missing(self.cells[name])
        return keep

    def numeric(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Column ``name`` as float64 (over ``rows``); one-line error if a value is not a number."""
        values = self.cells[name] if rows is None else self.cells[name][rows]
        try:
            return values.astype(np.float64)
        except ValueError:
            bad = next(v for v in values if _as_number(v) is None)
            raise InputError(f"{self.path}: column {name!r} holds {bad!r}, which is not a number") from None

    def is_numeric(self, name: str, rows: np.ndarray | None = None) -> bool:
        values = self.cells[name] if rows is None else self.cells[name][rows]
        return all(_as_number(v) is not None for v in np.unique(values))

    def discrete(self, name: str, rows: np.ndarray | None = None) -> tuple[np.ndarray, list]:
        """Column ``name`` as integer codes and its sorted levels (numbers when all are numbers)."""
        values = self.cells[name] if rows is None else self.cells[name][rows]
        uniques, codes = np.unique(values, return_inverse=True)
        numbers = [_as_number(v) for v in uniques]
        if all(n is not None for n in numbers):
            # '1' and '1.0' are one level; order levels by value, not as text
            merged = sorted(set(numbers))
            index = {v: i for i, v in enumerate(merged)}
            remap = np.array([index[n] for n in numbers], dtype=np.int64)
            return remap[codes], [_tidy(v) for v in merged]
        return codes.astype(np.int64), [str(u) for u in uniques]


def read_table(path: str | Path, *, weight_column: str | None = None) -> Table:
    """Read ``path`` (CSV with a header row); ``weight_column`` gives non-negative row weights."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--data {path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(65536)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            rows = list(csv.reader(handle, dialect))
    except UnicodeDecodeError:
        raise InputError(f"--data {path}: not a UTF-8 text CSV file") from None
    except csv.Error as error:
        raise InputError(f"--data {path}: not a readable CSV file ({error})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise InputError(f"--data {path}: needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header) or any(not h for h in header):
        raise InputError(f"--data {path}: the header must name every column once (got {', '.join(header)})")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"--data {path}: line {number} has {len(row)} fields, the header {len(header)}")
    body = np.array([[cell.strip() for cell in row] for row in rows[1:]], dtype=object)
    cells = {name: body[:, i] for i, name in enumerate(header)}
    weights = np.ones(len(body))
    if weight_column is not None:
        if weight_column not in cells:
            raise InputError(f"--weight-column {weight_column}: {path} has no such column "
                             f"(columns: {', '.join(header)})")
        column = cells.pop(weight_column)
        header.remove(weight_column)
        numbers = [_as_number(v) for v in column]
        if any(n is None or n < 0 or not math.isfinite(n) for n in numbers):
            raise InputError(f"--weight-column {weight_column}: every weight must be a non-negative number")
        weights = np.array(numbers, dtype=np.float64)
    return Table(path, header, cells, weights)


def _missing(values: np.ndarray) -> np.ndarray:
    return np.array([v.lower() in MISSING for v in values], dtype=bool)


def _as_number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _tidy(value: float) -> int | float:
    """1.0 -> 1, so levels print the way people wrote them."""
    return int(value) if float(value).is_integer() else value
