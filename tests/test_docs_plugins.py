"""docs/plugins.md runs as written: every fenced block is run, checked, or skipped by name.

- ```` ```bash run ````: run in order, with bash -e, in one empty folder, inside a virtualenv
  that sees the installed zoo-core (pip told to stay offline through its environment);
- ```` ```python ````: run in order in the same folder and virtualenv;
- ```` ```toml ````: parsed; a registry fragment is validated by zoo's registry parser and a
  pyproject must declare a ``zoo`` entry point;
- ```` ```LANG skip=NAME ````: needs the internet or credentials; NAME must be in ``SKIPPED``.
"""

from __future__ import annotations

import pytest

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from zoo_core.registry import parse_registry_file

from plugin_venv import make_venv

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
SKIPPED = {
    "hf-upload": "uploads to the real Hub: needs the network and an HF_TOKEN",
    "pypi-upload": "builds with network build isolation and uploads to PyPI with credentials",
    "pip-install-from-pypi": "installs from PyPI: needs the network and a published package",
}
_FENCE = re.compile(r"^```(\S*)(?:[ \t]+(.*))?$")


@dataclass
class Block:
    lang: str
    marker: str
    text: str
    line: int

    @property
    def skip(self) -> str | None:
        return self.marker[len("skip="):] if self.marker.startswith("skip=") else None


def blocks() -> list[Block]:
    found, current, body = [], None, []
    for number, line in enumerate(DOC.read_text().splitlines(), 1):
        if current is None:
            match = _FENCE.match(line)
            if match:
                current, body = Block(match.group(1), (match.group(2) or "").strip(), "", number), []
        elif line == "```":
            current.text = "\n".join(body) + "\n"
            found.append(current)
            current = None
        else:
            body.append(line)
    assert current is None, f"docs/plugins.md:{current.line}: unclosed code block"
    return found


def test_every_block_is_run_checked_or_skipped_by_name():
    found = blocks()
    assert len(found) >= 10
    skipped = set()
    for block in found:
        where = f"docs/plugins.md:{block.line}"
        assert block.lang in ("bash", "python", "toml"), f"{where}: no test runs ```{block.lang} blocks"
        if block.skip is not None:
            assert block.skip in SKIPPED, f"{where}: skip={block.skip} is not one of the known offline skips"
            assert block.skip not in skipped, f"{where}: skip={block.skip} used twice"
            skipped.add(block.skip)
        elif block.lang == "bash":
            assert block.marker == "run", f"{where}: a shell block must be marked 'run' or 'skip=NAME'"
        else:
            assert block.marker == "", f"{where}: unknown marker {block.marker!r}"
    assert skipped == set(SKIPPED), "a named skip is no longer in the guide: drop it from SKIPPED"


def test_toml_blocks_are_valid(tmp_path):
    tomls = [b for b in blocks() if b.lang == "toml"]
    assert {"models", "project"} <= {key for b in tomls for key in tomllib.loads(b.text)}
    for i, block in enumerate(tomls):
        document = tomllib.loads(block.text)
        if "models" in document:
            path = tmp_path / f"registry-{i}.toml"
            path.write_text(block.text)
            assert parse_registry_file(path), f"docs/plugins.md:{block.line}: no entries"
        if "project" in document:
            entry_points = document["project"]["entry-points"]["zoo"]
            assert entry_points == {"sneakers": "zoo_sneakers"}


@pytest.mark.slow  # installs two plugins into a virtualenv
def test_the_guide_runs_from_an_empty_folder(tmp_path):
    """A newcomer's path: scaffold, install, generate, train, test, export, pin, list; then the reference."""
    work = tmp_path / "work"
    work.mkdir()
    env = make_venv(tmp_path / "venv")
    env.update(ZOO_CACHE_DIR=str(tmp_path / "zoo-cache"), HF_HOME=str(tmp_path / "hf"))
    python = str(tmp_path / "venv" / "bin" / "python")
    ran = 0
    for block in blocks():
        if block.skip is not None or block.lang == "toml":
            continue
        if block.lang == "bash":
            args = ["bash", "-e", "-o", "pipefail", "-c", block.text]
        else:
            script = tmp_path / f"block-{block.line}.py"
            script.write_text(block.text)
            args = [python, str(script)]
        done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (f"docs/plugins.md:{block.line}: the {block.lang} block failed "
                                      f"({done.returncode}):\n{done.stdout}\n{done.stderr}")
        ran += 1
    assert ran >= 10
    for made in ("sneakers.png", "gradient.png", "hub/sneakers/model.safetensors", "hub/sneakers/config.json",
                 "hub/sneakers/README.md", "my-registry.toml", "zoo-sneakers/zoo_sneakers/models.toml"):
        assert (work / made).is_file(), made
    (entry,) = parse_registry_file(work / "my-registry.toml")
    assert entry.name == "sneakers-gradient" and entry.weights.repo_id == "you/zoo-sneakers"
    assert entry.weights.size == (work / "hub/sneakers/model.safetensors").stat().st_size

