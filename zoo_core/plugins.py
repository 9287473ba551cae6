"""Discover plugins through entry points and build the catalogue of architectures and models.

Each entry point in the ``zoo`` group is loaded on its own, and everything a plugin
registers is staged and committed only if all its hooks succeed: a plugin that fails to
import, targets another plugin API, or whose hook raises is reported (one stderr line,
and ``zoo plugins`` shows why) and contributes nothing, while every other plugin works.
Two plugins claiming the same architecture, model or command name lose that name both.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .architectures import Architecture
from .errors import PluginError, RegistryError, UnknownArchitectureError
from .registry import ModelEntry, Registry, first_party_registry_path, parse_entry, parse_registry_file, user_registry_path

if TYPE_CHECKING:
    import click

__all__ = ["PLUGIN_API", "ENTRY_POINT_GROUP", "PluginInfo", "Catalogue", "get_catalogue", "reset", "warn"]

#: The plugin API this zoo-core implements; plugins declare ``ZOO_PLUGIN_API = 1``.
PLUGIN_API = 1
SUPPORTED_PLUGIN_APIS = frozenset({1})
ENTRY_POINT_GROUP = "zoo"
_HOOKS = ("register_architectures", "register_models", "register_commands")

_warned: set[str] = set()


def warn(message: str) -> None:
    """Print ``zoo: warning: MESSAGE`` on stderr, once per process."""
    if message not in _warned:
        _warned.add(message)
        print(f"zoo: warning: {message}", file=sys.stderr)


@dataclass
class PluginInfo:
    """What ``zoo plugins`` reports about one entry point."""

    name: str
    distribution: str
    version: str
    module: str
    status: str = "ok"  # ok | broken | incompatible
    error: str = ""
    api: Any = None
    hooks: list[str] = field(default_factory=list)
    architectures: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    load_seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.distribution} {self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "distribution": self.distribution, "version": self.version,
            "module": self.module, "status": self.status, "error": self.error or None,
            "plugin_api": self.api, "hooks": self.hooks, "architectures": self.architectures,
            "models": self.models, "commands": self.commands,
            "load_seconds": round(self.load_seconds, 4),
        }


@dataclass
class _Staged:
    architectures: list[Architecture] = field(default_factory=list)
    models: list[ModelEntry] = field(default_factory=list)
    commands: list[click.Command] = field(default_factory=list)


class Catalogue:
    """Everything the loaded plugins and registry files provide, with collisions resolved."""

    def __init__(self) -> None:
        self.plugins: list[PluginInfo] = []
        self.architectures: dict[str, Architecture] = {}
        self.commands: dict[str, click.Command] = {}
        #: architecture names dropped because several plugins registered them → who did
        self.collisions: dict[str, str] = {}
        self.registry = Registry({})
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)

    # -- lookups ---------------------------------------------------------------------
    def architecture(self, name: str) -> Architecture:
        try:
            return self.architectures[name]
        except KeyError:
            raise UnknownArchitectureError(f"no installed plugin provides architecture {name!r}") from None

    def plugin_for(self, distribution: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.distribution == distribution), None)

    def unavailable_reason(self, entry: ModelEntry) -> str | None:
        """Why ``entry`` cannot run here (its architecture is missing), or None."""
        if entry.architecture in self.architectures:
            return None
        if entry.architecture in self.collisions:
            return (f"architecture {entry.architecture!r} is registered by both {self.collisions[entry.architecture]}"
                    "; uninstall one of them")
        provider = entry.plugin
        info = self.plugin_for(provider) if provider else None
        if info is not None and info.status != "ok":
            return f"plugin {info.label} is {info.status}: {info.error}"
        if provider:
            return f"architecture {entry.architecture!r} comes from {provider}: pip install {provider}"
        return f"no installed plugin provides architecture {entry.architecture!r}"


def _selected(names: Iterable[str]) -> bool:
    allow = os.environ.get("ZOO_PLUGINS")
    if allow is None:
        return True
    wanted = {part.strip() for part in allow.split(",") if part.strip()}
    return any(name in wanted for name in names)


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    seen: set[tuple[str, str]] = set()
    found = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else "?"
        if (dist, ep.name) in seen:  # the same distribution twice on sys.path
            continue
        seen.add((dist, ep.name))
        found.append(ep)
    return sorted(found, key=lambda ep: ep.name)


def _stage_plugin(manager: pluggy.PluginManager, module: Any, info: PluginInfo) -> _Staged:
    """Call one plugin's hooks into a staging area; raises if any hook does."""
    import click

    staged = _Staged()

    def register_architecture(arch: Architecture) -> None:
        if not isinstance(arch, Architecture):
            raise PluginError(f"register_architectures: expected zoo_core.Architecture, got {type(arch).__name__}")
        staged.architectures.append(arch)

    def register_model(source: str | os.PathLike[str] | Mapping[str, Any]) -> None:
        origin = f"plugin {info.label}"
        if isinstance(source, Mapping):
            table = dict(source)
            name = table.pop("name", None)
            base = table.pop("base_dir", None)
            if not isinstance(name, str):
                raise RegistryError(f"{origin}: register_models: a dict entry needs a 'name' string")
            if base is not None and not Path(base).is_absolute():  # relative to the plugin, not the cwd
                base = Path(getattr(module, "__file__", ".")).resolve().parent / base
            staged.models.append(parse_entry(name, table, source=origin, base_dir=Path(base) if base else None))
        else:
            staged.models.extend(parse_registry_file(Path(source)))

    group = click.Group("zoo")
    arguments = {
        "register_architectures": {"register": register_architecture},
        "register_models": {"register": register_model},
        "register_commands": {"cli": group},
    }
    for hook_name in _HOOKS:
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            if impl.plugin is module:
                info.hooks.append(hook_name)
                kwargs = arguments[hook_name]
                impl.function(*[kwargs[arg] for arg in impl.argnames])
    for name, command in group.commands.items():
        if not isinstance(command, click.Command):
            raise PluginError(f"register_commands: {name!r} is not a click command, got {type(command).__name__}")
    staged.commands = list(group.commands.values())
    return staged


def _load_one(catalogue: Catalogue, ep: importlib.metadata.EntryPoint) -> tuple[PluginInfo, _Staged | None]:
    dist = ep.dist
    info = PluginInfo(ep.name, dist.name if dist else "?", dist.version if dist else "?", ep.value)
    start = time.perf_counter()
    try:
        # a plugin that prints while it loads must not break the one JSON document on stdout
        with contextlib.redirect_stdout(sys.stderr):
            module = ep.load()
        info.api = getattr(module, "ZOO_PLUGIN_API", None)
        if info.api not in SUPPORTED_PLUGIN_APIS:
            info.status = "incompatible"
            declared = "does not declare ZOO_PLUGIN_API" if info.api is None else f"targets plugin API {info.api!r}"
            info.error = f"{declared}; this zoo-core supports plugin API {PLUGIN_API}"
            return info, None
        # entry-point names are chosen by each plugin and may repeat across distributions
        catalogue.manager.register(module, name=f"{info.distribution}:{info.name}")
        try:
            with contextlib.redirect_stdout(sys.stderr):
                staged = _stage_plugin(catalogue.manager, module, info)
        except BaseException:
            catalogue.manager.unregister(module)
            raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - isolate whatever the plugin does wrong
        info.status, info.error = "broken", f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        return info, None
    finally:
        info.load_seconds = time.perf_counter() - start
    return info, staged


def _merge(kind: str, claims: dict[str, list[tuple[PluginInfo, Any]]],
           dropped: dict[str, str] | None = None) -> dict[str, tuple[PluginInfo, Any]]:
    """Keep names claimed once; drop (and report, and record in ``dropped``) names claimed twice."""
    kept = {}
    for name, owners in claims.items():
        if len(owners) == 1:
            kept[name] = owners[0]
        else:
            labels = " and ".join(dict.fromkeys(info.label for info, _ in owners))
            warn(f"{kind} {name!r} is registered by both {labels}; ignoring it from all of them")
            if dropped is not None:
                dropped[name] = labels
    return kept


def _build() -> Catalogue:
    catalogue = Catalogue()
    loaded: list[tuple[PluginInfo, _Staged]] = []
    for ep in _entry_points():
        if not _selected((ep.name, ep.dist.name if ep.dist else "")):
            continue
        info, staged = _load_one(catalogue, ep)
        catalogue.plugins.append(info)
        if staged is None:
            warn(f"plugin {info.label} ({info.name}) is {info.status}: {info.error}")
        else:
            loaded.append((info, staged))

    arch_claims: dict[str, list] = {}
    model_claims: dict[str, list] = {}
    command_claims: dict[str, list] = {}
    for info, staged in loaded:
        for arch in staged.architectures:
            arch_claims.setdefault(arch.name, []).append((info, arch))
        for entry in staged.models:
            model_claims.setdefault(entry.name, []).append((info, entry))
        for command in staged.commands:
            command_claims.setdefault(command.name, []).append((info, command))

    for name, (info, arch) in _merge("architecture", arch_claims, catalogue.collisions).items():
        object.__setattr__(arch, "plugin", info.distribution)
        catalogue.architectures[name] = arch
        info.architectures.append(name)
    for name, (info, command) in _merge("command", command_claims).items():
        catalogue.commands[name] = command
        info.commands.append(name)

    entries: dict[str, ModelEntry] = {}
    registry_path = first_party_registry_path()
    if registry_path.exists():
        for entry in parse_registry_file(registry_path):
            entries[entry.name] = entry
    for name, (info, entry) in _merge("model", model_claims).items():
        if name in entries:
            warn(f"model {name!r} from plugin {info.label} clashes with zoo's registry.toml; ignoring the plugin's")
            continue
        if not entry.plugin:
            entry = replace(entry, plugin=info.distribution)
        entries[name] = entry
        info.models.append(name)
    user_path = user_registry_path()
    if user_path is not None:
        if not user_path.is_file():
            raise RegistryError(f"ZOO_REGISTRY={user_path}: no such file; unset ZOO_REGISTRY or fix the path")
        for entry in parse_registry_file(user_path):
            if entry.name in entries:
                print(f"zoo: note: {user_path} overrides model {entry.name!r} from {entries[entry.name].source}",
                      file=sys.stderr)
            entries[entry.name] = entry
    catalogue.registry = Registry(entries)
    return catalogue


_catalogue: Catalogue | None = None


def get_catalogue() -> Catalogue:
    """Load plugins and registries once per process and return the result."""
    global _catalogue
    if _catalogue is None:
        _catalogue = _build()
    return _catalogue


def reset() -> None:
    """Forget the loaded catalogue (tests, or after installing a plugin in-process)."""
    global _catalogue
    if _catalogue is not None:
        for info in _catalogue.plugins:
            plugin = _catalogue.manager.get_plugin(f"{info.distribution}:{info.name}")
            if plugin is not None:
                _catalogue.manager.unregister(plugin)
    _catalogue = None
    _warned.clear()
