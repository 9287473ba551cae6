"""Data as users hold it: a CSV path, a Stata or Parquet file, a pandas DataFrame, or a
mapping of column name to values, all read into one ``Table``.

pandas stays optional: it is imported only for a DataFrame (which the caller already has)
or for a file format only pandas reads (``.dta``, ``.parquet``, ``.feather``); the error
says how to install it. Values become the strings a CSV would hold, so every later step
(missing values, text levels, ``--categorical``) behaves the same whatever the source.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from zoo_core import InputError

from .table import MISSING, Table, read_table, table_from_cells

__all__ = ["load_table", "PANDAS_SUFFIXES"]

#: File types read through pandas (the rest are read as CSV).
PANDAS_SUFFIXES = {".dta": "read_stata", ".parquet": "read_parquet", ".feather": "read_feather"}


def load_table(data: Any, *, weight_column: str | None = None,
               categorical: str | list[str] | tuple[str, ...] | None = None) -> Table:
    """A ``Table`` from a path (CSV, TSV, .dta, .parquet, .feather), a pandas DataFrame or a
    mapping of column -> sequence of values."""
    if isinstance(data, Table):
        return data
    if isinstance(data, (str, Path)):
        path = Path(data)
        reader = PANDAS_SUFFIXES.get(path.suffix.lower())
        if reader is None:
            return read_table(path, weight_column=weight_column, categorical=categorical)
        if not path.is_file():
            raise InputError(f"--data {path}: no such file")
        pandas = _pandas(f"--data {path}: reading {path.suffix} files")
        try:
            frame = getattr(pandas, reader)(path)
        except ImportError as error:  # parquet without pyarrow, say
            raise InputError(f"--data {path}: pandas cannot read {path.suffix} here ({error}); "
                             "install what it names, or save the data as CSV") from None
        except Exception as error:  # a damaged or mislabelled file
            raise InputError(f"--data {path}: not a readable {path.suffix} file ({error})") from None
        return _from_columns(path, _frame_columns(frame), weight_column, categorical)
    if _is_frame(data):
        return _from_columns(Path("DataFrame"), _frame_columns(data), weight_column, categorical)
    if isinstance(data, Mapping):
        columns = {str(k): np.asarray(v) for k, v in data.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InputError(f"data: the columns have different lengths ({', '.join(map(str, sorted(lengths)))}); "
                             "give one value per row in every column")
        return _from_columns(Path("data"), columns, weight_column, categorical)
    raise InputError(f"data: got a {type(data).__name__}; give a CSV/.dta/.parquet path, a pandas DataFrame "
                     "or a mapping of column name to values")


def _pandas(what: str) -> Any:
    try:
        import pandas  # type: ignore[import-untyped]
    except ImportError:
        raise InputError(f"{what} needs pandas: pip install pandas (or save the data as CSV)") from None
    return pandas


def _is_frame(data: Any) -> bool:
    return hasattr(data, "columns") and hasattr(data, "to_numpy") and hasattr(data, "__getitem__")


def _frame_columns(frame: Any) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for name in frame.columns:
        key = str(name)
        if key in columns:
            raise InputError(f"data: two columns are named {key!r}; name every column once")
        series = frame[name]
        dtype = str(getattr(series, "dtype", ""))
        values = series.to_numpy(dtype=object) if dtype in ("category", "string", "object", "str") \
            else series.to_numpy()
        columns[key] = values
    return columns


def _text(value: Any) -> str:
    """One cell as the text a CSV would hold ('' for missing; booleans as 0/1)."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (float, np.floating)):
        return "" if not math.isfinite(float(value)) else repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    return "" if text.lower() in MISSING or text in ("<NA>", "NaT") else text


def _from_columns(label: Path, columns: dict[str, np.ndarray], weight_column: str | None,
                  categorical: Any) -> Table:
    if not columns:
        raise InputError(f"{label}: no columns")
    names = list(columns)
    n = len(next(iter(columns.values())))
    if n == 0:
        raise InputError(f"{label}: no rows")
    cells = {}
    for name, values in columns.items():
        if values.dtype.kind in "iu":
            cells[name] = values.astype(str).astype(object)
        elif values.dtype.kind == "f":
            text = np.array([repr(float(v)) for v in values], dtype=object)
            text[~np.isfinite(values)] = ""
            cells[name] = text
        else:
            cells[name] = np.array([_text(v) for v in values], dtype=object)
    return table_from_cells(label, names, cells, weight_column=weight_column, categorical=categorical)
