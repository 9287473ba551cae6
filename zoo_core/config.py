"""Validate a config mapping (from TOML or JSON) into an architecture's config dataclass."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from .errors import ConfigError

__all__ = ["build_config", "config_to_dict"]

C = TypeVar("C")


def _check_value(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _check_value(value, option, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match {annotation}")
    if annotation is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected None, got {value!r}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__} {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            items = [_check_value(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args))]
        else:
            item_type = args[0] if args else Any
            items = [_check_value(v, item_type, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {type(value).__name__} {value!r}")
    if annotation in (int, str, bool):
        if isinstance(value, annotation) and not (annotation is int and isinstance(value, bool)):
            return value
        raise ConfigError(f"{where}: expected {annotation.__name__}, got {type(value).__name__} {value!r}")
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation) and isinstance(value, Mapping):
        return build_config(annotation, value, where=where)
    if isinstance(annotation, type) and isinstance(value, annotation):
        return value
    raise ConfigError(f"{where}: cannot check {value!r} against {annotation}")


def build_config(config_class: type[C], values: Mapping[str, Any] | C, *, where: str = "config") -> C:
    """Return ``config_class(**values)`` after checking names and types.

    Unknown keys and wrongly typed values raise ``ConfigError`` naming the field; lists are
    accepted for tuple fields (TOML and JSON have no tuples). A dataclass instance passes.
    """
    if isinstance(values, config_class):
        return values
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(values).__name__}")
    hints = typing.get_type_hints(config_class)
    fields = {f.name: f for f in dataclasses.fields(config_class) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r} for {config_class.__name__}; "
                          f"known: {', '.join(sorted(fields))}")
    checked = {k: _check_value(v, hints[k], f"{where}.{k}") for k, v in values.items()}
    try:
        return config_class(**checked)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    def plain(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value
    return plain(dataclasses.asdict(config))
