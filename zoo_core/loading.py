"""Build a model without allocating it, and stream a safetensors file into it, strictly.

``build(architecture, config)`` constructs the model on the meta device (no memory, no
random init). ``load_weights(model, path, device=..., dtype=...)`` compares the file's
header with the model's state-dict layout before any tensor is read, then reads the file
one tensor at a time: each is read, moved to the device, cast to ``dtype`` and kept, and
the file's copy dropped. Peak memory while loading is the model at the target dtype plus
the largest tensor (a 512 MiB float32 file loaded as float16 peaks near 256 MiB, not 768).
When nothing needs casting on the CPU the file is memory-mapped instead (no copy at all).

These two are zoo's public loading API (``zoo_core.build``, ``zoo_core.load_weights``);
``zoo_core.load(name)`` uses them for registry models.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, overload

import torch

from .errors import PluginError, StateDictMismatchError
from .interfaces import Model
from .safetensors_header import TensorSpan, read_layout

__all__ = ["build", "load_weights", "load_weights_into", "build_model", "compare_layout"]

_SHOWN = 5
_TORCH_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
for _name, _attr in (("F8_E4M3", "float8_e4m3fn"), ("F8_E5M2", "float8_e5m2"), ("U16", "uint16"),
                     ("U32", "uint32"), ("U64", "uint64")):
    if hasattr(torch, _attr):
        _TORCH_DTYPES[_name] = getattr(torch, _attr)


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" (+{len(names) - _SHOWN} more)" if len(names) > _SHOWN else "")


def compare_layout(expected: Mapping[str, tuple[int, ...]], found: Mapping[str, tuple[int, ...]],
                   *, where: str, architecture: str) -> None:
    """Raise ``StateDictMismatchError`` naming missing, unexpected and wrongly shaped keys."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = sorted(k for k in set(expected) & set(found) if tuple(expected[k]) != tuple(found[k]))
    if not (missing or unexpected or wrong):
        return
    parts = []
    if missing:
        parts.append(f"missing keys: {_listing(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {_listing(unexpected)}")
    if wrong:
        shapes = [f"{k} (file {list(found[k])}, model {list(expected[k])})" for k in wrong]
        parts.append(f"wrong shapes: {_listing(shapes)}")
    raise StateDictMismatchError(f"{where} does not fit architecture {architecture!r}: " + "; ".join(parts))


#: ``torch.nn.init`` functions that only fill a tensor: on the meta device there is nothing to fill.
_INIT_FUNCTIONS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
                   "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
                   "sparse_")


@contextlib.contextmanager
def _no_meta_init() -> Iterator[None]:
    """Skip ``torch.nn.init``'s fills of meta tensors while a model is built on the meta device.

    Each fill of a meta tensor still runs torch's Python decomposition under the device mode,
    and they were most of a build: an empty shell then took longer than mapping 100 MB of
    weights. Tensors on real devices (another thread building a model to train) are filled
    as ever: the wrappers test each tensor.
    """
    originals = {name: getattr(torch.nn.init, name) for name in _INIT_FUNCTIONS if hasattr(torch.nn.init, name)}

    def skipping(original: Any) -> Any:
        def init(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            if tensor.is_meta:
                return tensor
            return original(tensor, *args, **kwargs)
        return init

    for name, original in originals.items():
        setattr(torch.nn.init, name, skipping(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(torch.nn.init, name, original)


def build_model(model_class: type[Model], config: Any, *, architecture: str) -> Model:
    """Construct ``model_class`` from ``config`` on the meta device (no allocation, no init)."""
    if not (isinstance(model_class, type) and issubclass(model_class, Model)):
        raise PluginError(f"architecture {architecture!r}: {model_class!r} is not a zoo_core.Model subclass")
    with torch.device("meta"), _no_meta_init():
        return model_class.from_config(config)


M = TypeVar("M", bound=Model)


@overload
def build(architecture: type[M], config: Mapping[str, Any] | Any | None = None, *,
          device: str | torch.device = "meta") -> M: ...


@overload
def build(architecture: str, config: Mapping[str, Any] | Any | None = None, *,
          device: str | torch.device = "meta") -> Model: ...


def build(architecture: str | type[Model], config: Mapping[str, Any] | Any | None = None, *,
          device: str | torch.device = "meta") -> Model:
    """A model of ``architecture`` (a registered name, or a ``zoo_core.Model`` class) built from ``config``.

    On the meta device (the default) nothing is allocated: the model is an empty shell for
    ``load_weights``. Give ``device="cpu"`` (or ``"cuda"``) for a randomly initialised model,
    e.g. to train it.

    Example:
        >>> model = zoo_core.build("dcgan", {"image_size": 32})
        >>> zoo_core.load_weights(model, "run/model.safetensors", device="cpu")
    """
    from .config import build_config

    if isinstance(architecture, str):
        from .plugins import get_catalogue

        catalogue = get_catalogue()
        arch = catalogue.architecture(architecture)
        cls, name = catalogue.model_class(arch), arch.name
    else:
        cls, name = architecture, getattr(architecture, "__name__", str(architecture))
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise PluginError(f"architecture {name!r}: {cls!r} is not a zoo_core.Model subclass")
    built = build_config(cls.config_class, config if config is not None else {})
    if str(device) == "meta":
        return build_model(cls, built, architecture=name)
    with torch.device(device):
        return cls.from_config(built)


def load_weights(model: M, path: str | Path, *, device: str | torch.device = "cpu",
                 dtype: str | torch.dtype = "float32", strict: bool = True) -> M:
    """Load the safetensors file ``path`` into ``model`` on ``device``, floats cast to ``dtype``.

    Streams tensor by tensor (peak memory: the model at ``dtype`` plus the largest tensor).
    ``strict`` (the default) refuses a file whose keys, shapes or kinds of dtype differ from
    the model's, naming them, before reading any tensor data. Refuses pickle formats. The
    model comes back in eval mode. ``model`` may be built on the meta device (``build``) or
    already hold weights (they are replaced).
    """
    from .devices import resolve_device, resolve_dtype
    from .safetensors_header import refuse_unsafe

    target_device = device if isinstance(device, torch.device) else resolve_device(str(device))
    target_dtype = dtype if isinstance(dtype, torch.dtype) else resolve_dtype(str(dtype))
    refuse_unsafe(Path(path))
    return load_weights_into(model, Path(path), device=target_device, dtype=target_dtype,
                             architecture=type(model).__name__, strict=strict)


def _check_file(model: Model, path: Path, layout: Mapping[str, TensorSpan], architecture: str, strict: bool
                ) -> tuple[dict[str, str], dict[str, torch.Tensor], list[str]]:
    """Compare the file with the model: (file name -> model name, the model's state, wrong-kind keys)."""
    names = {name: name for name in layout}
    renames = model.file_key_renames(list(layout))
    if renames:  # an older layout of the same tensors: check and load them under the model's names
        names = {name: renames.get(name, name) for name in layout}
        if len(set(names.values())) != len(names):
            clash = sorted(k for k in renames.values() if k in layout)
            raise StateDictMismatchError(f"{path} does not fit architecture {architecture!r}: it holds both old and "
                                         f"new names for {_listing(clash)}")
    model_state = model.state_dict()
    expected = {name: tuple(t.shape) for name, t in model_state.items()}
    found = {names[name]: shape for name, (_, shape, _, _) in layout.items()}
    # an integer tensor cannot become a float parameter (a float one for an integer buffer is cast below)
    wrong_kind = sorted(names[k] for k, (kind, _, _, _) in layout.items()
                        if names[k] in model_state and model_state[names[k]].is_floating_point()
                        and not kind.startswith(("F", "BF")))
    if strict:
        compare_layout(expected, found, where=str(path), architecture=architecture)
        if wrong_kind:
            kinds = [f"{k} (file {layout[next(f for f in names if names[f] == k)][0]}, model "
                     f"{str(model_state[k].dtype).replace('torch.', '')})" for k in wrong_kind]
            raise StateDictMismatchError(f"{path} does not fit architecture {architecture!r}: "
                                         f"wrong dtypes: {_listing(kinds)}")
    return names, model_state, wrong_kind


def _read(handle: Any, span: TensorSpan, path: Path, scratch: torch.Tensor) -> torch.Tensor:
    """One tensor read from the open file into ``scratch`` (reused for every tensor): a view of it."""
    kind, shape, begin, end = span
    if kind not in _TORCH_DTYPES:
        raise StateDictMismatchError(f"{path}: this torch cannot hold {kind} tensors")
    raw = scratch[:end - begin]
    if end > begin:
        view = memoryview(raw.numpy())  # type: ignore[arg-type]  # numpy arrays are buffers
        handle.seek(begin)
        got = 0
        while got < len(view):
            n = handle.readinto(view[got:])
            if not n:
                from .errors import WeightsFormatError

                raise WeightsFormatError(f"{path}: the file ended inside its tensor data (truncated?)")
            got += n
    return raw.view(_TORCH_DTYPES[kind]).reshape(shape)


def _fits(tensor: torch.Tensor, target: torch.Tensor | None, dtype: torch.dtype) -> torch.dtype:
    """The dtype a file tensor is kept in: integer buffers keep the model's, floats become ``dtype``."""
    if target is not None and not target.is_floating_point():
        return target.dtype
    return dtype if tensor.is_floating_point() else tensor.dtype


def load_weights_into(model: M, path: Path, *, device: torch.device, dtype: torch.dtype,
                      architecture: str, strict: bool = True) -> M:
    """Load ``path`` into ``model`` on ``device`` with floats cast to ``dtype`` (see the module)."""
    layout = read_layout(path)
    names, model_state, wrong_kind = _check_file(model, path, layout, architecture, strict)
    expected = {name: tuple(t.shape) for name, t in model_state.items()}
    usable = [f for f in layout if strict or (names[f] in expected and layout[f][1] == expected[names[f]]
                                                and names[f] not in wrong_kind)]
    state: dict[str, torch.Tensor] = {}
    no_cast = device.type == "cpu" and all(
        _TORCH_DTYPES.get(layout[f][0]) == _fits(torch.empty(0, dtype=_TORCH_DTYPES.get(layout[f][0], torch.uint8)),
                                                 model_state.get(names[f]), dtype)
        for f in usable)
    if no_cast:  # nothing to convert: map the file and use its pages as the tensors (zero copy)
        from safetensors import safe_open

        with safe_open(str(path), framework="pt", device="cpu") as handle:
            for name in usable:
                state[names[name]] = handle.get_tensor(name)
    else:
        # one buffer the size of the largest tensor, read into again and again: memory stays the model at
        # its dtype plus that buffer (allocating a fresh one per tensor fragments the heap by as much again)
        largest = max((layout[f][3] - layout[f][2] for f in usable), default=0)
        scratch = torch.empty(largest, dtype=torch.uint8, pin_memory=device.type == "cuda")
        with open(path, "rb", buffering=0) as handle:
            for name in sorted(usable, key=lambda f: layout[f][2]):  # in file order: sequential reads
                tensor = _read(handle, layout[name], path, scratch)
                keep = _fits(tensor, model_state.get(names[name]), dtype)
                if device.type != "cpu":  # copy to the GPU first, cast there: the CPU holds one tensor at most
                    state[names[name]] = tensor.to(device, copy=True).to(keep)
                else:  # a copy either way: the scratch buffer is reused for the next tensor
                    state[names[name]] = tensor.to(keep, copy=True)
        del scratch
    model.load_state_dict(state, strict=strict, assign=True)
    del state
    leftover = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    unfillable = [n for n in leftover if n not in expected]  # no file can hold these, strict or not
    if unfillable:
        raise PluginError(f"architecture {architecture!r}: {_listing(unfillable)} are not in its state dict "
                          "(non-persistent buffers must be created lazily in forward)")
    for name in leftover:  # non-strict: what the file lacked starts as zeros
        _materialise(model, name, device=device, dtype=dtype)
    if any(t.device != device for t in _tensors(model)):  # a walk of every module, only when one is elsewhere
        model.to(device=device)
    return model.eval()


def _tensors(model: Model) -> Iterator[torch.Tensor]:
    yield from model.parameters()
    yield from model.buffers()


def _materialise(model: Model, name: str, *, device: torch.device, dtype: torch.dtype) -> None:
    module_name, _, attr = name.rpartition(".")
    module = model.get_submodule(module_name)
    old = getattr(module, attr)
    new = torch.zeros(old.shape, device=device, dtype=dtype if old.is_floating_point() else old.dtype)
    if isinstance(old, torch.nn.Parameter):
        module._parameters[attr] = torch.nn.Parameter(new, requires_grad=old.requires_grad)
    else:
        module._buffers[attr] = new
