"""Reading a CSV data set: named columns, missing values, optional row weights.

Shared by estimation and discovery. Values stay strings until a caller asks for them as
numbers or as discrete codes, so '1' and '1.0' can be matched numerically and text levels
work too.

A column is numbers when every value is a finite number, and categories (text levels) when no
value is; ``True``/``False`` written consistently are categories like any text. A column
mixing the two ('two', '3.5', 'True') is refused when it is used, naming examples of each,
unless the caller declares it categorical (``--categorical``): then every value is a category,
compared as written ('1' and '1.0' are two levels).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
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
    categorical: frozenset[str] = frozenset()  # columns declared categories (--categorical)
    _kinds: dict[str, str] = field(default_factory=dict, repr=False, compare=False)  # "number", "text", "mixed"
    _gaps: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)  # missing-value masks

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
        empty = [n for n in names if self.n_rows and self.missing(n).all()]
        if empty:
            raise InputError(f"{self.path}: column {empty[0]!r} has no values (every cell is empty or NA); "
                             "fill it in or drop it")

    def present(self, names) -> np.ndarray:
        """Rows where every one of ``names`` has a value."""
        keep = np.ones(self.n_rows, dtype=bool)
        for name in names:
            keep &= ~self.missing(name)
        return keep

    def missing(self, name: str) -> np.ndarray:
        """Rows where column ``name`` has no value (computed once per column)."""
        if name not in self._gaps:
            self._gaps[name] = _missing(self.cells[name])
        return self._gaps[name]

    def require_rows(self, used: int, needed: int, what: str, advice: str, prefix: str = "") -> None:
        """Fail with one line when ``used`` rows (those complete in the columns used) are fewer
        than ``needed``: '<path> has 1 row; <what, with its verb> at least 2 rows; <advice>'."""
        if used >= needed:
            return
        have = _count(self.n_rows, "row") + ("" if used == self.n_rows else f", {used} of them complete")
        raise InputError(f"{prefix}{self.path} has {have}; {what} at least {_count(needed, 'row')}; {advice}")

    def is_categorical(self, name: str) -> bool:
        """Whether column ``name`` holds categories (text, or declared --categorical) rather than
        numbers; a column mixing numbers and text is a one-line error (unless declared)."""
        if name in self.categorical:
            return True
        kind = self.kind(name)
        if kind == "mixed":
            uniques, first = np.unique(self.cells[name][~self.missing(name)], return_index=True)
            ordered = list(uniques[np.argsort(first)])  # in the order the file has them
            numbers = [v for v in ordered if _as_number(v) is not None]
            texts = [v for v in ordered if _as_number(v) is None]
            raise InputError(f"--data {self.path}: column {name!r} mixes numbers ({_examples(numbers)}) and text "
                             f"({_examples(texts)}); make every value a number, or pass --categorical {name} to "
                             "read all its values as categories")
        return kind == "text"

    def kind(self, name: str) -> str:
        """What column ``name``'s values are, whatever was declared: "number" (every value a
        finite number), "text" (none is) or "mixed"."""
        if name not in self._kinds:
            numbers = [_as_number(v) is not None for v in np.unique(self.cells[name][~self.missing(name)])]
            self._kinds[name] = "number" if all(numbers) else "text" if not any(numbers) else "mixed"
        return self._kinds[name]

    def levels(self, name: str, limit: int = 3) -> tuple[int, str]:
        """How many distinct values column ``name`` has, and the first ``limit`` of them, quoted."""
        uniques, first = np.unique(self.cells[name][~self.missing(name)], return_index=True)
        return len(uniques), _examples(list(uniques[np.argsort(first)]), limit, quote=True)

    def numeric(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Column ``name`` as float64 (over ``rows``); one-line error if a value is not a number."""
        values = self.cells[name] if rows is None else self.cells[name][rows]
        if name in self.categorical:
            raise InputError(f"{self.path}: column {name!r} is declared --categorical, so its values are "
                             "categories, not numbers; leave it out of --categorical to use it as numbers")
        try:
            return values.astype(np.float64)
        except ValueError:
            self.is_categorical(name)  # a column that mixes numbers and text says so
            bad = next(v for v in values if _as_number(v) is None)
            raise InputError(f"{self.path}: column {name!r} holds {bad!r}, which is not a number") from None

    def is_numeric(self, name: str, rows: np.ndarray | None = None) -> bool:
        """Whether column ``name`` is numbers (judged on the whole column: ``rows`` is ignored)."""
        return not self.is_categorical(name)

    def discrete(self, name: str, rows: np.ndarray | None = None) -> tuple[np.ndarray, list]:
        """Column ``name`` as integer codes and its sorted levels (numbers when all are numbers)."""
        values = self.cells[name] if rows is None else self.cells[name][rows]
        uniques, codes = np.unique(values, return_inverse=True)
        numbers = [] if self.is_categorical(name) else [_as_number(v) for v in uniques]
        if numbers and all(n is not None for n in numbers):
            # '1' and '1.0' are one level; order levels by value, not as text
            merged = sorted({n for n in numbers if n is not None})
            index = {v: i for i, v in enumerate(merged)}
            remap = np.array([index[n] for n in numbers if n is not None], dtype=np.int64)  # (none is None)
            return remap[codes], [_tidy(v) for v in merged]
        return codes.astype(np.int64), [str(u) for u in uniques]


def read_table(path: str | Path, *, weight_column: str | None = None,
               categorical: str | list[str] | tuple[str, ...] | None = None) -> Table:
    """Read ``path`` (CSV with a header row); ``weight_column`` gives non-negative row weights;
    ``categorical`` (a list, or comma-separated text) names columns read as categories.

    A line with one field more than the header whose last field is empty (a trailing
    delimiter) is refused with the line and the fix; a header that ends with a delimiter too,
    with that last field empty on every line, is a trailing empty column and is dropped."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--data {path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(65536)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:  # e.g. lines of unequal length: the delimiter the header uses most
                dialect = _header_dialect(sample)
            reader = csv.reader(handle, dialect)
            rows, lines = [], []
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise InputError(f"--data {path}: not a UTF-8 text CSV file") from None
    except csv.Error as error:
        raise InputError(f"--data {path}: not a readable CSV file ({error})") from None
    if len(rows) < 2:
        raise InputError(f"--data {path}: needs a header row and at least one data row")
    delimiter = "tab" if dialect.delimiter == "\t" else repr(dialect.delimiter)
    header = [h.strip() for h in rows[0]]
    if len(header) > 1 and not header[-1] and all(h for h in header[:-1]):
        # 'X,Y,' over '1,0,' lines: a trailing delimiter on every line is an empty last column
        for row, line in zip(rows[1:], lines[1:]):
            if len(row) == len(header) and row[-1].strip():
                raise InputError(f"--data {path}: the header ends with a {delimiter}, leaving its last column "
                                 f"unnamed, but line {line} has {row[-1].strip()!r} there; name that column")
        header = header[:-1]
        rows = [rows[0][:-1]] + [row[:-1] if len(row) == len(header) + 1 else row for row in rows[1:]]
    if len(set(header)) != len(header) or any(not h for h in header):
        raise InputError(f"--data {path}: the header must name every column once (got {', '.join(header)})")
    for row, line in zip(rows[1:], lines[1:]):
        if len(row) == len(header) + 1 and not row[-1].strip():
            more = sum(len(r) == len(header) + 1 and not r[-1].strip() for r in rows[1:]) - 1
            also = f" (and {_count(more, 'more line')})" if more else ""
            raise InputError(f"--data {path}: line {line}{also} ends with a {delimiter}: a trailing delimiter gives "
                             f"it an extra empty field, {len(row)} fields to the header's {len(header)}; remove "
                             f"the trailing {delimiter}")
        if len(row) != len(header):
            raise InputError(f"--data {path}: line {line} has {len(row)} fields, the header {len(header)}")
    body = np.array([[cell.strip() for cell in row] for row in rows[1:]], dtype=object)
    return table_from_cells(path, header, {name: body[:, i] for i, name in enumerate(header)},
                            weight_column=weight_column, categorical=categorical)


def table_from_cells(path: Path, header: list[str], cells: dict[str, np.ndarray], *,
                     weight_column: str | None = None,
                     categorical: str | list[str] | tuple[str, ...] | None = None) -> Table:
    """A ``Table`` from columns of stripped strings (a CSV's, or a DataFrame's as text), with
    ``--categorical`` and ``--weight-column`` checked against them."""
    header = list(header)
    weights = np.ones(len(next(iter(cells.values()))) if cells else 0)
    declared = parse_columns(categorical)
    unknown = [c for c in declared if c not in cells]
    if unknown:
        raise InputError(f"--categorical {','.join(declared)}: {path} has no column {', '.join(map(repr, unknown))} "
                         f"(columns: {', '.join(header)})")
    if weight_column is not None:
        if weight_column not in cells:
            raise InputError(f"--weight-column {weight_column}: {path} has no such column "
                             f"(columns: {', '.join(header)})")
        if weight_column in declared:
            raise InputError(f"--categorical {','.join(declared)}: {weight_column!r} is the --weight-column, "
                             "which holds numbers (row weights), not categories")
        column = cells.pop(weight_column)
        header.remove(weight_column)
        numbers = [_as_number(v) for v in column]
        if any(n is None or n < 0 or not math.isfinite(n) for n in numbers):
            raise InputError(f"--weight-column {weight_column}: every weight must be a non-negative number")
        weights = np.array(numbers, dtype=np.float64)
    return Table(path, header, cells, weights, frozenset(declared))


class _Semicolon(csv.excel):
    delimiter = ";"


def _header_dialect(sample: str) -> type[csv.Dialect]:
    line = sample.splitlines()[0] if sample else ""
    counts = {",": line.count(","), ";": line.count(";"), "\t": line.count("\t")}
    best = max(counts, key=counts.__getitem__)
    if not counts[best] or best == ",":
        return csv.excel
    return csv.excel_tab if best == "\t" else _Semicolon


def parse_columns(text: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """'A, B' (or a list) -> ['A', 'B']: CSV column names for --categorical, spaces stripped."""
    if text is None:
        return []
    parts = text.split(",") if isinstance(text, str) else list(text)
    return [p.strip() for p in parts if p.strip()]


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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _examples(values: list[str], limit: int = 3, quote: bool = False) -> str:
    shown = [repr(v) if quote else v for v in values[:limit]]
    return ", ".join(shown) + (", ..." if len(values) > limit else "")
