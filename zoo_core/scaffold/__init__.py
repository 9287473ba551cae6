"""``zoo new-plugin``: write a complete, installable plugin distribution from templates.

The templates (``templates/*.tmpl``, shipped as package data) hold the files; this module
fills in the names, and for weight-bearing kinds builds the model once to write seeded
tiny weights and a registry fragment that pins their real size and sha256, so the new
plugin's ``zoo run`` works offline straight after ``pip install -e``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .toml_text import entry_toml

__all__ = ["KINDS", "Scaffold", "plan", "write_plugin"]

KINDS = ("generator", "encoder", "autoencoder", "causal-analyzer")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_ARCH_SUFFIX = {"generator": "mlp", "encoder": "conv-encoder", "autoencoder": "conv-ae",
                "causal-analyzer": "backdoor"}
_CLASS_SUFFIX = {"generator": "Generator", "encoder": "Encoder", "autoencoder": "Autoencoder",
                 "causal-analyzer": "Analyzer"}
_SUMMARY = {
    "generator": "a small MLP generator (latents -> 16x16 greyscale images)",
    "encoder": "a two-layer convolutional encoder (RGB images -> latent maps at 1/4 size)",
    "autoencoder": "a small convolutional autoencoder (RGB images <-> latent maps at 1/4 size)",
    "causal-analyzer": "a back-door adjustment analyzer for causal DAGs (torch-free)",
}
_OPTIONS = {
    "generator": '\n        options=(zoo_core.Option("temperature", type="float", default=1.0,\n'
                 '                                 help="scale the latents (0 gives one image)"),),',
    "causal-analyzer": (
        '\n        options=(\n'
        '            zoo_core.Option("graph", required=True, help="edges like \'Z -> X; Z -> Y; X -> Y\'"),\n'
        '            zoo_core.Option("treatment", help="the node whose effect is asked for"),\n'
        '            zoo_core.Option("outcome", help="the node it affects"),\n'
        '        ),'),
}


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

    @property
    def has_weights(self) -> bool:
        return self.kind != "causal-analyzer"


def plan(name: str, kind: str = "generator") -> Scaffold:
    """Validate ``name`` and ``kind`` into the plugin's names; ``InputError`` naming the argument."""
    if kind not in KINDS:
        raise InputError(f"--kind {kind!r}: must be one of {', '.join(KINDS)}")
    if name.startswith("zoo-") or name.startswith("zoo_"):
        raise InputError(f"NAME {name!r}: give it without the 'zoo-' prefix (zoo new-plugin {name[4:]}); "
                         "the distribution is called zoo-NAME")
    if not _NAME.match(name) or len(name) > 40:
        raise InputError(f"NAME {name!r}: use lower-case letters and digits, words joined by single dashes, "
                         "starting with a letter (e.g. 'sneakers' or 'pixel-art'), at most 40 characters")
    if name in ("core", "zoo"):
        raise InputError(f"NAME {name!r}: zoo-{name} would clash with zoo's own distribution; pick another name")
    words = name.split("-")
    return Scaffold(
        name=name, kind=kind, dist=f"zoo-{name}", package="zoo_" + name.replace("-", "_"),
        arch=f"{name}-{_ARCH_SUFFIX[kind]}", model=f"{name}-demo",
        cls="".join(w.capitalize() for w in words) + _CLASS_SUFFIX[kind],
        module="analyzer" if kind == "causal-analyzer" else "model",
    )


def _fill(template: str, values: dict[str, str]) -> str:
    text = (_TEMPLATES / template).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    leftover = re.search(r"\{\{(\w+)\}\}", text)
    if leftover:  # a template and this module disagree: a bug in zoo, not the user's input
        raise RuntimeError(f"template {template}: no value for {{{{{leftover.group(1)}}}}}")
    return text


def _values(s: Scaffold) -> dict[str, str]:
    if s.has_weights:
        run = {"generator": f"zoo run {s.model} --num 16 --out {s.model}.png",
               "encoder": f"zoo run {s.model} --input picture.png --out latents.safetensors",
               "autoencoder": f"zoo run {s.model} --input picture.png --out reconstruction.png"}[s.kind]
        weights_note = " with bundled tiny weights (seeded, untrained: replace them with yours)"
        weights_layout = (f"\n- `{s.package}/weights/{s.model}.safetensors`: the bundled weights, "
                          "pinned by size and sha256 in `models.toml`.")
        publish = (f" Weights go to the Hub: `zoo export {s.model} hub/{s.model}`, then "
                   f"`hf upload you/{s.model} hub/{s.model} .`, then pin the commit it made with "
                   f"`zoo registry add {s.model} --repo-id you/{s.model} --revision SHA "
                   f"--file hub/{s.model}/model.safetensors --registry PATH`.")
        deps = '"zoo-core>=0.1", "torch>=2.2"'
        torch_note = " (imports torch; only loaded on first use)"
    else:
        run = f"zoo run {s.model} --graph 'Z -> X; Z -> Y; X -> Y' --treatment X --outcome Y"
        weights_note = " (no weights: it computes its answer)"
        weights_layout = ""
        publish = " A causal analyzer has no weights to publish."
        deps = '"zoo-core>=0.1"'
        torch_note = " (torch-free, like every causal analyzer)"
    return {
        "name": s.name, "kind": s.kind, "dist": s.dist, "package": s.package, "arch": s.arch,
        "model": s.model, "cls": s.cls, "module": s.module, "summary": _SUMMARY[s.kind],
        "options": _OPTIONS.get(s.kind, ""), "dependencies": deps, "run_example": run,
        "weights_note": weights_note, "weights_layout": weights_layout, "publish_weights": publish,
        "torch_note": torch_note,
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
                        if s.has_weights else "back-door adjustment sets and topological order of a causal DAG"),
        "tags": ["demo"],
    }
    if s.has_weights:
        made = _make_weights(s, package_dir)
        table["config"] = made["config"]
        table["weights"] = made["weights"]
    header = (f"# {s.dist}'s registry fragment: one [models.NAME] table per model (schema: zoo's docs/plugins.md).\n"
              "# bundled paths are relative to this file; size and sha256 pin the exact bytes.\n\n")
    return header + entry_toml(s.model, table)


def write_plugin(name: str, kind: str = "generator", directory: Path | None = None) -> tuple[Scaffold, Path]:
    """Write plugin ``zoo-NAME`` into ``directory`` (default ``./zoo-NAME``); it must be absent or empty.

    Everything is written into a temporary folder beside the target and renamed into place,
    so a failure leaves nothing behind.
    """
    s = plan(name, kind)
    target = Path(directory) if directory is not None else Path.cwd() / s.dist
    target = target.expanduser().absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"--dir {target}: already exists and is not empty; choose a new folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{s.dist}.", dir=target.parent))
    except OSError as exc:
        raise InputError(f"--dir {target}: cannot write there ({exc.strerror or exc}); choose another folder") from None
    try:
        values = _values(s)
        package_dir = staging / s.package
        (staging / "tests").mkdir(parents=True)
        package_dir.mkdir()
        (staging / "pyproject.toml").write_text(_fill("pyproject.toml.tmpl", values))
        (staging / "README.md").write_text(_fill("README.md.tmpl", values))
        (package_dir / "__init__.py").write_text(_fill("__init__.py.tmpl", values))
        (package_dir / f"{s.module}.py").write_text(_fill(f"{s.kind}.py.tmpl", values))
        tests = _fill("test_header.py.tmpl", values) + _fill(f"test_{s.kind}.py.tmpl", values)
        if s.has_weights:
            tests += _fill("test_weights.py.tmpl", values)
        (staging / "tests" / f"test_{s.package}.py").write_text(tests)  # unique name: pytest can run many plugins at once
        (package_dir / "models.toml").write_text(_registry_fragment(s, package_dir))
        staging.chmod(0o755)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return s, target
