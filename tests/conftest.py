"""Shared fixtures: an isolated environment, plugins installed through real entry-point
metadata (a ``*.dist-info`` folder on sys.path, exactly what pip writes), and the toy plugin
with freshly generated weights."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

import zoo_core.plugins
from zoo_core.testing.fixtures import hub, isolated_env, sleeps, zoo  # noqa: F401  (fixtures)

TOY_SOURCE = Path(__file__).parent / "toy_plugin" / "zoo_toy"
REPO = Path(__file__).resolve().parent.parent


class Site:
    """A folder on sys.path where tests install plugin distributions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def install(self, distribution: str, module: str, files: dict[str, str], *, entry_name: str | None = None,
                version: str = "0.1.0") -> Path:
        """Write package ``module`` (files relative to it) and its dist-info with a ``zoo`` entry point."""
        package = self.root / module
        for rel, text in files.items():
            path = package / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        self.add_metadata(distribution, module, entry_name=entry_name, version=version)
        return package

    def add_metadata(self, distribution: str, module: str, *, entry_name: str | None = None,
                     version: str = "0.1.0") -> None:
        info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[zoo]\n{entry_name or module} = {module}\n")
        self.modules.append(module)


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    s = Site(root)
    yield s
    for name in list(sys.modules):
        if any(name == m or name.startswith(m + ".") for m in s.modules):
            del sys.modules[name]
    zoo_core.plugins.reset()


def make_toy_weights(package: Path) -> dict[str, Path]:
    """Seeded random weights for the toy models, and a models.toml pinning their sha256."""
    import torch
    from safetensors.torch import save_file

    from zoo_core.integrity import sha256_file

    sys.path.insert(0, str(package.parent))
    try:
        from zoo_toy.models import ToyAutoencoder, ToyEncoder, ToyGenerator, ToyUpscaler
    finally:
        sys.path.remove(str(package.parent))
    torch.manual_seed(0)
    weights = package / "weights"
    weights.mkdir(exist_ok=True)
    made = {
        "toy-gen": (ToyGenerator.from_config({}), "toy-mlp", "generator", {}),
        "toy-cgen": (ToyGenerator.from_config({"num_classes": 3}), "toy-cmlp", "generator", {"num_classes": 3}),
        "toy-ae": (ToyAutoencoder.from_config({}), "toy-conv-ae", "autoencoder", {}),
        "toy-enc": (ToyEncoder.from_config({}), "toy-conv-enc", "encoder", {}),
        "toy-up": (ToyUpscaler.from_config({}), "toy-upscaler", "image-to-image", {}),
        "toy-tile-up": (ToyUpscaler.from_config({"fixed": 8}), "toy-upscaler", "image-to-image", {"fixed": 8}),
    }
    lines, paths = [], {}
    for name, (model, arch, task, config) in made.items():
        path = weights / f"{name}.safetensors"
        save_file(model.state_dict(), str(path))
        paths[name] = path
        config_line = ", ".join(f"{k} = {v}" for k, v in config.items())
        lines.append(textwrap.dedent(f"""
            [models.{name}]
            architecture = "{arch}"
            task = "{task}"
            description = "toy {task} {name}"
            license = "mit"
            config = {{ {config_line} }}
            {'classes = ["zero", "one", "two"]' if name == "toy-cgen" else ""}
            [models.{name}.weights]
            filename = "{name}.safetensors"
            size = {path.stat().st_size}
            sha256 = "{sha256_file(path)}"
            bundled = "weights/{name}.safetensors"
            [models.{name}.metrics.mean_abs_pixel]
            value = 0.5
            how = "zoo eval {name}"
            """))
    (package / "models.toml").write_text("".join(lines))
    return paths


@pytest.fixture
def toy(site):
    """The toy plugin installed through entry-point metadata, with bundled weights."""
    package = site.root / "zoo_toy"
    shutil.copytree(TOY_SOURCE, package, ignore=shutil.ignore_patterns("__pycache__"))
    site.add_metadata("zoo-toy", "zoo_toy")
    weights = make_toy_weights(package)
    zoo_core.plugins.reset()
    return weights
