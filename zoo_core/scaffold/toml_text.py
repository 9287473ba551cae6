"""Write registry entries as TOML text (the standard library reads TOML but cannot write it)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["entry_toml", "toml_value"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    """One TOML value: strings, numbers, booleans, lists and (inline) tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ("-" if value < 0 else "") + ("inf" if math.isinf(value) else "nan")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def entry_toml(name: str, table: Mapping[str, Any]) -> str:
    """``[models.NAME]`` with its scalar fields, then its ``weights`` and ``metrics.*`` sub-tables."""
    head = f"models.{_key(name)}"
    lines = [f"[{head}]"]
    for key, value in table.items():
        if key not in ("weights", "metrics"):
            lines.append(f"{_key(key)} = {toml_value(value)}")
    if table.get("weights"):
        lines.append(f"\n[{head}.weights]")
        lines.extend(f"{_key(k)} = {toml_value(v)}" for k, v in table["weights"].items() if v is not None)
    for metric, fields in (table.get("metrics") or {}).items():
        lines.append(f"\n[{head}.metrics.{_key(metric)}]")
        lines.extend(f"{_key(k)} = {toml_value(v)}" for k, v in fields.items())
    return "\n".join(lines) + "\n"
