"""Discover plugins through entry points and build the catalogue of architectures and models.

Each entry point in the ``zoo`` group is loaded on its own, and everything a plugin
registers is staged and committed only if all its hooks succeed: a plugin that fails to
import, targets another plugin API, marks a function as a hook that does not exist, or
whose hook raises is reported (one stderr line, and ``zoo plugins`` shows why) and
contributes nothing, while every other plugin works. Two plugins claiming the same task,
architecture, model or command name lose that name both. The core's own tasks come from a
built-in plugin (``zoo_core.tasks``) loaded the same way, before any other.
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
from .errors import PluginError, RegistryError, UnknownArchitectureError, UnknownModelError
from .registry import ModelEntry, Registry, first_party_registry_path, parse_entry, parse_registry_file, user_registry_path
from .task import Task

if TYPE_CHECKING:
    import click

__all__ = ["PLUGIN_API", "SUPPORTED_PLUGIN_APIS", "ENTRY_POINT_GROUP", "PluginInfo", "Catalogue", "get_catalogue",
           "reset", "warn", "canonical_distribution"]

#: The plugin API this zoo-core implements; plugins declare ``ZOO_PLUGIN_API = 3``.
#: API 2 added the ``register_tasks`` hook; API 3 the output service (``Task(outputs=...)``,
#: ``RunContext.plan_outputs``) and the standard options the core adds to a task. API 1 and 2
#: plugins (which declare those options themselves) keep working.
PLUGIN_API = 3
SUPPORTED_PLUGIN_APIS = frozenset({1, 2, 3})
ENTRY_POINT_GROUP = "zoo"
_HOOKS = ("register_tasks", "register_architectures", "register_models", "register_commands")
#: Hooks a plugin may implement only from this plugin API on.
_HOOK_SINCE = {"register_tasks": 2}
_BUILTIN_MODULE = "zoo_core.tasks"

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
    status: str = "ok"  # ok | conflict (loaded, but some of what it registers is not used) | broken | incompatible
    error: str = ""
    #: what the plugin registered but does not get (a name another plugin or the core also
    #: claims, an architecture of a task nobody registers): each makes its status "conflict"
    problems: list[str] = field(default_factory=list)
    api: Any = None
    builtin: bool = False
    hooks: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    architectures: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    load_seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.distribution} {self.version}"

    @property
    def failed(self) -> bool:
        """Whether the plugin did not load at all (broken or incompatible): it contributes nothing."""
        return self.status in ("broken", "incompatible")

    def lose(self, problem: str) -> None:
        """Record something this plugin registered but does not get; it is then not 'ok'."""
        self.problems.append(problem)
        if self.status == "ok":
            self.status = "conflict"
            self.error = problem

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "distribution": self.distribution, "version": self.version,
            "module": self.module, "status": self.status, "error": self.error or None, "problems": self.problems,
            "plugin_api": self.api, "builtin": self.builtin, "hooks": self.hooks, "tasks": self.tasks,
            "architectures": self.architectures,
            "models": self.models, "commands": self.commands,
            "load_seconds": round(self.load_seconds, 4),
        }


@dataclass
class _Staged:
    tasks: list[Task] = field(default_factory=list)
    architectures: list[Architecture] = field(default_factory=list)
    models: list[ModelEntry] = field(default_factory=list)
    commands: list[click.Command] = field(default_factory=list)


class Catalogue:
    """Everything the loaded plugins and registry files provide, with collisions resolved."""

    def __init__(self) -> None:
        self.plugins: list[PluginInfo] = []
        #: distributions installed but left out by ZOO_PLUGINS
        self.excluded: set[str] = set()
        self.tasks: dict[str, Task] = {}
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

    def model_class(self, arch: Architecture) -> type[Any]:
        """Import ``arch``'s model class and check it subclasses its task's interface."""
        task = self.task(arch.task)
        interface = task.interface_class()
        cls = arch.load_class()
        if not (isinstance(cls, type) and issubclass(cls, interface)):
            where = f"{interface.__module__}.{interface.__qualname__}".replace("zoo_core.interfaces.", "zoo_core.") \
                .replace("zoo_core.causal.", "zoo_core.")
            raise PluginError(f"architecture {arch.name!r} ({arch.plugin}): {arch.target} must subclass "
                              f"{where} for task {arch.task!r}")
        return cls

    def entry(self, name: str) -> ModelEntry:
        """The registry entry called ``name``. When there is none and a plugin failed to load, the
        ``UnknownModelError`` names the plugin that would provide it (found in the registry files
        its package ships, read without importing it), or the plugins that failed."""
        try:
            return self.registry.get(name)
        except UnknownModelError as exc:
            failed = [p for p in self.plugins if p.failed]
            provider = next((p for p in failed if name in _shipped_model_names(p.module)), None)
            if provider is not None:
                raise UnknownModelError(f"model {name!r} comes from plugin {provider.label}, which is "
                                        f"{provider.status}: {provider.error}") from None
            if failed:
                listed = "; ".join(f"{p.label} is {p.status}" for p in failed)
                raise UnknownModelError(f"{exc} (plugins that did not load and may provide it: {listed}; "
                                        "'zoo plugins' says why)") from None
            raise

    def task(self, name: str) -> Task:
        """The registered task called ``name``; a ``PluginError`` listing the registered ones otherwise."""
        try:
            return self.tasks[name]
        except KeyError:
            raise PluginError(f"no installed plugin registers task {name!r}; registered tasks: "
                              f"{', '.join(self.tasks) or 'none'}") from None

    def plugin_for(self, distribution: str) -> PluginInfo | None:
        wanted = canonical_distribution(distribution)
        return next((p for p in self.plugins if canonical_distribution(p.distribution) == wanted), None)

    def _missing(self, what: str, provider: str) -> str:
        """Why ``what`` is missing, naming ``provider`` to install only when it is not installed."""
        info = self.plugin_for(provider) if provider else None
        if info is None and provider and canonical_distribution(provider) in self.excluded:
            return f"{what} comes from {provider}, which is installed but left out by ZOO_PLUGINS"
        if info is not None and info.failed:
            return f"plugin {info.label} is {info.status}: {info.error}"
        if info is not None:
            return (f"{what} is not provided by {info.label}, which is installed; upgrade it "
                    f"(pip install -U {info.distribution}) or fix the entry")
        if provider:
            return f"{what} comes from {provider}: pip install {provider}"
        return f"no installed plugin provides {what}"

    def unavailable_reason(self, entry: ModelEntry) -> str | None:
        """Why ``entry`` cannot run here (its architecture or task is missing), or None."""
        arch = self.architectures.get(entry.architecture)
        if arch is None:
            if entry.architecture in self.collisions:
                return (f"architecture {entry.architecture!r} is registered by both "
                        f"{self.collisions[entry.architecture]}; uninstall one of them")
            return self._missing(f"architecture {entry.architecture!r}", entry.plugin)
        for task_name, provider in ((entry.task, entry.plugin), (arch.task, arch.plugin)):
            if task_name not in self.tasks:
                if task_name in self.collisions:
                    return f"task {task_name!r} is registered by both {self.collisions[task_name]}; uninstall one"
                return self._missing(f"task {task_name!r}", provider if provider != arch.plugin else "")
        return None

    def missing_plugins(self, entries: Iterable[ModelEntry]) -> list[str]:
        """The distributions to ``pip install`` for ``entries`` that are unavailable: never one installed."""
        wanted = {e.plugin for e in entries if e.plugin and self.unavailable_reason(e) is not None}
        return sorted(p for p in wanted if self.plugin_for(p) is None and canonical_distribution(p) not in self.excluded)


def _shipped_model_names(module: str) -> set[str]:
    """The model names in the ``*.toml`` registry files at the top of a plugin's package, found
    without importing it (a broken or incompatible plugin's hooks never ran)."""
    import importlib.util

    from .registry import _read_toml

    try:
        spec = importlib.util.find_spec(module.partition(":")[0].split(".")[0])
    except (ImportError, ValueError):
        return set()
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    names: set[str] = set()
    for folder in folders:
        for path in Path(folder).glob("*.toml"):
            try:
                models = _read_toml(path).get("models", {})
            except RegistryError:
                continue
            if isinstance(models, dict):
                names.update(models)
    return names


def canonical_distribution(name: str) -> str:
    """A distribution name as pip compares them: zoo_gan, Zoo.Gan and zoo-gan are the same."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _allowed() -> set[str] | None:
    """The plugin names ``ZOO_PLUGINS`` allows (entry-point or distribution names), or None for all."""
    allow = os.environ.get("ZOO_PLUGINS")
    if allow is None:
        return None
    return {part.strip() for part in allow.split(",") if part.strip()}


def _selected(names: Iterable[str], allowed: set[str] | None) -> bool:
    if allowed is None:
        return True
    wanted = {canonical_distribution(a) for a in allowed}
    return any(canonical_distribution(name) in wanted for name in names)


def _warn_unknown_selection(allowed: set[str] | None, eps: list[importlib.metadata.EntryPoint]) -> None:
    """``ZOO_PLUGINS`` naming a plugin that is not installed is a typo the user should see."""
    if not allowed:
        return
    known = {ep.name for ep in eps} | {ep.dist.name for ep in eps if ep.dist is not None} | {"core", "zoo-core"}
    known_canonical = {canonical_distribution(k) for k in known}
    for name in sorted(allowed):
        if name not in known and canonical_distribution(name) not in known_canonical:
            installed = ", ".join(f"{ep.name} ({ep.dist.name if ep.dist else '?'})" for ep in eps) or "none"
            warn(f"ZOO_PLUGINS names {name!r}, which is not an installed plugin; installed: {installed}")


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

    def register_task(task: Task) -> None:
        if not isinstance(task, Task):
            raise PluginError(f"register_tasks: expected zoo_core.Task, got {type(task).__name__}")
        staged.tasks.append(task)

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
    arguments: dict[str, dict[str, Any]] = {
        "register_tasks": {"register": register_task},
        "register_architectures": {"register": register_architecture},
        "register_models": {"register": register_model},
        "register_commands": {"cli": group},
    }
    for hook_name in _HOOKS:
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            if impl.plugin is module:
                since = _HOOK_SINCE.get(hook_name, 1)
                if isinstance(info.api, int) and info.api < since:
                    raise PluginError(f"{hook_name} needs ZOO_PLUGIN_API = {since} (the plugin declares "
                                      f"{info.api}); declare {since} and depend on zoo-core >= 0.2")
                info.hooks.append(hook_name)
                kwargs = arguments[hook_name]
                impl.function(*[kwargs[arg] for arg in impl.argnames])
    for name, command in group.commands.items():
        if not isinstance(command, click.Command):
            raise PluginError(f"register_commands: {name!r} is not a click command, got {type(command).__name__}")
    staged.commands = list(group.commands.values())
    return staged


def _unknown_hooks(manager: pluggy.PluginManager, module: Any, info: PluginInfo) -> None:
    """Raise for functions marked ``@zoo_core.hookimpl`` whose name is no zoo hook (a typo)."""
    callers = manager.get_hookcallers(module) or []
    unknown = sorted(caller.name for caller in callers if not caller.has_spec())
    if unknown:
        raise PluginError(f"{', '.join(repr(n) for n in unknown)} is marked @zoo_core.hookimpl but is no zoo hook "
                          f"(misspelled?); the hooks are {', '.join(_HOOKS)}")


def _load_one(catalogue: Catalogue, ep: importlib.metadata.EntryPoint) -> tuple[PluginInfo, _Staged | None]:
    dist = ep.dist
    info = PluginInfo(ep.name, dist.name if dist else "?", dist.version if dist else "?", ep.value)
    return _load_module(catalogue, info, ep.load)


def _load_module(catalogue: Catalogue, info: PluginInfo, load: Any) -> tuple[PluginInfo, _Staged | None]:
    """Import a plugin module with ``load()``, check its API and stage what its hooks register."""
    start = time.perf_counter()
    try:
        # a plugin that prints while it loads must not break the one JSON document on stdout
        with contextlib.redirect_stdout(sys.stderr):
            module = load()
        info.api = getattr(module, "ZOO_PLUGIN_API", None)
        if info.api not in SUPPORTED_PLUGIN_APIS:
            info.status = "incompatible"
            declared = "does not declare ZOO_PLUGIN_API" if info.api is None else f"targets plugin API {info.api!r}"
            info.error = f"{declared}; this zoo-core supports plugin API {PLUGIN_API}"
            return info, None
        # entry-point names are chosen by each plugin and may repeat across distributions
        catalogue.manager.register(module, name=f"{info.distribution}:{info.name}")
        try:
            _unknown_hooks(catalogue.manager, module, info)
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
            for info, _ in owners:
                others = " and ".join(dict.fromkeys(o.label for o, _ in owners if o is not info)) or "itself, twice"
                info.lose(f"{kind} {name!r} is also registered by {others}; neither is used")
    return kept


def _load_builtin(catalogue: Catalogue) -> tuple[PluginInfo, _Staged]:
    """The core's own tasks, registered through ``register_tasks`` like any plugin's."""
    import importlib

    from ._version import __version__

    info = PluginInfo("core", "zoo-core", __version__, _BUILTIN_MODULE, builtin=True)
    info, staged = _load_module(catalogue, info, lambda: importlib.import_module(_BUILTIN_MODULE))
    if staged is None:  # a bug in zoo itself, not a plugin's fault: say so loudly
        raise PluginError(f"zoo-core's built-in tasks failed to load: {info.error}")
    return info, staged


def _commit_tasks(catalogue: Catalogue, core: tuple[PluginInfo, _Staged],
                  loaded: list[tuple[PluginInfo, _Staged]]) -> None:
    core_info, core_staged = core
    for task in core_staged.tasks:
        object.__setattr__(task, "plugin", core_info.distribution)
        catalogue.tasks[task.name] = task
        core_info.tasks.append(task.name)
    claims: dict[str, list] = {}
    for info, staged in loaded:
        for task in staged.tasks:
            if task.name in catalogue.tasks:
                warn(f"task {task.name!r} from {info.label} is one of zoo-core's own tasks; ignoring the plugin's")
                info.lose(f"task {task.name!r} is one of zoo-core's own tasks; zoo-core's is used")
                continue
            claims.setdefault(task.name, []).append((info, task))
    for name, (info, task) in _merge("task", claims, catalogue.collisions).items():
        object.__setattr__(task, "plugin", info.distribution)
        catalogue.tasks[name] = task
        info.tasks.append(name)


def _build() -> Catalogue:
    catalogue = Catalogue()
    core = _load_builtin(catalogue)
    catalogue.plugins.append(core[0])
    loaded: list[tuple[PluginInfo, _Staged]] = []
    allowed = _allowed()
    eps = _entry_points()
    _warn_unknown_selection(allowed, eps)
    for ep in eps:
        if not _selected((ep.name, ep.dist.name if ep.dist else ""), allowed):
            if ep.dist is not None:
                catalogue.excluded.add(canonical_distribution(ep.dist.name))
            continue
        info, staged = _load_one(catalogue, ep)
        catalogue.plugins.append(info)
        if staged is None:
            warn(f"plugin {info.label} ({info.name}) is {info.status}: {info.error}")
        else:
            loaded.append((info, staged))

    _commit_tasks(catalogue, core, loaded)
    arch_claims: dict[str, list] = {}
    model_claims: dict[str, list] = {}
    command_claims: dict[str, list] = {}
    for info, staged in [core, *loaded]:
        for arch in staged.architectures:
            arch_claims.setdefault(arch.name, []).append((info, arch))
        for entry in staged.models:
            model_claims.setdefault(entry.name, []).append((info, entry))
        for command in staged.commands:
            command_claims.setdefault(command.name or "", []).append((info, command))

    for name, (info, arch) in _merge("architecture", arch_claims, catalogue.collisions).items():
        object.__setattr__(arch, "plugin", info.distribution)
        catalogue.architectures[name] = arch
        info.architectures.append(name)
        if arch.task in catalogue.collisions:
            info.lose(f"architecture {name!r} is a {arch.task!r}, a task lost to a collision "
                      f"({catalogue.collisions[arch.task]}); its models are unavailable")
        elif arch.task not in catalogue.tasks:
            warn(f"architecture {name!r} from {info.label} is a {arch.task!r}, a task no installed plugin registers; "
                 f"its models are unavailable (registered tasks: {', '.join(catalogue.tasks)})")
            info.lose(f"architecture {name!r} is a {arch.task!r}, a task no installed plugin registers; "
                      "its models are unavailable")
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
            info.lose(f"model {name!r} is also in zoo's registry.toml; zoo's entry is used")
            continue
        if not entry.plugin:
            entry = replace(entry, plugin=info.distribution)
        entries[name] = entry
        info.models.append(name)
    user_path = user_registry_path()
    if user_path is not None and not user_path.exists():
        if not _creating_user_registry:  # a typo in ZOO_REGISTRY would otherwise run with the wrong models
            raise RegistryError(f"ZOO_REGISTRY={user_path}: no such file; fix the path, unset ZOO_REGISTRY, or "
                                "create the file with 'zoo registry add NAME ...'")
    elif user_path is not None:
        if not user_path.is_file():
            raise RegistryError(f"ZOO_REGISTRY={user_path}: not a file; point it at a registry TOML file")
        for entry in parse_registry_file(user_path):
            if entry.name in entries:
                print(f"zoo: note: {user_path} overrides model {entry.name!r} from {entries[entry.name].source}",
                      file=sys.stderr)
            entries[entry.name] = entry
    catalogue.registry = Registry(entries)
    return catalogue


_catalogue: Catalogue | None = None
#: Set by 'zoo registry add', which creates the file ZOO_REGISTRY names: until then it may be missing.
_creating_user_registry = False


def creating_user_registry() -> None:
    """Let the catalogue load while the file ``ZOO_REGISTRY`` names does not exist yet (``zoo registry add``)."""
    global _creating_user_registry
    _creating_user_registry = True


def get_catalogue() -> Catalogue:
    """Load plugins and registries once per process and return the result."""
    global _catalogue
    if _catalogue is None:
        _catalogue = _build()
    return _catalogue


def reset() -> None:
    """Forget the loaded catalogue (tests, or after installing a plugin in-process)."""
    global _catalogue, _creating_user_registry
    _creating_user_registry = False
    if _catalogue is not None:
        for info in _catalogue.plugins:
            plugin = _catalogue.manager.get_plugin(f"{info.distribution}:{info.name}")
            if plugin is not None:
                _catalogue.manager.unregister(plugin)
    _catalogue = None
    _warned.clear()
