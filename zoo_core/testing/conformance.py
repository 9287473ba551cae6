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

The checks that hold for every model (interface, options, config and state-dict round
trips, bundled weights) live here; what a model of a task must do comes from the task
itself (``Task.checks``; zoo's own tasks' checks are in ``task_checks``), so a plugin that
registers a new task brings its checks along. The checks import torch, except for
torch-free tasks; only the import check runs in a subprocess, to see a fresh ``sys.modules``.
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
from ..task import Task, resolve, task_options
from .task_checks import CheckFailed, ModelChecks, require

__all__ = ["Report", "check_plugin", "check_architecture", "tiny_weights", "CHECKS", "ModelChecks",
           "MAX_WEIGHT_BYTES", "MAX_PIXELS"]

#: Random weights above this many bytes (float32) are not built: the model checks are noted as skipped.
MAX_WEIGHT_BYTES = 64 * 2**20
#: Images above this many pixels (H*W) are not generated on the CPU: the behaviour checks are noted as skipped.
MAX_PIXELS = 128 * 128

#: Every check the kit runs, by the name its failures carry.
CHECKS = {
    "plugin loads": "the entry point imports, declares a supported ZOO_PLUGIN_API and its hooks succeed",
    "registrations used": "every task, architecture and model it registers is used: no name also claimed by "
                          "zoo-core or another plugin, no architecture of a task nobody registers",
    "no torch on import": "importing the entry point (and the module of a model of a torch-free task, such as a "
                          "causal analyzer) does not import torch",
    "interface": "the architecture's task is registered, and its class imports and subclasses the task's interface",
    "options": "declared zoo run options are Options with defaults of their type, not shadowed by the task's, "
               "and accepted by the methods zoo run passes them to",
    "config round trip": "config -> JSON dict -> config gives an equal config",
    "state-dict round trip": "random weights saved as safetensors load strictly through zoo_core's loader unchanged",
    "output shape": "sample() and decode() give (N, *image_shape); encode() gives (N, *latent_shape); transform() "
                    "gives (N, output_channels, H * scale, W * scale)",
    "output dtype": "outputs have the model's dtype",
    "value range": "decode() and transform() give finite values in [-1, 1] as returned, before any clamping",
    "determinism": "the same seed (or input) gives the same output",
    "dtype move": "after .to(float64/bfloat16) the same input gives the same output (to precision)",
    "device move": "on CUDA the same input gives the same output as on the CPU",
    "decode": "decode() of given latents (and labels) returns finite images",
    "encode": "encode() of images in [-1, 1] returns finite latents",
    "any size": "process() takes an image of a size transform() cannot and returns it scaled",
    "fixed tile": "a model that takes one input size only declares it as Architecture(fixed_tile=...), so that "
                  "zoo run --help describes --tile without loading it",
    "analyze": "analyze() with the architecture's example (or the options' defaults) returns an AnalysisResult",
    "registry entry": "the entry's task matches its architecture and its config builds the model",
    "bundled weights": "every weights file the distribution bundles matches its size and sha256 pin and loads "
                       "strictly into its entry's architecture and config",
    "behaviour": "(notes only) the output checks above, skipped together when the model is too big to run here",
}

_SEED = 0


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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CheckFailed):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0] if text else type(exc).__name__


_require = require


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
            raise CheckFailed(f"the import probe failed (exit {result.returncode}): {tail}")
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
    ``max_pixels`` per generated image (beyond them the checks are noted as skipped), and
    every weights file the plugin bundles is verified and loaded. A causal analyzer runs its
    architecture's ``example`` options; ``analyze[arch]`` overrides them.
    """
    catalogue = get_catalogue()
    info = _find_plugin(catalogue, name)
    subject = info.distribution
    report = Report()
    if info.failed:
        report.fail(subject, "plugin loads", f"{info.status}: {info.error}")
        return report
    report.passed.append((subject, "plugin loads"))
    for problem in info.problems:  # a name it registers that the core or another plugin also claims...
        report.fail(subject, "registrations used", problem)
    if not info.problems:
        report.passed.append((subject, "registrations used"))

    probes = [] if info.builtin else [(subject, info.module.partition(":")[0])]
    for arch_name in info.architectures:
        arch = catalogue.architectures[arch_name]
        task = catalogue.tasks.get(arch.task)
        if task is not None and task.torch_free:
            probes.append((arch_name, arch.target.partition(":")[0]))
    try:
        found = _imports_torch(probes) if probes else {}
    except Exception as exc:  # noqa: BLE001
        report.fail(subject, "no torch on import", _describe(exc))
        found = {}
    for label, value in found.items():
        if value is True:
            what = "its entry point" if label == subject else "the module of this torch-free model"
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
        ours = entry.architecture in provided or entry.name in info.models
        if ours and entry.architecture in catalogue.architectures:
            report.extend(_check_entry(catalogue, entry, analyze=(analyze or {}).get(entry.architecture),
                                       max_weight_bytes=max_weight_bytes, max_pixels=max_pixels))
        elif entry.plugin == info.distribution:
            report.fail(entry.name, "registry entry", f"names plugin {info.distribution} but its architecture "
                                                      f"{entry.architecture!r} is not registered by it")
        if entry.name in info.models or entry.architecture in provided:
            _check_bundled(report, catalogue, entry)
    return report


def _check_bundled(report: Report, catalogue: Catalogue, entry: Any) -> None:
    """A bundled weights file: its size and sha256 match the pin, and it loads strictly with the entry's config."""
    weights = entry.weights
    if weights is None or weights.bundled is None:
        return

    def bundled() -> str | None:
        from ..integrity import check_file

        if not weights.bundled.is_file():
            raise CheckFailed(f"bundled file {weights.bundled} is missing (not shipped as package data?)")
        check_file(weights.bundled, size=weights.size, sha256=weights.sha256, what=f"bundled weights of "
                                                                                   f"{entry.name}", rehash=True)
        arch = catalogue.architectures.get(entry.architecture)
        if arch is None:
            return f"architecture {entry.architecture!r} is not installed, so the file's layout was not checked"
        _load_file(catalogue, arch, entry.config, weights.bundled)
        return None

    report.run(entry.name, "bundled weights", bundled)


def _load_file(catalogue: Catalogue, arch: Architecture, config: Any, path: Path) -> None:
    """Build ``arch`` from ``config`` on the meta device and load ``path`` into it strictly."""
    import torch

    from ..api import model_class
    from ..loading import build_model, load_weights_into

    model = build_model(model_class(arch, catalogue), config, architecture=arch.name)
    load_weights_into(model, path, device=torch.device("cpu"), dtype=torch.float32, architecture=arch.name)


def _check_entry(catalogue: Catalogue, entry: Any, *, analyze: Mapping[str, Any] | None,
                 max_weight_bytes: int, max_pixels: int) -> Report:
    report = Report()
    arch = catalogue.architectures[entry.architecture]

    def registry_entry() -> None:
        _require(entry.task == arch.task, f"task {entry.task!r} does not match architecture {arch.name!r}, "
                                          f"which is a {arch.task}")

    report.run(entry.name, "registry entry", registry_entry)
    task = catalogue.tasks.get(arch.task)
    cls = _interface_class(catalogue, arch)
    if cls is None or task is None:
        return report  # the architecture's own check says why
    _check_model(report, entry.name, arch, task, cls, entry.config, max_weight_bytes=max_weight_bytes,
                 max_pixels=max_pixels, with_options=False, example=analyze)
    return report


# -- one architecture -------------------------------------------------------------------

def _interface_class(catalogue: Catalogue, arch: Architecture) -> type | None:
    from ..api import model_class

    try:
        return model_class(arch, catalogue)
    except Exception:  # noqa: BLE001 - reported by the "interface" check
        return None


def check_architecture(name: str, config: Mapping[str, Any] | Any | None = None, *,
                       analyze: Mapping[str, Any] | None = None, max_weight_bytes: int = MAX_WEIGHT_BYTES,
                       max_pixels: int = MAX_PIXELS) -> Report:
    """Check the installed architecture ``name`` built from ``config`` (default: its config class's defaults)
    with tiny random weights; ``analyze`` gives options for a model run (default: the architecture's example)."""
    from ..api import model_class

    catalogue = get_catalogue()
    arch = catalogue.architecture(name)
    report = Report()
    holder: dict[str, Any] = {}

    def interface() -> None:
        holder["task"] = catalogue.task(arch.task)
        holder["cls"] = model_class(arch, catalogue)

    if not report.run(name, "interface", interface):
        return report
    _check_model(report, name, arch, holder["task"], holder["cls"], config, max_weight_bytes=max_weight_bytes,
                 max_pixels=max_pixels, with_options=True, example=analyze)
    return report


def _check_options(report: Report, subject: str, arch: Architecture, task: Task, cls: Any) -> None:
    def options() -> None:
        core = {o.name for o in task_options(task, arch)} | {"json"}
        methods = [getattr(cls, m) for m in task.option_methods if hasattr(cls, m)]
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
        for key in arch.example:
            known = {o.name.replace("-", "_") for o in [*task_options(task, arch), *arch.options]}
            _require(key.replace("-", "_") in known, f"example option {key!r} is not an option of {arch.name}")

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


def _weight_bytes(cls: Any, config: Any) -> int:
    import torch

    with torch.device("meta"):
        model = cls.from_config(config)
    return sum(t.numel() * 4 for t in model.state_dict().values())


def _random_model(cls: Any, config: Any) -> Any:
    import torch

    torch.manual_seed(_SEED)
    model = cls.from_config(config)
    with torch.no_grad():  # default inits can leave parts at zero or one: make every tensor count
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.randn_like(tensor) * 0.02)
    return model.eval()


def _task_checks(task: Task) -> Callable[[ModelChecks], None] | None:
    return resolve(task.checks, what=f"task {task.name!r} checks") if task.checks is not None else None


def _check_model(report: Report, subject: str, arch: Architecture, task: Task, cls: Any, config: Any, *,
                 max_weight_bytes: int, max_pixels: int, with_options: bool,
                 example: Mapping[str, Any] | None) -> None:
    if with_options:
        _check_options(report, subject, arch, task, cls)
    built = _config_round_trip(report, subject, getattr(cls, "config_class", None), config)
    checks = _task_checks(task)
    if not task.loads_weights():
        try:
            model = cls.from_config(built)
        except Exception as exc:  # noqa: BLE001
            report.fail(subject, "registry entry" if not with_options else "config round trip",
                        f"cannot build it: {_describe(exc)}")
            return
        if checks is not None:
            try:
                checks(ModelChecks(report, subject, model, arch, task, max_pixels,
                                   example=dict(example if example is not None else arch.example)))
            except Exception as exc:  # noqa: BLE001 - a task's checks that crash are the task's failure
                report.fail(subject, "behaviour", f"the {task.name} checks of {task.plugin} crashed: "
                                                  f"{_describe(exc)}")
        return
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
    if checks is not None:
        try:
            checks(ModelChecks(report, subject, model, arch, task, max_pixels,
                               example=dict(example if example is not None else arch.example)))
        except Exception as exc:  # noqa: BLE001 - a task's checks that crash are the task's failure
            report.fail(subject, "behaviour", f"the {task.name} checks of {task.plugin} crashed: {_describe(exc)}")


def _state_dict_round_trip(model: Any, cls: Any, config: Any, architecture: str) -> None:
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


# -- tiny weights -------------------------------------------------------------------------

def tiny_weights(architecture: str, path: str | os.PathLike[str], config: Mapping[str, Any] | Any | None = None
                 ) -> Path:
    """Write seeded random weights for ``architecture`` (built from ``config``) to the safetensors ``path``."""
    from ..api import model_class
    from ..config import build_config

    catalogue = get_catalogue()
    arch = catalogue.architecture(architecture)
    cls = model_class(arch, catalogue)
    if not catalogue.task(arch.task).loads_weights():
        raise ValueError(f"architecture {architecture!r} is a {arch.task}; it has no weights")
    model = _random_model(cls, build_config(cls.config_class, config if config is not None else {}))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}, path)
    return path
