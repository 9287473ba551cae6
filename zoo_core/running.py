"""``zoo_core.run``: what ``zoo run`` does, as one library call.

``run(name, *arguments, **options)`` looks the model up, checks the options against the
ones its task and architecture declare, hands a ``RunContext`` to the task's runner and
returns its ``RunResult``, whose ``to_json()`` is exactly the text ``zoo run --json`` prints
(``to_dict()`` the same document as a dict). The command line only parses arguments, calls
this and prints the result.

Models are loaded through a small per-process cache (the last ``MAX_CACHED_MODELS``
distinct name/device/dtype/weights combinations), so a script or server that runs the same
model repeatedly loads it once; ``run(..., cache=False)`` loads afresh and keeps nothing.
"""

from __future__ import annotations

import json
import math
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
    from .outputs import OutputPlan
    from .plugins import Catalogue

__all__ = ["RunContext", "RunResult", "run", "clear_model_cache", "MAX_CACHED_MODELS", "check_options", "process_shard",
           "json_text"]


def _finite(value: Any) -> Any:
    """``value`` with inf and nan (which JSON has no words for) turned into null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def json_text(document: Any) -> str:
    """``document`` as strict JSON text, the way zoo prints it (inf and nan as null, paths as strings)."""
    return json.dumps(_finite(document), indent=2, sort_keys=False, default=str, allow_nan=False)

#: How many loaded models ``run`` keeps per process (least recently used ones are dropped).
MAX_CACHED_MODELS = 2


@dataclass
class RunResult:
    """What a run produced.

    ``data`` is the JSON-ready answer (``zoo run --json`` prints ``to_json()``: ``data`` plus
    a ``run`` object with the provenance), ``lines`` what ``zoo run`` prints for people,
    ``files`` every file written, and ``value`` the Python result (images as a tensor,
    latents, an ``AnalysisResult``...), which the JSON document does not carry. In a
    notebook a result whose value holds images shows them as one grid.
    """

    data: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    value: Any = None
    seed: int | None = None  # the seed the run drew noise from, if any (recorded in ``run``)
    run: dict[str, Any] = field(default_factory=dict)
    #: inputs the run skipped because they could not be read, path -> why (the others were done);
    #: ``zoo run`` exits non-zero when there are any
    failed: dict[str, str] = field(default_factory=dict)
    #: how many inputs the run was given (with ``failed``: "1 of 12 inputs could not be read")
    inputs: int = 0

    def failure_message(self) -> str | None:
        """One line saying how many inputs could not be read, or None when none failed."""
        if not self.failed:
            return None
        count = len(self.failed)
        first = next(iter(self.failed))
        others = max(self.inputs - count, 0)
        return (f"{count} of {self.inputs or count} inputs could not be read ({first}"
                + (f" and {count - 1} more, each named above" if count > 1 else "") + f"); the other {others} "
                + ("were" if others != 1 else "was") + " done")

    def to_dict(self) -> dict[str, Any]:
        """The document ``zoo run --json`` prints, as a dict: ``data`` plus the ``run`` provenance."""
        return {**self.data, "run": self.run}

    def to_json(self) -> str:
        """The JSON text ``zoo run --json`` prints (strict JSON: inf and nan are null)."""
        return json_text(self.to_dict())

    def images(self) -> Any:
        """The images of ``value`` as one (N, C, H, W) tensor in [-1, 1], or None when it holds none
        (a tensor of images, a list of same-sized ones, or an object with an ``images`` tensor)."""
        torch = sys.modules.get("torch")
        if torch is None:  # nothing here can hold a tensor
            return None
        value = self.value
        if not isinstance(value, torch.Tensor):
            value = getattr(value, "images", value)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, torch.Tensor) and v.ndim == 4
                                                             for v in value):
            if len({tuple(v.shape[1:]) for v in value}) == 1:
                value = torch.cat(list(value))
        if isinstance(value, torch.Tensor) and value.ndim == 4 and value.shape[1] in (1, 3) \
                and value.is_floating_point():
            return value
        return None

    def _repr_png_(self) -> bytes | None:
        """The images as one PNG grid, for notebooks (None when the result holds no images)."""
        images = self.images()
        if images is None:
            return None
        from .images import image_bytes, make_grid

        return image_bytes(make_grid(images.detach().float().cpu().clamp(-1, 1)))

    @property
    def text(self) -> str:
        """What ``zoo run`` prints for people: the lines, joined."""
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
    #: in-memory inputs written as files (``_Scratch``; removed after the run)
    _scratch: Any = field(default_factory=lambda: _Scratch())
    #: what this run said once (``note``), the inputs it skipped (``skip_input``) and how many it had
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    inputs_total: int = 0
    _noted: set[str] = field(default_factory=set)

    def note(self, message: str, *, key: str | None = None) -> None:
        """Say ``message`` once in this run: ``zoo: note: MESSAGE`` on stderr and in the JSON
        document's ``notes``. Messages of the same ``key`` (default: the message) are said once,
        the first one: "colour inputs are converted (first: a.png)" is not repeated for b.png."""
        key = message if key is None else key
        if key not in self._noted:
            self._noted.add(key)
            self.notes.append(message)
            print(f"zoo: note: {message}", file=sys.stderr, flush=True)

    def skip_input(self, path: Path, error: BaseException) -> None:
        """Skip an input that cannot be read: one line naming it on stderr now, the others go on,
        and the run's result lists it in ``failed`` (``zoo run`` then exits non-zero)."""
        reason = str(error)
        self.skipped[str(path)] = reason
        print(f"zoo: skipped: {reason}", file=sys.stderr, flush=True)

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
        if self.task.loads_weights():
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
        if not self.task.loads_weights():
            return ("built", self.entry.name, self.entry.source, repr(sorted(self.entry.config.items())))
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
        if model is not None and self.task.loads_weights() and hasattr(model, "device"):
            record["device"] = str(model.device)
            record["dtype"] = str(model.dtype).replace("torch.", "")
            import torch

            record["threads"] = torch.get_num_threads()  # what the model ran on (see zoo_core.threads)
        record["seconds"] = round(seconds, 4)
        return record

    def plan_outputs(self, *, count: int | None = None, inputs: Sequence[Path] = (),
                     names: Sequence[str] | None = None, single: bool = False) -> OutputPlan:
        """Check where this run writes, before the model is loaded; write only through the plan.

        Reads ``--out``, ``--out-dir``, ``--force`` and ``--skip-existing`` (the options a
        task's ``Outputs`` declares). ``--out-dir`` holds ``count`` numbered files
        (``00000.png``...), or one per input named after it (``photo.jpg`` -> ``photo.png``),
        or the given ``names``. ``inputs`` are never written over, even with ``--force``.
        ``single=True``: ``--out`` is the one output of one input (refused with several
        inputs, or with ``--out-dir``). Raises ``InputError`` for anything the run may not do.
        """
        from .outputs import IMAGE_FORMATS, OutputPlan

        options = self.options
        declared = self.task.outputs
        return OutputPlan.make(out=options.get("out"), out_dir=options.get("out_dir"),
                               force=bool(options.get("force")), skip_existing=bool(options.get("skip_existing")),
                               count=count, inputs=inputs, names=names, single=single,
                               suffixes=declared.suffixes if declared is not None else tuple(IMAGE_FORMATS),
                               progress=self.progress, label=self.entry.name)

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


def _shown(value: Any) -> str:
    """``value`` for an error message: its repr if short and plain, else its type (and shape):
    an error never prints a tensor's or an array's contents."""
    if isinstance(value, (str, int, float, bool, os.PathLike)) and len(repr(value)) <= 200:
        return repr(value)
    kind = f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
    shape = getattr(value, "shape", None)
    if shape is None and isinstance(getattr(value, "size", None), tuple):  # a PIL image: (width, height)
        shape = value.size
    try:
        return f"a {kind} of shape {tuple(shape)}" if shape is not None else f"a {kind}"
    except TypeError:
        return f"a {kind}"


def _in_memory_image(value: Any) -> bool:
    """Whether ``value`` is an image held in memory: a torch tensor, a PIL image or a numpy array."""
    module = type(value).__module__.split(".")[0]
    return module in ("torch", "numpy") and hasattr(value, "shape") or module == "PIL" and hasattr(value, "save")


def _write_in_memory(values: Sequence[Any], folder: Path, start: int, flag: str) -> list[Path]:
    """Each in-memory image as an 8-bit PNG in ``folder`` (``input-00000.png``...), so every task,
    whatever its runner reads, takes them like files. A tensor is (C, H, W) or (N, C, H, W) in
    [-1, 1] (zoo's convention), a numpy array uint8 (H, W) or (H, W, C), a PIL image any mode."""
    paths: list[Path] = []

    def place() -> Path:
        path = folder / f"input-{start + len(paths):05d}.png"
        paths.append(path)
        return path

    for value in values:
        module = type(value).__module__.split(".")[0]
        if module == "PIL":
            value.save(place(), format="PNG")
        elif module == "numpy":
            from PIL import Image

            channels = value.shape[2] if value.ndim == 3 else 1
            if str(value.dtype) != "uint8" or value.ndim not in (2, 3) or channels not in (1, 3, 4):
                raise InputError(f"{flag}: {_shown(value)} ({value.dtype}) is not an image array: give uint8 "
                                 "(H, W) or (H, W, C) with C = 1, 3 or 4 (e.g. (x * 255).round().astype('uint8'))")
            Image.fromarray(value[:, :, 0] if value.ndim == 3 and value.shape[2] == 1 else value).save(place())
        else:
            from .images import image_bytes

            tensor = value.detach().cpu()
            if tensor.ndim == 3:
                tensor = tensor.unsqueeze(0)
            if tensor.ndim != 4 or tensor.shape[1] not in (1, 3) or not tensor.is_floating_point():
                raise InputError(f"{flag}: {_shown(value)} is not an image tensor: give floats in [-1, 1] shaped "
                                 "(C, H, W) or (N, C, H, W) with C = 1 or 3")
            for image in tensor:
                place().write_bytes(image_bytes(image.float().clamp(-1, 1)))
    return paths


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
    elif kind == "data":  # a file, or data already in memory (a DataFrame, a mapping of arrays)
        return Path(value) if isinstance(value, (str, os.PathLike)) else value
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
        raise InputError(f"{flag} {_shown(value)}: use one of {', '.join(choices)}")
    elif isinstance(value, str):
        return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # label=3 means what --label 3 does
    expected = {"int": "an integer", "float": "a number", "bool": "True or False", "path": "a path",
                "str": "text"}.get(kind, f"a {kind}")
    raise InputError(f"{flag} {_shown(value)}: expected {expected}, got {type(value).__name__}")


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
    declared = [o for o in merged_options(task, architecture, entry) if o.name != "json"]
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


class _Scratch:
    """In-memory images given where a task takes image files, written as PNGs into one temporary
    folder (made on first need; ``cleanup()`` removes it after the run)."""

    def __init__(self) -> None:
        self.folder: Any = None  # a tempfile.TemporaryDirectory
        self.count = 0

    def files_for(self, values: Any, flag: str) -> Any:
        """``values`` (one value or a sequence) with each in-memory image replaced by its PNG path(s)."""
        single = _in_memory_image(values) or isinstance(values, (str, os.PathLike)) \
            or not isinstance(values, Sequence)
        items = [values] if single else list(values)
        if not any(_in_memory_image(v) for v in items):
            return values
        if self.folder is None:
            import tempfile

            self.folder = tempfile.TemporaryDirectory(prefix="zoo-inputs-")
        replaced: list[Any] = []
        for value in items:
            if _in_memory_image(value):
                paths = _write_in_memory([value], Path(self.folder.name), self.count, flag)
                self.count += len(paths)
                replaced.extend(paths)
            else:
                replaced.append(value)
        return replaced

    def cleanup(self) -> None:
        if self.folder is not None:
            self.folder.cleanup()


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


def resolve_model(name: str, catalogue: Catalogue | None = None) -> tuple[ModelEntry, Architecture, Task]:
    """The entry, architecture and task that run model ``name``, looked up once; errors say
    what is unknown, unavailable or which plugin to install."""
    from .api import runnable_architecture
    from .plugins import get_catalogue

    catalogue = catalogue or get_catalogue()
    entry = catalogue.entry(name)
    architecture = runnable_architecture(entry, catalogue)
    return entry, architecture, catalogue.task(architecture.task)


def prepare(name: str | tuple[ModelEntry, Architecture, Task], arguments: Sequence[Any], options: Mapping[str, Any],
            *, cache: bool = True, progress: bool | None = None, catalogue: Catalogue | None = None) -> RunContext:
    """The ``RunContext`` for a run of model ``name`` (checks everything, loads nothing); ``name``
    may be what ``resolve_model`` found already (the CLI looks the model up once)."""
    entry, architecture, task = resolve_model(name, catalogue) if isinstance(name, str) else name
    scratch = _Scratch()
    try:
        # images in memory, where the task takes image files: positional path arguments, and
        # path options that take several values (--input); never an output option
        paths = next((a for a in task.arguments if a.type == "path"), None)
        values = scratch.files_for(list(arguments), paths.name.upper()) if paths is not None else list(arguments)
        takes_files = {o.name.replace("-", "_") for o in merged_options(task, architecture)
                       if o.type == "path" and o.multiple}
        options = {k: scratch.files_for(v, f"--{k.replace('_', '-')}") if k in takes_files else v
                   for k, v in options.items()}
        checked = check_options(entry, task, architecture, options)
        bound = _bind_arguments(entry, task, values)
    except BaseException:
        scratch.cleanup()
        raise
    own = own_option_names(task, architecture)
    return RunContext(entry=entry, architecture=architecture, task=task, options=checked,
                      arguments=bound, model_options={k: v for k, v in checked.items() if k in own},
                      given=frozenset(k for k, v in options.items() if v is not None),
                      cache=cache, show_progress=progress, _scratch=scratch)


def execute(context: RunContext) -> RunResult:
    """Run the task's runner on ``context`` and record the provenance."""
    runner = resolve(context.task.runner, what=f"task {context.task.name!r} runner")
    if context.options.get("threads") is not None or os.environ.get("ZOO_THREADS", "").strip():
        from .threads import use_threads  # what the user said; the library never imposes the load-based guess

        use_threads(context.options.get("threads"))
    started = time.perf_counter()
    result = runner(context)
    if not isinstance(result, RunResult):
        from .errors import PluginError

        raise PluginError(f"task {context.task.name!r} ({context.task.plugin}): its runner returned "
                          f"{type(result).__name__}, not a zoo_core.RunResult")
    result.run = context.run_record(result.seed, time.perf_counter() - started)
    if context.notes:
        result.data["notes"] = [*result.data.get("notes", []), *context.notes]
    if context.skipped:
        result.failed, result.inputs = dict(context.skipped), context.inputs_total
        result.data["failed"] = dict(context.skipped)
    return result


def run(name: str, *arguments: Any, cache: bool = True, progress: bool | None = False,
        **options: Any) -> RunResult:
    """Run model ``name`` as ``zoo run`` does and return what it produced.

    ``arguments`` are the task's positional arguments (an image-to-image model's input
    files); where a task takes image files, images in memory work too: torch tensors in
    [-1, 1] shaped (C, H, W) or (N, C, H, W), PIL images, and uint8 numpy arrays (H, W[, C]),
    passed to the task as 8-bit PNGs named ``input-00000.png``...; ``options`` are its
    ``zoo run`` options by Python name (``out_dir=`` for ``--out-dir``). Files are written only where an output option asks for them. The model
    is loaded through the per-process cache unless ``cache=False``; ``progress=True`` draws
    progress bars on stderr (``None``: when stderr is a terminal).

    Example:
        >>> result = zoo_core.run("dcgan-fashion", num=16, seed=0, out="grid.png")
        >>> result.value.shape      # the images: torch.Size([16, 1, 32, 32])
        >>> result.to_json()        # the text `zoo run dcgan-fashion --num 16 --out grid.png --json` prints
        >>> result.to_dict()        # the same document as a dict
    """
    context = prepare(name, arguments, options, cache=cache, progress=progress)
    try:
        return execute(context)
    finally:
        context._scratch.cleanup()
