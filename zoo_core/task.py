"""Tasks: what kind of model an architecture is, and what ``zoo run`` does with one.

A task is a light descriptor registered through the ``register_tasks`` hook, exactly like an
architecture: zoo's own tasks (``generator``, ``encoder``, ``autoencoder``, ``image-to-image``,
``causal-analyzer``) are registered by the core's built-in plugin, and a third-party plugin
adds a new kind of model the same way. Everything else in zoo asks the task; no module outside
a task's own file branches on its name.

A task names its heavy parts (the interface class, the runner, the conformance checks) by
import path or as functions that import what they need when called, so registering it costs
nothing and ``zoo list`` never imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .architectures import Option, import_object
from .devices import DTYPES
from .errors import PluginError
from .outputs import Outputs

if TYPE_CHECKING:
    from .architectures import Architecture
    from .registry import ModelEntry

__all__ = ["Task", "TaskExtras", "Argument", "Verb", "TASKS", "TASK_NAME", "resolve", "RegisteredTasks", "merged_options",
           "LOADING_OPTIONS", "standard_options"]

#: Task names: lower-case words joined by dashes, e.g. ``image-to-image``.
TASK_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class Argument:
    """A positional ``zoo run`` argument of a task, e.g. the images an upscaler reads.

    The values reach the runner as ``RunContext.arguments[name]``: a tuple when ``multiple``
    (any number, as a shell glob expands), else one value or None. ``type`` is one of the
    ``Option`` types.
    """

    name: str
    type: str = "path"
    help: str = ""
    multiple: bool = True

    def __post_init__(self) -> None:
        Option(self.name, type=self.type)  # the same naming and type rules as an option


@dataclass(frozen=True)
class Verb:
    """A command a task adds beyond ``run``: ``zoo VERB NAME [OPTIONS]``.

    The core dispatches it to the click command the architecture names for it,
    ``Architecture(verbs={"data": "pkg.module:command"})``, the way ``zoo train`` and
    ``zoo eval`` are dispatched. ``by`` says what NAME is: a registry ``model`` or an
    ``architecture``.
    """

    name: str
    help: str = ""
    by: str = "model"

    def __post_init__(self) -> None:
        if not TASK_NAME.fullmatch(self.name):
            raise PluginError(f"verb name {self.name!r} must be lower-case words joined by dashes")
        if self.by not in ("model", "architecture"):
            raise PluginError(f"verb {self.name!r}: by must be 'model' or 'architecture', got {self.by!r}")


OptionsFor = Callable[["Architecture | None"], Sequence[Option]]


@dataclass(frozen=True)
class TaskExtras:
    """What commands other than ``zoo run`` use of a task; none of it changes what a run does.

    Args:
        pipeline_tag: the Hub's ``pipeline_tag`` that ``zoo export`` writes into model cards.
        info: ``"module:function"`` or a function ``(entry) -> {label: text}`` of facts
            ``zoo info`` shows for an entry of the task (e.g. a causal model's graph); it must
            not import torch (``zoo info`` never does).
        scaffold: templates for ``zoo new-plugin NAME --kind TASK``: a core template set's name,
            ``"package.module:folder"`` or a path, holding ``model.py.tmpl``, ``test.py.tmpl``
            and ``scaffold.toml`` (docs/writing-a-task.md lists their keys).
    """

    pipeline_tag: str | None = None
    info: str | Callable[..., Any] | None = None
    scaffold: str | None = None


@dataclass(frozen=True)
class Task:
    """A kind of model: its interface, its ``zoo run`` options and the code that runs it.

    Args:
        name: ``generator``, ``image-to-image``, ...: what registry entries and architectures
            declare as their ``task``.
        interface: the class every model of this task subclasses, as ``"module:Class"`` (or
            the class itself); imported on first use.
        runner: ``"module:function"`` or a function ``(RunContext) -> RunResult`` that does
            what ``zoo run`` and ``zoo_core.run`` do for a model of this task.
        description: one line for ``zoo plugins`` and ``zoo info``.
        options: the ``zoo run`` options every model of the task takes (a sequence), or a
            function of the architecture giving them (e.g. ``--label`` only for conditional
            generators, ``--tile`` only for tileable architectures). Must stay torch-free.
        arguments: positional arguments, e.g. image files (``zoo run NAME a.png b.png``).
        option_methods: the model methods that receive an architecture's own options as
            keywords (the conformance kit checks they accept them).
        checks: ``"module:function"`` or a function ``(ModelChecks) -> None`` with the
            conformance checks of a model of this task (``zoo_core.testing.conformance``).
        verbs: commands beyond ``run`` (see ``Verb``).
        weights: whether models of this task load safetensors weights (causal analyzers do
            not); such a task gets ``--device``, ``--dtype`` and ``--weights`` from the core.
        torch_free: whether models of this task must import without torch (checked by the kit).
        outputs: what the task's runs write (``zoo_core.Outputs``): the core then adds
            ``--out``/``--out-dir``/``--force``/``--skip-existing`` and the runner writes through
            ``RunContext.plan_outputs``, which keeps zoo's file-safety guarantees.
        extras: what other commands use (``TaskExtras``: ``zoo export``'s pipeline tag,
            ``zoo info``'s facts, ``zoo new-plugin``'s templates).
        pipeline_tag, scaffold, info: the plugin API 2 spelling of the ``extras`` of the same
            names (still accepted; read them from ``extras``).
        default_outputs: the plugin API 2 spelling of ``Outputs(default=...)``: a function
            ``(model_name, options) -> dict`` of the output options the CLI fills in when the
            user gave none (``zoo run dcgan-fashion`` writes ``dcgan-fashion.png``); the library
            writes only what it is asked to.
    """

    name: str
    interface: str | type
    runner: str | Callable[..., Any]
    description: str = ""
    options: Sequence[Option] | OptionsFor = ()
    arguments: tuple[Argument, ...] = ()
    option_methods: tuple[str, ...] = ()
    checks: str | Callable[..., Any] | None = None
    pipeline_tag: str | None = None
    verbs: tuple[Verb, ...] = ()
    weights: bool = True
    torch_free: bool = False
    scaffold: str | None = None
    default_outputs: Callable[[str, Mapping[str, Any]], dict[str, Any]] | None = None
    info: str | Callable[..., Any] | None = None
    outputs: Outputs | None = None
    extras: TaskExtras = field(default_factory=TaskExtras)
    plugin: str = field(default="", compare=False)  # distribution name, set by the core

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not TASK_NAME.fullmatch(self.name):
            raise PluginError(f"task name {self.name!r} must be lower-case words joined by dashes "
                              "(e.g. 'image-to-image')")
        if not isinstance(self.extras, TaskExtras):
            raise PluginError(f"task {self.name!r}: extras must be zoo_core.TaskExtras, got {self.extras!r}")
        merged = {}
        for key in ("pipeline_tag", "info", "scaffold"):  # the API 2 spelling and the grouped one agree
            flat, grouped = getattr(self, key), getattr(self.extras, key)
            if flat is not None and grouped is not None and flat != grouped:
                raise PluginError(f"task {self.name!r}: {key} and extras.{key} differ; give extras=TaskExtras(...) only")
            merged[key] = grouped if grouped is not None else flat
            object.__setattr__(self, key, merged[key])
        object.__setattr__(self, "extras", TaskExtras(**merged))
        for what in ("interface", "runner", "checks", "info"):
            value = getattr(self, what)
            if isinstance(value, str) and not _TARGET.fullmatch(value):
                raise PluginError(f"task {self.name!r}: {what} {value!r} must look like 'package.module:Name'")
        object.__setattr__(self, "arguments", tuple(self.arguments))
        object.__setattr__(self, "verbs", tuple(self.verbs))
        object.__setattr__(self, "option_methods", tuple(self.option_methods))
        for argument in self.arguments:
            if not isinstance(argument, Argument):
                raise PluginError(f"task {self.name!r}: arguments must be zoo_core.Argument, got {argument!r}")
        for verb in self.verbs:
            if not isinstance(verb, Verb):
                raise PluginError(f"task {self.name!r}: verbs must be zoo_core.Verb, got {verb!r}")
        if not callable(self.options):
            for option in self.options:
                if not isinstance(option, Option):
                    raise PluginError(f"task {self.name!r}: options must be zoo_core.Option, got {option!r}")
        if self.outputs is not None and not isinstance(self.outputs, Outputs):
            raise PluginError(f"task {self.name!r}: outputs must be zoo_core.Outputs, got {self.outputs!r}")
        if self.outputs is not None and self.outputs.default is not None:  # one place the CLI reads it
            if self.default_outputs is not None and self.default_outputs is not self.outputs.default:
                raise PluginError(f"task {self.name!r}: default_outputs and outputs.default name different functions; "
                                  "give Outputs(default=...) only")
            object.__setattr__(self, "default_outputs", self.outputs.default)

    def loads_weights(self) -> bool:
        """Whether models of this task load safetensors weights (and so take --device, --dtype, --weights)."""
        return bool(self.weights)

    def run_options(self, architecture: Architecture | None = None) -> list[Option]:
        """The options the task gives a model of ``architecture`` (before the architecture's own)."""
        options = self.options(architecture) if callable(self.options) else self.options
        return list(options)

    def interface_class(self) -> type:
        """Import and return the interface class (this may import torch)."""
        cls = resolve(self.interface, what=f"task {self.name!r} interface")
        if not isinstance(cls, type):
            raise PluginError(f"task {self.name!r}: interface {self.interface!r} is not a class")
        return cls


def resolve(target: str | Any, *, what: str) -> Any:
    """``target`` itself, or the object a ``"module:attr"`` string names (imported now)."""
    return import_object(target, what=what) if isinstance(target, str) else target


class RegisteredTasks(Sequence[str]):
    """The names of the tasks the installed plugins register (``zoo_core.TASKS``).

    A live view: it asks the plugin catalogue when used (loading plugins once per process),
    so a plugin that adds a task adds it here.
    """

    def _names(self) -> tuple[str, ...]:
        from .plugins import get_catalogue

        return tuple(get_catalogue().tasks)

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, (tuple, list, RegisteredTasks)) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TASKS{self._names()!r}"


#: The options the core gives every task that loads weights (``Task.loads_weights()``).
LOADING_OPTIONS = (
    Option("device", default="auto", help="auto, cpu, cuda, cuda:N or mps"),
    Option("dtype", type="choice", choices=DTYPES, default="float32", help="floating-point precision"),
    Option("weights", type="path", help="use this .safetensors file instead of the registry's weights"),
    Option("threads", type="int", help="CPU threads for the model (default: ZOO_THREADS, else one per core not busy)"),
)


def standard_options(task: Task) -> list[Option]:
    """The options the core adds to a task: those its ``outputs`` declare, then the loading ones."""
    options = task.outputs.options() if task.outputs is not None else []
    return [*options, *(LOADING_OPTIONS if task.loads_weights() else ())]


def task_options(task: Task, architecture: Architecture | None) -> list[Option]:
    """The task's own options, then the core's standard ones it does not declare itself
    (an API 2 task that declares ``--device`` keeps its own)."""
    own = task.run_options(architecture)
    names = {o.name for o in own}
    return [*own, *(o for o in standard_options(task) if o.name not in names)]


def merged_options(task: Task, architecture: Architecture | None, entry: ModelEntry | None = None) -> list[Option]:
    """Every option ``zoo run`` accepts for a model of ``task`` and ``architecture``.

    The task's options and the standard ones the core adds (outputs, loading), then the
    architecture's own (an own option named like a task option is dropped: the task's wins),
    then ``--json``, which every task has. Given the registry ``entry``, an architecture whose
    fixed tile its config sets (``Architecture.fixed_tile``) gets ``--tile`` with that size.
    """
    common = task_options(task, architecture)
    size = architecture.tile_for(entry.config) if entry is not None and architecture is not None else None
    if size is not None:
        from .tasks.common import fixed_tile_option

        common = [fixed_tile_option(size) if o.name == "tile" else o for o in common]
    taken = {o.name for o in common} | {JSON_OPTION.name}
    own = [o for o in (architecture.options if architecture else ()) if o.name not in taken]
    return [*common, *own, JSON_OPTION]


def own_option_names(task: Task, architecture: Architecture) -> set[str]:
    """Python names of the architecture's own options that reach the model's methods."""
    core = {o.name for o in task_options(task, architecture)} | {JSON_OPTION.name}
    return {o.name.replace("-", "_") for o in architecture.options if o.name not in core}


JSON_OPTION = Option("json", type="bool", default=False, help="print one JSON document on stdout")

#: The names of the registered tasks, as a live sequence (see ``RegisteredTasks``).
TASKS = RegisteredTasks()
