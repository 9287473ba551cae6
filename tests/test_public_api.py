"""zoo's own plugins use only what docs/plugins.md calls stable or provisional, like a third party;
zoo_core.__all__ is exactly the public names (and each of them exists)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import zoo_core

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "plugins.md"


def _promised_modules() -> set[str]:
    """The zoo_core modules the guide's compatibility section lists as stable or provisional."""
    text = GUIDE.read_text()
    section = text[text.index("## Compatibility promise"):]
    promised = section[:section.index("- **Private**")]
    return set(re.findall(r"`(zoo_core(?:\.\w+)+)", promised))


def _plugin_modules() -> list[Path]:
    return sorted(p for p in (REPO / "plugins").glob("zoo-*/zoo_*/**/*.py"))


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) for every zoo_core import in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "zoo_core"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "zoo_core":
            found.append((node.lineno, node.module, [a.name for a in node.names]))
    return found


def test_the_guide_promises_the_modules_plugins_use():
    assert {"zoo_core.training", "zoo_core.data", "zoo_core.metrics", "zoo_core.cards"} <= _promised_modules()


@pytest.mark.parametrize("path", _plugin_modules(), ids=lambda p: str(p.relative_to(REPO / "plugins")))
def test_first_party_plugins_import_only_public_names(path):
    promised = _promised_modules()
    bad = []
    for line, module, names in _imports(path):
        if module == "zoo_core":
            bad += [f"{path.name}:{line}: zoo_core.{n} is not in zoo_core.__all__" for n in names
                    if n not in zoo_core.__all__]
        elif module not in promised and not (names and all(f"{module}.{n}" in promised for n in names)):
            bad.append(f"{path.name}:{line}: {module} is private (docs/plugins.md promises: {sorted(promised)})")
    assert not bad, "\n".join(bad)


def test_the_check_catches_a_private_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from zoo_core.loading import load_weights_into\nimport zoo_core.plugins\n")
    modules = {m for _, m, _ in _imports(sneaky)}
    assert modules == {"zoo_core.loading", "zoo_core.plugins"}
    assert not modules & _promised_modules()


def test_all_is_exactly_the_public_names():
    assert sorted(zoo_core.__all__) == sorted(set(zoo_core.__all__))
    for name in zoo_core.__all__:
        assert getattr(zoo_core, name) is not None, name
    assert "TASKS" in zoo_core.__all__ and list(zoo_core.TASKS)[:5] == [
        "generator", "encoder", "autoencoder", "image-to-image", "causal-analyzer"]
