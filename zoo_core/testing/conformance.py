"""The plugin conformance kit: check that a plugin honours zoo's contracts, with no downloads.

One call checks everything a distribution registers::

    from zoo_core.testing.conformance import check_plugin
    check_plugin("zoo-gan").assert_ok()

``check_architecture("dcgan")`` checks one architecture built from its default config (or
``config=``) with tiny random weights. Each failure is ``(subject, check, message)``, the
subject being the model or architecture name (the distribution for plugin-wide checks);
``Report.assert_ok()`` raises one ``AssertionError`` with a line ``SUBJECT: CHECK: message``
per failure. Checks that cannot run here (an option with no default, weights too big for a
test) are recorded in ``Report.notes``, never silently passed.

The checks import torch (except for causal analyzers); only the plugin-wide import check
runs in a subprocess, so that it sees a fresh ``sys.modules``.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..architectures import Architecture, Option
from ..plugins import Catalogue, PluginInfo, get_catalogue

__all__ = ["Report", "check_plugin", "check_architecture", "tiny_weights", "CHECKS",
           "MAX_WEIGHT_BYTES", "MAX_PIXELS"]

#: Random weights above this many bytes (float32) are not built: the model checks are noted as skipped.
MAX_WEIGHT_BYTES = 64 * 2**20
#: Images above this many pixels (H*W) are not generated on the CPU: the behaviour checks are noted as skipped.
MAX_PIXELS = 128 * 128

#: Every check the kit runs, by the name its failures carry.
CHECKS = {
    "plugin loads": "the entry point imports, declares a supported ZOO_PLUGIN_API and its hooks succeed",
    "no torch on import": "importing the entry point (and a causal analyzer's module) does not import torch",
    "interface": "the architecture's class imports and subclasses the interface of its task",
    "options": "declared zoo run options are Options with defaults of their type, not shadowed by the core's, "
               "and accepted by the method zoo run passes them to",
    "config round trip": "config -> JSON dict -> config gives an equal config",
    "state-dict round trip": "random weights saved as safetensors load strictly through zoo_core's loader unchanged",
    "output shape": "sample() and decode() give (N, *image_shape); encode() gives (N, *latent_shape)",
    "output dtype": "outputs have the model's dtype",
    "value range": "sample() gives finite values in [-1, 1]",
    "determinism": "the same seed (or input) gives the same output",
    "dtype move": "after .to(float64/bfloat16) the same latents give the same images (to precision)",
    "device move": "on CUDA the same latents give the same images as on the CPU",
    "decode": "decode() of given latents (and labels) returns finite images",
    "encode": "encode() of images in [-1, 1] returns finite latents",
    "analyze": "analyze() with the declared options' defaults returns an AnalysisResult",
    "registry entry": "the entry's task matches its architecture",
    "behaviour": "(notes only) the output checks above, skipped together when the model is too big to run here",
}

_SEED = 0
_BATCH = 2


@dataclass
class Report:
    """What a conformance run found: ``failures``, ``notes`` (skipped checks, why) and ``passed``."""

    failures: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[tuple[str, str, str]] = field(default_factory=list)
    passed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        """One ``SUBJECT: CHECK: message`` line per failure."""
        return [f"{subject}: {check}: {message}" for subject, check, message in self.failures]

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` listing every failure, one per line."""
        if self.failures:
            raise AssertionError("\n".join(self.lines()))

    def extend(self, other: Report) -> None:
        self.failures += other.failures
        self.notes += other.notes
        self.passed += other.passed

    def fail(self, subject: str, check: str, message: str) -> None:
        self.failures.append((subject, check, message))

    def note(self, subject: str, check: str, message: str) -> None:
        self.notes.append((subject, check, message))

    def run(self, subject: str, check: str, func: Callable[[], str | None]) -> bool:
        """Run one check: an exception is its failure, a returned string a reason it was skipped."""
        try:
            skipped = func()
        except Exception as exc:  # noqa: BLE001 - whatever the plugin does wrong is reported, not raised
            self.fail(subject, check, _describe(exc))
            return False
        if skipped:
            self.note(subject, check, f"skipped: {skipped}")
        else:
            self.passed.append((subject, check))
        return True


class _CheckFailed(Exception):
    """A contract violation found by a check (the message says which)."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _CheckFailed):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0] if text else type(exc).__name__


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise _CheckFailed(message)


# -- plugin-wide checks ----------------------------------------------------------------

# Imports modules in order and stops after the first that imports torch (a second import of
# torch in one process is unsafe), so the caller probes the rest in a fresh interpreter.
_IMPORT_PROBE = """
import importlib, json, sys
results = {}
for label, module in json.loads(sys.argv[1]):
    try:
        importlib.import_module(module)
    except Exception as exc:
        results[label] = "cannot import %s: %s: %s" % (module, type(exc).__name__, exc)
        continue
    results[label] = "torch" in sys.modules
    if results[label]:
        break
print("ZOO-PROBE " + json.dumps(results))
"""


def _imports_torch(modules: list[tuple[str, str]]) -> dict[str, Any]:
    """Import each ``(label, module)`` in fresh interpreters: label -> imported torch? (or an error)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    results: dict[str, Any] = {}
    remaining = list(modules)
    while remaining:
        result = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, json.dumps(remaining)],
                                capture_output=True, text=True, env=env, timeout=120)
        found = next((json.loads(line[len("ZOO-PROBE "):]) for line in result.stdout.splitlines()
                      if line.startswith("ZOO-PROBE ")), None)
        if not found:
            tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise _CheckFailed(f"the import probe failed (exit {result.returncode}): {tail}")
        results.update(found)
        remaining = remaining[len(found):]
    return results


def _find_plugin(catalogue: Catalogue, name: str) -> PluginInfo:
    for info in catalogue.plugins:
        if name in (info.distribution, info.name):
            return info
    known = ", ".join(sorted(p.distribution for p in catalogue.plugins)) or "none"
    raise LookupError(f"no installed zoo plugin is called {name!r} (installed: {known})")


def check_plugin(name: str, *, configs: Mapping[str, Mapping[str, Any]] | None = None,
                 analyze: Mapping[str, Mapping[str, Any]] | None = None,
                 max_weight_bytes: int = MAX_WEIGHT_BYTES, max_pixels: int = MAX_PIXELS) -> Report:
    """Run every check against everything the distribution (or entry point) ``name`` registers.

    Each architecture is checked with its default config, or ``configs[arch]`` (give a small
    one where the default is big); each registry entry whose architecture the plugin provides
    is checked with its own config, within ``max_weight_bytes`` of float32 random weights and
    ``max_pixels`` per generated image (beyond them the checks are noted as skipped).
    ``analyze[arch]`` gives a causal analyzer options for its ``analyze`` check.
    """
    catalogue = get_catalogue()
    info = _find_plugin(catalogue, name)
    subject = info.distribution
    report = Report()
    if info.status != "ok":
        report.fail(subject, "plugin loads", f"{info.status}: {info.error}")
        return report
    report.passed.append((subject, "plugin loads"))

    module = info.module.partition(":")[0]
    probes = [(subject, module)]
    for arch_name in info.architectures:
        arch = catalogue.architectures[arch_name]
        if arch.task == "causal-analyzer":
            probes.append((arch_name, arch.target.partition(":")[0]))
    try:
        found = _imports_torch(probes)
    except Exception as exc:  # noqa: BLE001
        report.fail(subject, "no torch on import", _describe(exc))
        found = {}
    for label, value in found.items():
        if value is True:
            what = "its entry point" if label == subject else "the analyzer's module"
            report.fail(label, "no torch on import", f"importing {what} imports torch; import it inside the "
                                                     "functions that need it")
        elif value is False:
            report.passed.append((label, "no torch on import"))
        else:
            report.fail(label, "no torch on import", str(value))

    for arch_name in info.architectures:
        report.extend(check_architecture(arch_name, config=(configs or {}).get(arch_name),
                                         analyze=(analyze or {}).get(arch_name), max_weight_bytes=max_weight_bytes,
                                         max_pixels=max_pixels))
    provided = set(info.architectures)
    for entry in catalogue.registry.search(None, None):
        if entry.architecture in provided:
            report.extend(_check_entry(catalogue, entry, analyze=(analyze or {}).get(entry.architecture),
                                       max_weight_bytes=max_weight_bytes, max_pixels=max_pixels))
        elif entry.plugin == info.distribution:
            report.fail(entry.name, "registry entry", f"names plugin {info.distribution} but its architecture "
                                                      f"{entry.architecture!r} is not registered by it")
    return report


def _check_entry(catalogue: Catalogue, entry: Any, *, analyze: Mapping[str, Any] | None,
                 max_weight_bytes: int, max_pixels: int) -> Report:
    report = Report()
    arch = catalogue.architectures[entry.architecture]

    def task() -> None:
        _require(entry.task == arch.task, f"task {entry.task!r} does not match architecture {arch.name!r}, "
                                          f"which is a {arch.task}")

    report.run(entry.name, "registry entry", task)
    cls = _interface_class(arch)
    if cls is None:
        return report  # the architecture's own check says why
    if arch.task == "causal-analyzer":
        _check_analyzer(report, entry.name, arch, cls, entry.config, analyze, with_options=False)
    else:
        _check_model(report, entry.name, arch, cls, entry.config, max_weight_bytes=max_weight_bytes,
                     max_pixels=max_pixels, with_options=False)
    return report


# -- one architecture -------------------------------------------------------------------

def _interface_class(arch: Architecture) -> type | None:
    from ..api import _model_class

    try:
        return _model_class(arch)
    except Exception:  # noqa: BLE001 - reported by the "interface" check
        return None


def check_architecture(name: str, config: Mapping[str, Any] | Any | None = None, *,
                       analyze: Mapping[str, Any] | None = None, max_weight_bytes: int = MAX_WEIGHT_BYTES,
                       max_pixels: int = MAX_PIXELS) -> Report:
    """Check the installed architecture ``name`` built from ``config`` (default: its config class's defaults)
    with tiny random weights; ``analyze`` gives a causal analyzer's options."""
    from ..api import _model_class

    arch = get_catalogue().architecture(name)
    report = Report()
    holder: dict[str, type] = {}

    def interface() -> None:
        holder["cls"] = _model_class(arch)

    if not report.run(name, "interface", interface):
        return report
    cls = holder["cls"]
    if arch.task == "causal-analyzer":
        _check_analyzer(report, name, arch, cls, config, analyze, with_options=True)
    else:
        _check_model(report, name, arch, cls, config, max_weight_bytes=max_weight_bytes, max_pixels=max_pixels,
                     with_options=True)
    return report


def _check_options(report: Report, subject: str, arch: Architecture, methods: list[Callable[..., Any]]) -> None:
    from ..run_options import options_for

    def options() -> None:
        core = {o.name for o in options_for(arch.task, dataclasses.replace(arch, options=()))}
        for option in arch.options:
            _require(isinstance(option, Option), f"{option!r} is not a zoo_core.Option")
            _require(option.name not in core, f"--{option.name} is shadowed by zoo run's own --{option.name}; "
                                              "rename it")
            _require(not (option.required and option.default is not None),
                     f"--{option.name} is required but has a default ({option.default!r})")
            if option.default is not None and not option.multiple:
                _require(_default_fits(option), f"--{option.name}: default {option.default!r} is not a valid "
                                                f"{option.type}" + (f" (one of {', '.join(option.choices)})"
                                                                    if option.type == "choice" else ""))
            keyword = option.name.replace("-", "_")
            for method in methods:
                _require(_accepts(method, keyword), f"--{option.name}: {method.__qualname__}() takes no "
                                                    f"{keyword!r} keyword, but zoo run passes it")

    report.run(subject, "options", options)


def _default_fits(option: Option) -> bool:
    value = option.default
    if option.type == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if option.type == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if option.type == "bool":
        return isinstance(value, bool)
    if option.type == "choice":
        return str(value) in option.choices
    return isinstance(value, (str, os.PathLike))


def _accepts(method: Callable[..., Any], keyword: str) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return True  # a builtin or C method: nothing to inspect
    return any(p.kind is p.VAR_KEYWORD or (p.name == keyword and p.kind is not p.POSITIONAL_ONLY)
               for p in parameters)


def _config_round_trip(report: Report, subject: str, config_class: type | None, config: Any) -> Any:
    from ..config import build_config, config_to_dict

    holder: dict[str, Any] = {}

    def round_trip() -> None:
        if config_class is None:
            holder["config"] = None
            return
        built = build_config(config_class, config if config is not None else {})
        holder["config"] = built  # the model checks still run on it if the round trip fails
        document = json.loads(json.dumps(config_to_dict(built)))
        again = build_config(config_class, document)
        _require(again == built, f"{config_class.__name__} -> dict -> config changed it: {built!r} became {again!r}")

    report.run(subject, "config round trip", round_trip)
    return holder.get("config", config if config is not None else {})


def _check_analyzer(report: Report, subject: str, arch: Architecture, cls: type, config: Any,
                    analyze: Mapping[str, Any] | None, *, with_options: bool) -> None:
    from ..causal import AnalysisResult

    if with_options:
        _check_options(report, subject, arch, [cls.analyze])
    built = _config_round_trip(report, subject, cls.config_class, config)

    def run_analyze() -> str | None:
        # what zoo run passes: every declared option, its default (or None) unless given
        given = {k.replace("-", "_"): v for k, v in (analyze or {}).items()}
        missing = [f"--{o.name}" for o in arch.options
                   if o.required and o.default is None and o.name.replace("-", "_") not in given]
        if missing:
            return (f"required option {', '.join(missing)} has no default; pass "
                    f"analyze={{{arch.name!r}: {{...}}}} to check it")
        options = {o.name.replace("-", "_"): (() if o.multiple and o.default is None else o.default)
                   for o in arch.options}
        options.update(given)
        analyzer = cls.from_config(built)
        result = analyzer.analyze(**options)
        _require(isinstance(result, AnalysisResult),
                 f"analyze() returned {type(result).__name__}, not zoo_core.AnalysisResult")
        _require(isinstance(result.data, dict), f"AnalysisResult.data is {type(result.data).__name__}, not a dict")
        json.dumps(result.data, default=str)
        return None

    report.run(subject, "analyze", run_analyze)


def _weight_bytes(cls: type, config: Any) -> int:
    import torch

    with torch.device("meta"):
        model = cls.from_config(config)
    return sum(t.numel() * 4 for t in model.state_dict().values())


def _random_model(cls: type, config: Any) -> Any:
    import torch

    torch.manual_seed(_SEED)
    model = cls.from_config(config)
    with torch.no_grad():  # default inits can leave parts at zero or one: make every tensor count
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.randn_like(tensor) * 0.02)
    return model.eval()


def _check_model(report: Report, subject: str, arch: Architecture, cls: type, config: Any, *,
                 max_weight_bytes: int, max_pixels: int, with_options: bool) -> None:
    from ..interfaces import Autoencoder, Encoder, Generator

    if with_options:
        if issubclass(cls, Autoencoder):  # zoo run samples without --input and reconstructs with it
            methods = [cls.sample, cls.reconstruct]
        else:
            methods = [cls.sample] if issubclass(cls, Generator) else [cls.encode]
        _check_options(report, subject, arch, methods)
    built = _config_round_trip(report, subject, cls.config_class, config)
    try:
        size = _weight_bytes(cls, built)
    except Exception as exc:  # noqa: BLE001
        report.fail(subject, "state-dict round trip", f"cannot build the model: {_describe(exc)}")
        return
    if size > max_weight_bytes:
        for check in ("state-dict round trip", "behaviour"):
            report.note(subject, check, f"skipped: {size / 2**20:.0f} MiB of float32 random weights is over the "
                                        f"{max_weight_bytes / 2**20:.0f} MiB limit; check the architecture with a "
                                        "smaller config")
        return
    try:
        model = _random_model(cls, built)
    except Exception as exc:  # noqa: BLE001
        report.fail(subject, "state-dict round trip", f"cannot build the model: {_describe(exc)}")
        return
    report.run(subject, "state-dict round trip", lambda: _state_dict_round_trip(model, cls, built, arch.name))
    if isinstance(model, Generator):
        pixels = model.image_shape[1] * model.image_shape[2]
        if pixels > max_pixels:
            report.note(subject, "behaviour", f"skipped: {model.image_shape[1]}x{model.image_shape[2]} images are "
                                              f"over the {max_pixels}-pixel limit for CPU checks")
            return
        _check_generator(report, subject, model)
    if isinstance(model, Encoder):
        _check_encoder(report, subject, model)


def _state_dict_round_trip(model: Any, cls: type, config: Any, architecture: str) -> None:
    import torch

    from ..loading import build_model, load_weights_into

    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    with tempfile.TemporaryDirectory(prefix="zoo-conformance-") as folder:
        path = Path(folder) / "model.safetensors"
        _save(state, path)
        loaded = build_model(cls, config, architecture=architecture)
        load_weights_into(loaded, path, device=torch.device("cpu"), dtype=torch.float32, architecture=architecture,
                          strict=True)
    again = loaded.state_dict()
    _require(set(again) == set(state), f"keys changed: {sorted(set(again) ^ set(state))[:5]}")
    changed = [k for k in state if again[k].dtype != state[k].dtype or not torch.equal(again[k], state[k])]
    _require(not changed, f"tensors changed after save and strict load: {', '.join(changed[:5])}")


def _save(state: Mapping[str, Any], path: Path) -> None:
    from safetensors.torch import save_file

    save_file(dict(state), str(path))


def _same(a: Any, b: Any) -> bool:
    """Equal shapes, dtypes and values (NaN equal to NaN: that is a range problem, not nondeterminism)."""
    import torch

    return a.shape == b.shape and a.dtype == b.dtype and torch.allclose(a, b, rtol=0, atol=0, equal_nan=True)


def _close(a: Any, b: Any) -> float:
    """Largest absolute difference between two tensors (as float64 on the CPU)."""
    return float((a.detach().double().cpu() - b.detach().double().cpu()).abs().max()) if a.numel() else 0.0


def _check_generator(report: Report, subject: str, model: Any) -> None:
    import torch

    from ..interfaces import seeded_noise

    n = _BATCH
    expected = (n, *model.image_shape)
    latents = seeded_noise((n, *model.latent_shape), _SEED)
    labels = torch.arange(n) % model.num_classes if model.num_classes else None
    outputs: dict[str, Any] = {}

    def decoded() -> Any:
        with torch.inference_mode():
            return model.decode(latents.to(model.dtype), labels)

    def shape() -> None:
        with torch.inference_mode():
            images = model.sample(n, seed=_SEED)
        outputs["sample"] = images
        _require(tuple(images.shape) == expected, f"sample({n}) gave shape {tuple(images.shape)}, "
                                                  f"expected {expected} from image_shape")
        first = decoded()
        _require(tuple(first.shape) == expected, f"decode() gave shape {tuple(first.shape)}, expected {expected}")

    if not report.run(subject, "output shape", shape):
        return
    images = outputs["sample"]

    def dtype() -> None:
        _require(images.dtype == model.dtype, f"sample() gave {images.dtype} from a {model.dtype} model")
        got = decoded().dtype
        _require(got == model.dtype, f"decode() gave {got} from a {model.dtype} model")

    def value_range() -> None:
        _require(bool(torch.isfinite(images).all()), "sample() gave non-finite values")
        low, high = float(images.min()), float(images.max())
        _require(low >= -1 and high <= 1, f"sample() values span [{low:.3g}, {high:.3g}], outside [-1, 1]")

    def determinism() -> None:
        with torch.inference_mode():
            again = model.sample(n, seed=_SEED)
        _require(_same(again, images), f"sample(seed={_SEED}) twice gave different images "
                                       f"(max difference {_close(again, images):.3g})")

    def decode() -> None:
        first, second = decoded(), decoded()
        outputs["decode"] = first
        _require(bool(torch.isfinite(first).all()), "decode() gave non-finite values")
        _require(_same(first, second), "decode() of the same latents twice gave different images")

    report.run(subject, "output dtype", dtype)
    report.run(subject, "value range", value_range)
    report.run(subject, "determinism", determinism)
    if not report.run(subject, "decode", decode) or "decode" not in outputs:
        return
    reference = outputs["decode"]

    def moved(dtype: Any, device: str, atol: float) -> str | None:
        import copy

        other = copy.deepcopy(model)
        try:
            other.to(device=device, dtype=dtype)
            with torch.inference_mode():
                out = other.decode(latents.to(device=device, dtype=dtype),
                                   None if labels is None else labels.to(device))
        except (RuntimeError, NotImplementedError) as exc:
            if dtype == torch.bfloat16 and "not implemented" in str(exc).lower():
                return f"{dtype} is not implemented on {device} for this model: {_describe(exc)}"
            raise _CheckFailed(f"after .to({device!r}, {dtype}) decode() raised {_describe(exc)}") from exc
        _require(out.dtype == dtype, f"after .to({dtype}) decode() gave {out.dtype}")
        _require(out.device.type == torch.device(device).type,
                 f"after .to({device!r}) decode() gave a tensor on {out.device}")
        diff = _close(out, reference)
        _require(diff <= atol, f"after .to({device!r}, {dtype}) the same latents gave images differing by up to "
                               f"{diff:.3g} (allowed {atol:g})")
        return None

    def dtype_move() -> str | None:
        return moved(torch.float64, "cpu", 1e-3) or moved(torch.bfloat16, "cpu", 0.25)

    report.run(subject, "dtype move", dtype_move)
    if torch.cuda.is_available():
        report.run(subject, "device move", lambda: moved(torch.float32, "cuda", 2e-2))
    else:
        report.note(subject, "device move", "skipped: no CUDA device")


def _encoder_input_size(model: Any) -> int:
    from ..interfaces import Generator

    if isinstance(model, Generator):
        return int(model.image_shape[-1])
    for name in ("image_size", "sample_size", "size"):
        value = getattr(model.config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    multiple = max(1, int(model.size_multiple))
    return multiple * max(1, -(-32 // multiple))


def _check_encoder(report: Report, subject: str, model: Any) -> None:
    import torch

    from ..interfaces import Generator

    side = _encoder_input_size(model)
    if side * side > MAX_PIXELS * 4:
        report.note(subject, "encode", f"skipped: {side}x{side} inputs are too big for CPU checks")
        return
    generator = torch.Generator().manual_seed(_SEED)
    images = torch.rand((_BATCH, model.input_channels, side, side), generator=generator) * 2 - 1
    outputs: dict[str, Any] = {}

    def encode() -> None:
        with torch.inference_mode():
            outputs["latents"] = latents = model.encode(images)
        _require(isinstance(latents, torch.Tensor), f"encode() returned {type(latents).__name__}, not a tensor")
        _require(bool(torch.isfinite(latents).all()), "encode() gave non-finite latents")

    if not report.run(subject, "encode", encode):
        return
    latents = outputs["latents"]

    def shape() -> None:
        _require(latents.shape[0] == _BATCH, f"encode() of {_BATCH} images gave {latents.shape[0]} latents")
        if isinstance(model, Generator):
            expected = (_BATCH, *model.latent_shape)
            _require(tuple(latents.shape) == expected, f"encode() gave latents of shape {tuple(latents.shape)}, "
                                                       f"expected {expected} from latent_shape")
            with torch.inference_mode():
                rebuilt = model.reconstruct(images)
            _require(tuple(rebuilt.shape) == tuple(images.shape),
                     f"reconstruct() gave shape {tuple(rebuilt.shape)} for images of shape {tuple(images.shape)}")

    def dtype() -> None:
        _require(latents.dtype == model.dtype, f"encode() gave {latents.dtype} latents from a {model.dtype} model")

    def determinism() -> None:
        with torch.inference_mode():
            again = model.encode(images)
        _require(_same(again, latents), "encode() of the same images twice gave different latents "
                                              f"(max difference {_close(again, latents):.3g})")

    report.run(subject, "output shape", shape)
    report.run(subject, "output dtype", dtype)
    report.run(subject, "determinism", determinism)


# -- tiny weights -------------------------------------------------------------------------

def tiny_weights(architecture: str, path: str | os.PathLike[str], config: Mapping[str, Any] | Any | None = None
                 ) -> Path:
    """Write seeded random weights for ``architecture`` (built from ``config``) to the safetensors ``path``."""
    from ..api import _model_class
    from ..config import build_config

    arch = get_catalogue().architecture(architecture)
    cls = _model_class(arch)
    if arch.task == "causal-analyzer":
        raise ValueError(f"architecture {architecture!r} is a causal analyzer; it has no weights")
    model = _random_model(cls, build_config(cls.config_class, config if config is not None else {}))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}, path)
    return path
