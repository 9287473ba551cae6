"""Registry entries: where a model's weights live, what made them, and how good they are.

Entries come from three places, merged in this order: zoo's own ``registry.toml``, the
entries plugins register, and the user's file named by ``ZOO_REGISTRY``, which overrides
same-named entries (with a note on stderr). Every field is validated on load and errors
name the file, the entry and the field. The schema is documented in README.md.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .architectures import NAME
from .errors import RegistryError, UnknownModelError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["ModelEntry", "Weights", "Metric", "Registry", "parse_registry_file", "parse_entry"]

_TASK = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_DRIVE = re.compile(r"^[A-Za-z]:")
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
_ENTRY_FIELDS = {
    "architecture", "task", "description", "plugin", "config", "weights", "license",
    "dataset", "metrics", "recipe", "classes", "tags",
}
_WEIGHTS_FIELDS = {"filename", "size", "sha256", "bundled", "repo_id", "revision"}
_METRIC_FIELDS = {"value", "how", "unit"}


@dataclass(frozen=True)
class Weights:
    """Where a weights file lives and what it must hash to."""

    filename: str
    size: int
    sha256: str
    bundled: Path | None = None
    repo_id: str | None = None
    revision: str | None = None


@dataclass(frozen=True)
class Metric:
    """A measured number with the command or method that reproduces it."""

    value: float
    how: str
    unit: str = ""


@dataclass(frozen=True)
class ModelEntry:
    """One validated registry entry."""

    name: str
    architecture: str
    task: str
    description: str
    source: str
    plugin: str = ""  # the distribution that provides the architecture (install hint)
    config: Mapping[str, Any] = field(default_factory=dict)
    weights: Weights | None = None
    license: str = ""
    dataset: str = ""
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    recipe: str = ""
    classes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (paths as strings), as ``zoo info --json`` prints it."""
        weights = None
        if self.weights is not None:
            w = self.weights
            weights = {
                "filename": w.filename, "size": w.size, "sha256": w.sha256,
                "bundled": str(w.bundled) if w.bundled else None,
                "repo_id": w.repo_id, "revision": w.revision,
            }
        return {
            "name": self.name, "architecture": self.architecture, "task": self.task,
            "description": self.description, "plugin": self.plugin, "source": self.source,
            "config": dict(self.config), "weights": weights, "license": self.license,
            "dataset": self.dataset,
            "metrics": {k: {"value": m.value, "how": m.how, "unit": m.unit} for k, m in self.metrics.items()},
            "recipe": self.recipe, "classes": list(self.classes), "tags": list(self.tags),
        }


class _Checker:
    """Builds error messages that name the source, the entry and the field."""

    def __init__(self, source: str, name: str) -> None:
        self.source, self.name = source, name

    def fail(self, where: str, problem: str) -> RegistryError:
        path = f"models.{self.name}" + (f".{where}" if where else "")
        return RegistryError(f"{self.source}: {path}: {problem}")

    def typed(self, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str = "",
              required: bool = False, default: Any = None) -> Any:
        loc = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(loc, "missing required field")
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(loc, f"expected {names}, got {type(value).__name__} {value!r}")
        return value

    def unknown(self, table: Mapping[str, Any], allowed: set[str], where: str = "") -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(sorted(allowed))})"
                raise self.fail(f"{where}.{key}" if where else key, "unknown field" + extra)


def _relative_name(check: _Checker, value: str, where: str) -> str:
    if not value or value.startswith("/") or "\\" in value or ".." in value.split("/") or _DRIVE.match(value):
        raise check.fail(where, f"{value!r} must be a relative path inside the repository, without '..'")
    return value


def _parse_weights(check: _Checker, table: Any, base_dir: Path | None) -> Weights:
    if not isinstance(table, Mapping):
        raise check.fail("weights", f"expected a table, got {type(table).__name__}")
    check.unknown(table, _WEIGHTS_FIELDS, "weights")
    filename = _relative_name(check, check.typed(table, "filename", str, "weights", required=True), "weights.filename")
    if not filename.endswith(".safetensors"):
        raise check.fail("weights.filename", f"{filename!r} is not a .safetensors file; zoo loads safetensors only")
    size = check.typed(table, "size", int, "weights", required=True)
    if size <= 0:
        raise check.fail("weights.size", f"must be a positive number of bytes, got {size}")
    sha256 = check.typed(table, "sha256", str, "weights", required=True)
    if not _SHA256.fullmatch(sha256):
        raise check.fail("weights.sha256", f"expected 64 lower-case hex characters, got {sha256!r}")
    bundled_raw = check.typed(table, "bundled", str, "weights")
    bundled = None
    if bundled_raw is not None:
        _relative_name(check, bundled_raw, "weights.bundled")
        if base_dir is None:
            raise check.fail("weights.bundled", "a bundled path needs the directory it is relative to")
        bundled = (base_dir / bundled_raw).resolve()
    repo_id = check.typed(table, "repo_id", str, "weights")
    revision = check.typed(table, "revision", str, "weights")
    if repo_id is not None and not _REPO_ID.fullmatch(repo_id):
        raise check.fail("weights.repo_id", f"expected 'owner/name', got {repo_id!r}")
    if (repo_id is None) != (revision is None):
        raise check.fail("weights", "repo_id and revision go together: give both or neither")
    if revision is not None and not _COMMIT.fullmatch(revision):
        raise check.fail(
            "weights.revision", f"must be a full 40-hex commit sha (a branch or tag can move), got {revision!r}"
        )
    if bundled is None and repo_id is None:
        raise check.fail("weights", "needs a bundled copy, a repo_id + revision, or both")
    return Weights(filename, size, sha256, bundled, repo_id, revision)


def _parse_metrics(check: _Checker, table: Any) -> dict[str, Metric]:
    if not isinstance(table, Mapping):
        raise check.fail("metrics", f"expected a table, got {type(table).__name__}")
    metrics = {}
    for key, value in table.items():
        where = f"metrics.{key}"
        if not isinstance(value, Mapping):
            raise check.fail(where, "expected a table with 'value' and 'how'")
        check.unknown(value, _METRIC_FIELDS, where)
        number = check.typed(value, "value", (int, float), where, required=True)
        how = check.typed(value, "how", str, where, required=True)
        unit = check.typed(value, "unit", str, where, default="")
        metrics[key] = Metric(float(number), how, unit)
    return metrics


def _string_list(check: _Checker, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = check.typed(table, key, list, default=[])
    for i, item in enumerate(values):
        if not isinstance(item, str):
            raise check.fail(f"{key}[{i}]", f"expected str, got {type(item).__name__}")
    return tuple(values)


def parse_entry(name: str, table: Any, *, source: str, base_dir: Path | None) -> ModelEntry:
    """Validate one ``[models.NAME]`` table into a ``ModelEntry``."""
    check = _Checker(source, name if isinstance(name, str) else repr(name))
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise check.fail("", "entry names must match [a-z0-9][a-z0-9._-]* (lower case, nothing else)")
    if not isinstance(table, Mapping):
        raise check.fail("", f"expected a table, got {type(table).__name__}")
    check.unknown(table, _ENTRY_FIELDS)
    # which tasks exist depends on the installed plugins: the catalogue marks an entry whose
    # task no plugin registers as unavailable (naming what to install) rather than failing here
    task = check.typed(table, "task", str, required=True)
    if not _TASK.fullmatch(task):
        raise check.fail("task", f"{task!r} is not a task name (lower-case words joined by dashes, e.g. 'generator')")
    architecture = check.typed(table, "architecture", str, required=True)
    if not NAME.fullmatch(architecture):
        raise check.fail("architecture", f"{architecture!r} is not an architecture name ([a-z0-9][a-z0-9._-]*)")
    weights_table = table.get("weights")
    return ModelEntry(
        name=name,
        architecture=architecture,
        task=task,
        description=check.typed(table, "description", str, required=True),
        source=source,
        plugin=check.typed(table, "plugin", str, default=""),
        config=dict(check.typed(table, "config", dict, default={})),
        weights=None if weights_table is None else _parse_weights(check, weights_table, base_dir),
        license=check.typed(table, "license", str, default=""),
        dataset=check.typed(table, "dataset", str, default=""),
        metrics=_parse_metrics(check, table.get("metrics", {})),
        recipe=check.typed(table, "recipe", str, default=""),
        classes=_string_list(check, table, "classes"),
        tags=_string_list(check, table, "tags"),
    )


def parse_registry_file(path: Path) -> list[ModelEntry]:
    """Read a registry TOML file: ``[models.NAME]`` tables, bundled paths relative to it."""
    source = str(path)
    document = _read_toml(Path(path))
    unknown = set(document) - {"models"}
    if unknown:
        raise RegistryError(f"{source}: unknown top-level key {sorted(unknown)[0]!r}; entries go under [models.NAME]")
    models = document.get("models", {})
    if not isinstance(models, dict):
        raise RegistryError(f"{source}: 'models' must be a table of [models.NAME] entries")
    base_dir = Path(path).resolve().parent
    return [parse_entry(name, table, source=source, base_dir=base_dir) for name, table in models.items()]


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, through a JSON copy keyed by path, size and mtime.

    tomllib is pure Python and parsing a 200-entry registry costs ~25 ms of every
    ``zoo list``; the JSON copy loads in a fraction of that. The document is validated
    the same way either way; a cache that cannot be read or written is simply skipped.
    """
    source = str(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise RegistryError(f"{source}: cannot read registry file: {exc.strerror or exc}") from exc
    resolved = str(path.resolve())
    stamp: list[Any] = [resolved, stat.st_size, stat.st_mtime_ns]
    cache = _toml_cache_path(resolved)
    try:
        cached = json.loads(cache.read_text())
        if cached.get("stamp") == stamp:
            return cached["document"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    try:
        document = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise RegistryError(f"{source}: cannot read registry file: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{source}: invalid TOML: {exc}") from exc
    _write_toml_cache(cache, stamp, document)
    return document


def _toml_cache_path(resolved: str) -> Path:
    import hashlib

    from .paths import zoo_cache_dir

    return zoo_cache_dir() / "registry" / (hashlib.sha1(resolved.encode()).hexdigest() + ".json")


def _write_toml_cache(cache: Path, stamp: list, document: dict[str, Any]) -> None:
    from .atomic import write_atomic

    try:
        text = json.dumps({"stamp": stamp, "document": document})
    except (TypeError, ValueError):
        return  # TOML dates and times have no JSON form; such files are parsed each time
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cache, text)
    except OSError:
        pass


class Registry:
    """The merged set of entries, looked up by name."""

    def __init__(self, entries: Mapping[str, ModelEntry]) -> None:
        self._entries = dict(sorted(entries.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> ModelEntry:
        """The entry called ``name``, or the run folder at path ``name``; ``UnknownModelError``
        with a did-you-mean otherwise."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            from .run_folders import entry_from_folder, looks_like_folder

            if looks_like_folder(name):  # a folder zoo train wrote is a model too
                return entry_from_folder(name)
            close = close_names(str(name), list(self._entries))
            hint = f"; did you mean {', '.join(close)}?" if close else "; run 'zoo list' to see the models"
            raise UnknownModelError(f"unknown model {name!r}{hint}") from None

    def search(self, pattern: str | None = None, task: str | None = None) -> list[ModelEntry]:
        """Entries whose name matches ``pattern`` (a glob, or else a substring) and ``task``."""
        found = []
        for entry in self._entries.values():
            if task is not None and entry.task != task:
                continue
            if pattern:
                p = pattern.lower()
                if any(c in p for c in "*?["):
                    if not fnmatch.fnmatchcase(entry.name, p):
                        continue
                elif p not in entry.name and p not in entry.description.lower():
                    continue
            found.append(entry)
        return found


_NON_COMMERCIAL = re.compile(r"(^|[-_ ])nc([-_ ]|$)|non-?commercial", re.IGNORECASE)
#: What zoo says about weights whose licence forbids commercial use, before it downloads them.
NON_COMMERCIAL_NOTE = "its licence allows non-commercial use only: check it before you use the output"


def non_commercial(license: str) -> bool:
    """Whether a licence id (``cc-by-nc-sa-4.0``, ``CC-BY-NC-4.0``, "non-commercial") forbids commercial use."""
    return bool(_NON_COMMERCIAL.search(license or ""))


def close_names(name: str, names: list[str], n: int = 3) -> list[str]:
    """Names close to ``name``: whole-name matches, or a typo in one dash-separated part.

    ``dcgn`` is far from ``dcgan-fashion`` as a whole (difflib ratio 0.47) but one letter from
    its first part, which is how people misremember model names.
    """
    typed = name.strip().lower()
    scores: dict[str, float] = {}
    for candidate in names:
        parts = candidate.split("-")
        prefixes = ["-".join(parts[:i]) for i in range(1, len(parts) + 1)]
        best = max(difflib.SequenceMatcher(None, typed, option).ratio() for option in [candidate, *prefixes])
        if typed and (candidate.startswith(typed) or typed in candidate):
            best = max(best, 0.8)
        if best >= 0.75 or difflib.SequenceMatcher(None, typed, candidate).ratio() >= 0.6:
            scores[candidate] = best
    return sorted(scores, key=lambda c: (-scores[c], c))[:n]


def user_registry_path() -> Path | None:
    """The file named by ``ZOO_REGISTRY``, if set."""
    value = os.environ.get("ZOO_REGISTRY", "").strip()
    return Path(value).expanduser() if value else None


def first_party_registry_path() -> Path:
    """zoo's own registry.toml: packaged in a wheel, at the repository top in a checkout."""
    packaged = Path(__file__).resolve().parent / "registry.toml"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parent.parent / "registry.toml"
