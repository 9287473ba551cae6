"""docs/effects.md runs as written: every ``$ zoo run ...`` line of it is executed on the
LaLonde CSVs its recipe writes, and the estimate line it shows must be what zoo prints
(values to 0.5%, so a scikit-learn release that moves a tree split does not fail it, while a
wrong estimator does)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "effects.md"
RECIPE = ROOT / "plugins" / "zoo-docalculus" / "recipes" / "make_lalonde_csv.py"
NUMBER = re.compile(r"-?\d[\d,]*\.?\d*(?:e-?\d+)?")


def documented_runs() -> list[tuple[str, str]]:
    """(command, the estimate line shown under it) for each `$ zoo run` in the doc."""
    runs = []
    lines = DOC.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("$ zoo run"):
            shown = next(l for l in lines[i + 1:] if "] = " in l)
            runs.append((line[2:], shown))
    return runs


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in NUMBER.findall(text.split("] = ", 1)[1])]


@pytest.mark.slow
def test_the_lalonde_walkthrough_prints_what_the_doc_shows(tmp_path):
    pytest.importorskip("causaldata")
    pytest.importorskip("pandas")
    made = subprocess.run([sys.executable, str(RECIPE)], cwd=tmp_path, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert "wrote lalonde-cps.csv (16177 rows)" in made.stdout
    runs = documented_runs()
    assert len(runs) == 4
    printed_by = {}
    for command, shown in runs:
        args = shlex.split(command)
        done = subprocess.run([sys.executable, "-m", "zoo_core", *args[1:]], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        printed = next(l for l in done.stdout.splitlines() if "] = " in l)
        assert printed.split("] = ")[0] == shown.split("] = ")[0]
        assert numbers(printed) == pytest.approx(numbers(shown), rel=5e-3), (command, printed)
        printed_by[args[args.index("--estimator") + 1] if "--estimator" in args else "experiment"] = numbers(printed)
    assert (tmp_path / "lalonde-att.png").stat().st_size > 10_000
    # the goal: AIPW's ATT within $500 of the experiment's $1,794.34, its interval covering it;
    # the linear estimate's interval does not
    experiment = printed_by["experiment"][0]
    assert experiment == pytest.approx(1794.34, abs=0.01)
    value, _, _, low, high = printed_by["aipw"]
    assert abs(value - experiment) < 500 and low <= experiment <= high
    value, _, _, low, high = printed_by["linear"]
    assert not low <= experiment <= high
