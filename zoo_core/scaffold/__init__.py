"""``zoo new-plugin``: write a complete, installable plugin distribution from templates.

The common files (``templates/*.tmpl``, shipped as package data) and each task's own
template folder (``Task.extras.scaffold``: ``model.py.tmpl``, ``test.py.tmpl`` and a
``scaffold.toml`` naming the parts) hold the files; this module fills in the names, and for
tasks with weights builds the model once to write seeded tiny weights and a registry
fragment that pins their real size and sha256, so the new plugin's ``zoo run`` works
offline straight after ``pip install -e``. Any registered task with a scaffold is a
``--kind``: a plugin that registers a task can ship templates for it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..folders import staged_folder
from .toml_text import entry_toml

__all__ = ["Scaffold", "Templates", "kinds", "templates_for", "plan", "plan_new_task", "write_plugin"]

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Templates:
    """A task's scaffold: its template folder and the names and words ``scaffold.toml`` gives."""

    folder: Path
    summary: str
    arch_suffix: str
    class_suffix: str
    module: str
    run_example: str
    architecture_extra: str
    weights: bool


def _folder(spec: str) -> Path:
    """A task's ``scaffold``: a core template set's name, ``"package.module:folder"`` or a path."""
    if ":" in spec and not Path(spec).is_absolute():
        module_name, _, relative = spec.partition(":")
        spec_found = importlib.util.find_spec(module_name)
        if spec_found is None or spec_found.origin is None:
            raise InputError(f"scaffold {spec!r}: cannot find module {module_name!r}")
        return Path(spec_found.origin).resolve().parent / relative
    if "/" not in spec and (_TEMPLATES / spec).is_dir():
        return _TEMPLATES / spec
    return Path(spec)


def kinds() -> list[str]:
    """The registered tasks that ship a scaffold (``--kind`` choices)."""
    from ..plugins import get_catalogue

    return [name for name, task in get_catalogue().tasks.items() if task.extras.scaffold]


def templates_for(kind: str) -> Templates:
    """The scaffold of the registered task ``kind``; an ``InputError`` naming ``--kind`` otherwise."""
    from ..plugins import get_catalogue
    from ..registry import tomllib

    task = get_catalogue().tasks.get(kind)
    if task is None or not task.extras.scaffold:
        raise InputError(f"--kind {kind!r}: must be one of {', '.join(kinds())}")
    folder = _folder(task.extras.scaffold)
    try:
        words = tomllib.loads((folder / "scaffold.toml").read_text())
        extra = words.get("architecture_extra", "")
        if extra and not extra.startswith("\n"):  # TOML drops the newline that opens a multi-line string
            extra = "\n" + extra
        return Templates(folder=folder, summary=words["summary"], arch_suffix=words["arch_suffix"],
                         class_suffix=words["class_suffix"], module=words.get("module", "model"),
                         run_example=words["run_example"], architecture_extra=extra,
                         weights=task.loads_weights())
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"--kind {kind}: the scaffold of task {kind!r} ({task.plugin}) in {folder} is broken: "
                         f"{type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class Scaffold:
    """The names one plugin is built from."""

    name: str  # entry-point name: sneakers
    kind: str
    dist: str  # distribution: zoo-sneakers
    package: str  # import package: zoo_sneakers
    arch: str  # architecture: sneakers-mlp
    model: str  # registry entry: sneakers-demo
    cls: str  # model class: SneakersGenerator
    module: str  # module holding the class: model | analyzer
    templates: Templates

    @property
    def has_weights(self) -> bool:
        return self.templates.weights


def plan(name: str, kind: str = "generator") -> Scaffold:
    """Validate ``name`` and ``kind`` into the plugin's names; ``InputError`` naming the argument."""
    return _named(name, kind, templates_for(kind))


#: The templates of ``zoo new-plugin NAME --new-task TASK``: a plugin that registers a new task.
_NEW_TASK = _TEMPLATES / "new-task"


def plan_new_task(name: str, task: str) -> Scaffold:
    """The names of a plugin ``zoo-NAME`` that registers the new task ``task``; ``InputError``
    naming the argument for a bad name or a task that is registered already."""
    from ..plugins import get_catalogue
    from ..task import TASK_NAME

    if not TASK_NAME.fullmatch(task) or len(task) > 40:
        raise InputError(f"--new-task {task!r}: use lower-case words joined by dashes (e.g. 'image-tint'), at most "
                         "40 characters")
    registered = get_catalogue().tasks.get(task)
    if registered is not None:
        also = f", or scaffold a model of it with --kind {task}" if registered.extras.scaffold else ""
        raise InputError(f"--new-task {task!r}: is a task already ({registered.plugin}); pick another name{also}")
    templates = Templates(folder=_NEW_TASK, summary="images in, one image of the same size out per input",
                          arch_suffix="mixer", class_suffix="Mixer", module="model",
                          run_example="zoo run {model} photo.png --out-dir out", architecture_extra="", weights=True)
    return _named(name, task, templates)


def _named(name: str, kind: str, templates: Templates) -> Scaffold:
    if name.startswith("zoo-") or name.startswith("zoo_"):
        raise InputError(f"NAME {name!r}: give it without the 'zoo-' prefix (zoo new-plugin {name[4:]}); "
                         "the distribution is called zoo-NAME")
    if not _NAME.fullmatch(name) or len(name) > 40:
        raise InputError(f"NAME {name!r}: use lower-case letters and digits, words joined by single dashes, "
                         "starting with a letter (e.g. 'sneakers' or 'pixel-art'), at most 40 characters")
    if name in ("core", "zoo"):
        raise InputError(f"NAME {name!r}: zoo-{name} would clash with zoo's own distribution; pick another name")
    words = name.split("-")
    return Scaffold(
        name=name, kind=kind, dist=f"zoo-{name}", package="zoo_" + name.replace("-", "_"),
        arch=f"{name}-{templates.arch_suffix}", model=f"{name}-demo",
        cls="".join(w.capitalize() for w in words) + templates.class_suffix,
        module=templates.module, templates=templates,
    )


def _fill(template: str | Path, values: dict[str, str]) -> str:
    text = (_TEMPLATES / template).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    leftover = re.search(r"\{\{(\w+)\}\}", text)
    if leftover:  # a template and this module disagree: a bug in zoo, not the user's input
        raise RuntimeError(f"template {template}: no value for {{{{{leftover.group(1)}}}}}")
    return text


def _values(s: Scaffold) -> dict[str, str]:
    run = s.templates.run_example.format(model=s.model, name=s.name, arch=s.arch)
    if s.has_weights:
        weights_note = " with bundled tiny weights (seeded, untrained: replace them with yours)"
        weights_layout = (f"\n- `{s.package}/weights/{s.model}.safetensors`: the bundled weights, "
                          "pinned by size and sha256 in `models.toml`.")
        publish = (f" Weights go to the Hub: `zoo export {s.model} hub/{s.model}`, then "
                   f"`hf upload you/{s.model} hub/{s.model} .`, then pin the commit it made with "
                   f"`zoo registry add {s.model} --repo-id you/{s.model} --revision SHA "
                   f"--file hub/{s.model}/model.safetensors --registry PATH`.")
        deps = '"zoo-core>=0.3", "torch>=2.2"'
        torch_note = " (imports torch; only loaded on first use)"
    else:
        weights_note = " (no weights: it computes its answer)"
        weights_layout = ""
        publish = f" A {s.kind} has no weights to publish."
        deps = '"zoo-core>=0.3"'
        torch_note = " (torch-free)"
    return {
        "name": s.name, "kind": s.kind, "dist": s.dist, "package": s.package, "arch": s.arch,
        "model": s.model, "cls": s.cls, "module": s.module, "summary": s.templates.summary,
        "architecture_extra": s.templates.architecture_extra, "dependencies": deps, "run_example": run,
        "weights_note": weights_note, "weights_layout": weights_layout, "publish_weights": publish,
        "torch_note": torch_note,
        "interface": "".join(w.capitalize() for w in s.kind.split("-")),
    }


def _import_file(path: Path, module_name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and get_type_hints look the module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _make_weights(s: Scaffold, package_dir: Path) -> dict:
    """Build the model from its default config, seeded, and save its state dict; the entry's weights table."""
    import dataclasses

    import torch
    from safetensors.torch import save_file

    from ..integrity import sha256_file

    module_name = f"_zoo_scaffold_{s.package}_{os.getpid()}"
    module = _import_file(package_dir / f"{s.module}.py", module_name)
    try:
        cls = getattr(module, s.cls)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = cls.from_config({})
        config = dataclasses.asdict(model.config)
        weights_dir = package_dir / "weights"
        weights_dir.mkdir()
        path = weights_dir / f"{s.model}.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata={"format": "pt"})
    finally:
        sys.modules.pop(module_name, None)
    return {"config": config, "weights": {
        "filename": "model.safetensors", "size": path.stat().st_size, "sha256": sha256_file(path),
        "bundled": f"weights/{s.model}.safetensors",
    }}


def _registry_fragment(s: Scaffold, package_dir: Path) -> str:
    table: dict = {
        "architecture": s.arch, "task": s.kind, "plugin": s.dist, "license": "apache-2.0",
        "description": (f"untrained {s.kind} from zoo new-plugin (seeded random weights): replace with yours"
                        if s.has_weights else s.templates.summary),
        "tags": ["demo"],
    }
    if s.has_weights:
        made = _make_weights(s, package_dir)
        table["config"] = made["config"]
        table["weights"] = made["weights"]
    header = (f"# {s.dist}'s registry fragment: one [models.NAME] table per model (schema: zoo's docs/plugins.md).\n"
              "# bundled paths are relative to this file; size and sha256 pin the exact bytes.\n\n")
    return header + entry_toml(s.model, table)


def write_plugin(name: str, kind: str = "generator", directory: Path | None = None, *,
                 new_task: str | None = None) -> tuple[Scaffold, Path]:
    """Write plugin ``zoo-NAME`` into ``directory`` (default ``./zoo-NAME``); it must be absent or empty.

    With ``new_task`` the plugin registers that new task (its interface, a runner writing
    through the output service, its checks) besides a model of it; otherwise its model is of
    the registered task ``kind``. Everything is written into a temporary folder beside the
    target and renamed into place, so a failure leaves nothing behind.
    """
    s = plan_new_task(name, new_task) if new_task is not None else plan(name, kind)
    target = Path(directory) if directory is not None else Path.cwd() / s.dist
    target = target.expanduser().absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"--dir {target}: already exists and is not empty; choose a new folder")
    with staged_folder(target, option="--dir") as staging:  # an empty folder is filled, never replaced
        values = _values(s)
        package_dir = staging / s.package
        (staging / "tests").mkdir(parents=True)
        package_dir.mkdir()
        (staging / "pyproject.toml").write_text(_fill("pyproject.toml.tmpl", values))
        (staging / "README.md").write_text(_fill("README.md.tmpl", values))
        hooks = _NEW_TASK / "__init__.py.tmpl" if new_task is not None else "__init__.py.tmpl"
        (package_dir / "__init__.py").write_text(_fill(hooks, values))
        if new_task is not None:
            (package_dir / "task.py").write_text(_fill(_NEW_TASK / "task.py.tmpl", values))
        (package_dir / f"{s.module}.py").write_text(_fill(s.templates.folder / "model.py.tmpl", values))
        tests = _fill("test_header.py.tmpl", values) + _fill(s.templates.folder / "test.py.tmpl", values)
        if s.has_weights:
            tests += _fill("test_weights.py.tmpl", values)
        (staging / "tests" / f"test_{s.package}.py").write_text(tests)  # unique name: pytest can run many plugins at once
        (package_dir / "models.toml").write_text(_registry_fragment(s, package_dir))
    return s, target
