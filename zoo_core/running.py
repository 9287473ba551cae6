"""``zoo_core.run``: what ``zoo run`` does, as one library call.

``run(name, *arguments, **options)`` looks the model up, checks the options against the
ones its task and architecture declare, hands a ``RunContext`` to the task's runner and
returns its ``RunResult``, whose ``to_json()`` is exactly the document ``zoo run --json``
prints. The command line only parses arguments, calls this and prints the result.

Models are loaded through a small per-process cache (the last ``MAX_CACHED_MODELS``
distinct name/device/dtype/weights combinations), so a script or server that runs the same
model repeatedly loads it once; ``run(..., cache=False)`` loads afresh and keeps nothing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .architectures import Architecture, Option
from .errors import InputError
from .registry import ModelEntry, close_names
from .task import Argument, Task, merged_options, own_option_names, resolve

if TYPE_CHECKING:
    from .plugins import Catalogue

__all__ = ["RunContext", "RunResult", "run", "clear_model_cache", "MAX_CACHED_MODELS", "check_options", "process_shard"]

#: How many loaded models ``run`` keeps per process (least recently used ones are dropped).
MAX_CACHED_MODELS = 2


@dataclass
class RunResult:
    """What a run produced.

    ``data`` is the JSON-ready answer (``zoo run --json`` prints ``to_json()``: ``data`` plus
    a ``run`` object with the provenance), ``lines`` what ``zoo run`` prints for people,
    ``files`` every file written, and ``value`` the Python result (images as a tensor,
    latents, an ``AnalysisResult``...), which the JSON document does not carry.
    """

    data: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    value: Any = None
    seed: int | None = None  # the seed the run drew noise from, if any (recorded in ``run``)
    run: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The document ``zoo run --json`` prints."""
        return {**self.data, "run": self.run}

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class _ModelCache:
    """The last few loaded models, by name, device, dtype and weights file."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._models: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Any:
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
            return model

    def put(self, key: tuple[str, ...], model: Any) -> None:
        with self._lock:
            self._models[key] = model
            self._models.move_to_end(key)
            while len(self._models) > self.size:
                self._models.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def __len__(self) -> int:
        return len(self._models)


_CACHE = _ModelCache(MAX_CACHED_MODELS)


def process_shard() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` of this process under ``torchrun`` (``(0, 1, 0)`` otherwise).

    A folder run started with ``torchrun --nproc-per-node N -m zoo_core run ...`` splits its
    inputs: rank r takes every N-th one, starting at r, on its own device. No process group is
    needed: the ranks never talk, they only share the folder.
    """
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        return 0, 1, 0
    if world <= 1 or not 0 <= rank < world:
        return 0, 1, 0
    return rank, world, local


def clear_model_cache() -> None:
    """Forget every model ``run`` has cached in this process (frees their memory)."""
    _CACHE.clear()


@dataclass
class RunContext:
    """What a task's runner gets: the entry, its architecture and task, and the checked options.

    ``options`` holds every option by its Python name (``out_dir`` for ``--out-dir``), defaults
    filled in; ``arguments`` the positional arguments the task declares; ``model_options`` the
    architecture's own options, which the runner passes to the model's methods as keywords.
    """

    entry: ModelEntry
    architecture: Architecture
    task: Task
    options: dict[str, Any]
    arguments: dict[str, Any] = field(default_factory=dict)
    model_options: dict[str, Any] = field(default_factory=dict)
    #: the options the caller gave (the rest hold their defaults): a runner refuses given
    #: options that do not apply to what it does, rather than ignoring them
    given: frozenset[str] = frozenset()
    cache: bool = True
    show_progress: bool | None = None
    _model: Any = None

    def load(self) -> Any:
        """The model, loaded once per run (and from the per-process cache when allowed).

        ``device``, ``dtype`` and ``weights`` come from the options of the same names when
        the task declares them.
        """
        if self._model is not None:
            return self._model
        from .api import load

        device, dtype, weights = (self.options.get(k) for k in ("device", "dtype", "weights"))
        rank, world, local = process_shard()
        if world > 1 and (device or "auto") == "auto":  # under torchrun each rank takes its own GPU
            import torch

            if torch.cuda.is_available():
                device = f"cuda:{local % torch.cuda.device_count()}"
        kwargs: dict[str, Any] = {}
        if self.task.weights:
            kwargs = {"device": device or "auto", "dtype": dtype or "float32", "weights": weights}
        key = self._cache_key(kwargs)
        model = _CACHE.get(key) if self.cache and key else None
        if model is None:
            model = load(self.entry.name, **kwargs)
            if self.cache and key:
                _CACHE.put(key, model)
        self._model = model
        return model

    def _cache_key(self, kwargs: Mapping[str, Any]) -> tuple[str, ...] | None:
        if not self.task.weights:
            return ("analyzer", self.entry.name, self.entry.source, repr(sorted(self.entry.config.items())))
        from .devices import resolve_device, resolve_dtype

        weights = kwargs.get("weights")
        stamp = ""
        if weights is not None:
            try:
                stat = Path(weights).stat()
                stamp = f"{Path(weights).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
            except OSError:
                return None  # let load() report the missing file
        pin = self.entry.weights.sha256 if self.entry.weights else ""
        return (self.entry.name, self.entry.source, pin, str(resolve_device(kwargs["device"])),
                str(resolve_dtype(kwargs["dtype"])), stamp)

    @property
    def model(self) -> Any:
        """The loaded model, or None before ``load()``."""
        return self._model

    def provenance(self, seed: int | None = None) -> dict[str, str]:
        """What made an output file: model, architecture, weights pin and seed (for PNG text chunks)."""
        meta = {"model": self.entry.name, "architecture": self.entry.architecture}
        resolved = getattr(self._model, "zoo_weights", None)
        if resolved is not None:
            meta["sha256"] = resolved.sha256
            meta["revision"] = resolved.revision or ""
            meta["weights"] = resolved.origin if resolved.origin != "explicit" else str(resolved.path)
        if seed is not None:
            meta["seed"] = str(seed)
        return meta

    def run_record(self, seed: int | None, seconds: float) -> dict[str, Any]:
        """The ``run`` object of the JSON document."""
        record: dict[str, Any] = dict(self.provenance(seed))
        if seed is not None:
            record["seed"] = int(seed)
        model = self._model
        if model is not None and self.task.weights and hasattr(model, "device"):
            record["device"] = str(model.device)
            record["dtype"] = str(model.dtype).replace("torch.", "")
        record["seconds"] = round(seconds, 4)
        return record

    @property
    def progress_enabled(self) -> bool:
        """Whether long loops draw a progress bar: asked for, or by default when stderr is a terminal."""
        if self.show_progress is not None:
            return self.show_progress
        return sys.stderr.isatty() and not os.environ.get("ZOO_NO_PROGRESS")

    @contextmanager
    def progress(self, total: int, description: str, unit: str = "it") -> Iterator[Any]:
        """A progress bar on stderr (a no-op object when disabled): call ``.update(n)`` on it."""
        from .progress import progress_bar

        with progress_bar(total, description, unit=unit, enabled=self.progress_enabled) as bar:
            yield bar


def _coerce(option: Option | Argument, value: Any, *, flag: str) -> Any:
    """``value`` checked against the option's type (strings from the CLI or Python values)."""
    if value is None:
        return None
    many = getattr(option, "multiple", False)
    if many:
        if isinstance(value, (str, os.PathLike)) or not isinstance(value, Sequence):
            value = [value]
        return tuple(_coerce_one(option, item, flag=flag) for item in value)
    return _coerce_one(option, value, flag=flag)


def _coerce_one(option: Option | Argument, value: Any, *, flag: str) -> Any:
    kind = option.type
    if kind == "path":
        if isinstance(value, (str, os.PathLike)):
            return Path(value)
    elif kind == "int":
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return _check_seed(value, flag)
    elif kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind == "choice":
        choices = getattr(option, "choices", ())
        if str(value) in choices:
            return str(value)
        raise InputError(f"{flag} {value!r}: use one of {', '.join(choices)}")
    elif isinstance(value, str):
        return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # label=3 means what --label 3 does
    expected = {"int": "an integer", "float": "a number", "bool": "True or False", "path": "a path",
                "str": "text"}.get(kind, f"a {kind}")
    raise InputError(f"{flag} {value!r}: expected {expected}, got {type(value).__name__}")


#: torch and numpy seed their generators from an unsigned 64-bit number; zoo adds small offsets to seeds.
SEED_MAX = 2**63 - 1


def _check_seed(value: int, flag: str) -> int:
    if flag == "--seed" and not 0 <= value <= SEED_MAX:
        raise InputError(f"{flag} {value}: must be between 0 and {SEED_MAX} (2**63 - 1)")
    return value


def check_options(entry: ModelEntry, task: Task, architecture: Architecture,
                  options: Mapping[str, Any]) -> dict[str, Any]:
    """Every option of the run by Python name, checked and typed, defaults filled in.

    Unknown names are an ``InputError`` listing the options the model takes (with a
    did-you-mean); so is a missing required option.
    """
    declared = [o for o in merged_options(task, architecture) if o.name != "json"]
    by_name = {o.name.replace("-", "_"): o for o in declared}
    for name in options:
        if name not in by_name:
            close = close_names(name, list(by_name), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"{entry.name} takes no option {name!r}{hint}; it takes: "
                             + ", ".join(sorted(by_name)))
    checked: dict[str, Any] = {}
    for name, option in by_name.items():
        flag = f"--{option.name}"
        if name in options and options[name] is not None:
            checked[name] = _coerce(option, options[name], flag=flag)
        else:
            default = option.default
            checked[name] = (() if option.multiple else None) if default is None else default
            if option.type == "bool" and default is None:
                checked[name] = False
        if option.required and checked[name] in (None, ()):
            raise InputError(f"{entry.name} needs {flag}: {option.help or 'a value'}")
    return checked


def _bind_arguments(entry: ModelEntry, task: Task, values: Sequence[Any]) -> dict[str, Any]:
    """Positional values spread over the task's declared arguments."""
    bound: dict[str, Any] = {}
    remaining = list(values)
    for argument in task.arguments:
        if argument.multiple:
            bound[argument.name] = _coerce(argument, remaining, flag=argument.name.upper())
            remaining = []
        else:
            bound[argument.name] = _coerce(argument, remaining.pop(0), flag=argument.name.upper()) \
                if remaining else None
    if remaining:
        takes = " ".join(a.name.upper() + ("..." if a.multiple else "") for a in task.arguments) or "none"
        raise InputError(f"{entry.name} takes no positional argument {str(remaining[0])!r} "
                         f"(its positional arguments: {takes})")
    return bound


def prepare(name: str, arguments: Sequence[Any], options: Mapping[str, Any], *, cache: bool = True,
            progress: bool | None = None, catalogue: Catalogue | None = None) -> RunContext:
    """The ``RunContext`` for a run of model ``name`` (checks everything, loads nothing)."""
    from .api import runnable_architecture
    from .plugins import get_catalogue

    catalogue = catalogue or get_catalogue()
    entry = catalogue.registry.get(name)
    architecture = runnable_architecture(entry, catalogue)
    task = catalogue.task(architecture.task)
    checked = check_options(entry, task, architecture, options)
    own = own_option_names(task, architecture)
    return RunContext(entry=entry, architecture=architecture, task=task, options=checked,
                      arguments=_bind_arguments(entry, task, arguments),
                      model_options={k: v for k, v in checked.items() if k in own},
                      given=frozenset(k for k, v in options.items() if v is not None),
                      cache=cache, show_progress=progress)


def execute(context: RunContext) -> RunResult:
    """Run the task's runner on ``context`` and record the provenance."""
    runner = resolve(context.task.runner, what=f"task {context.task.name!r} runner")
    started = time.perf_counter()
    result = runner(context)
    if not isinstance(result, RunResult):
        from .errors import PluginError

        raise PluginError(f"task {context.task.name!r} ({context.task.plugin}): its runner returned "
                          f"{type(result).__name__}, not a zoo_core.RunResult")
    result.run = context.run_record(result.seed, time.perf_counter() - started)
    return result


def run(name: str, *arguments: Any, cache: bool = True, progress: bool | None = False,
        **options: Any) -> RunResult:
    """Run model ``name`` as ``zoo run`` does and return what it produced.

    ``arguments`` are the task's positional arguments (an image-to-image model's input
    files); ``options`` its ``zoo run`` options by Python name (``out_dir=`` for
    ``--out-dir``). Files are written only where an output option asks for them. The model
    is loaded through the per-process cache unless ``cache=False``; ``progress=True`` draws
    progress bars on stderr (``None``: when stderr is a terminal).

    Example:
        >>> result = zoo_core.run("dcgan-fashion", num=16, seed=0, out="grid.png")
        >>> result.value.shape      # the images: torch.Size([16, 1, 32, 32])
        >>> result.to_json()        # what `zoo run dcgan-fashion --num 16 --out grid.png --json` prints
    """
    return execute(prepare(name, arguments, options, cache=cache, progress=progress))
