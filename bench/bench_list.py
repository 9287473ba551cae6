"""How fast is `zoo list`? Wall time of the real console script against the floor of any
click + pluggy CLI.

Setup: the installed plugins plus a benchmark plugin registering 3 architectures, and a
200-entry user registry (ZOO_REGISTRY). Each command runs as a fresh process, all of them
alternated (one warm-up each, which also writes bytecode), and it prints medians with
min-max and the 1-minute load. The reference is the floor: a script that imports click and
pluggy, scans the ``zoo`` entry points and prints a 200-row table (what any plugin CLI must do
before it shows anything); ``import torch`` and a bare interpreter are shown for scale.
Equality: ``zoo list --json`` lists every entry (the count is printed). Goal: `zoo list`
<= 0.15 s median on a 2-core machine.

    python bench/bench_list.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _site import install_plugin, median  # noqa: E402

PLUGIN = """
import zoo_core
ZOO_PLUGIN_API = 1

@zoo_core.hookimpl
def register_architectures(register):
    for i in range(3):
        register(zoo_core.Architecture(name=f"bench-arch-{i}", task="generator", target="bench_models:Net"))
"""


def registry_text(entries: int) -> str:
    rows = []
    for i in range(entries):
        rows.append(f"""
[models.bench-model-{i:03d}]
architecture = "bench-arch-{i % 3}"
task = "generator"
description = "benchmark entry {i}"
license = "mit"
config = {{ width = {i} }}
[models.bench-model-{i:03d}.weights]
filename = "model.safetensors"
size = {1000 + i}
sha256 = "{i:064x}"
repo_id = "bench/model-{i}"
revision = "{i:040x}"
""")
    return "".join(rows)


FLOOR = """
import importlib.metadata, click, pluggy
manager = pluggy.PluginManager("zoo")
points = importlib.metadata.entry_points(group="zoo")
rows = [f"bench-model-{i:03d}  generator  remote  1.0 KB  mit  zoo-bench  benchmark entry {i}" for i in range(200)]
click.echo("\\n".join([f"{len(list(points))} plugins", *rows]))
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command} failed: {result.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    zoo = Path(sys.executable).with_name("zoo")
    if not zoo.exists():
        raise SystemExit(f"{zoo} not found: pip install -e . first")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        install_plugin(root / "site", "zoo-bench", "zoo_bench", PLUGIN)
        (root / "registry.toml").write_text(registry_text(200))
        env = dict(os.environ)
        # A user's Python caches bytecode; with PYTHONDONTWRITEBYTECODE (set on some CI and
        # sandbox machines) every run would recompile zoo's modules and skew the result.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(ZOO_REGISTRY=str(root / "registry.toml"), HF_HOME=str(root / "hf"),
                   ZOO_CACHE_DIR=str(root / "zoo"),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(root / "site"), os.environ.get("PYTHONPATH")])))
        listing = subprocess.run([str(zoo), "list", "--json"], env=env, capture_output=True, text=True)
        shown = listing.stdout.count('"name"')
        commands = {"zoo list": [str(zoo), "list"], "click+pluggy floor": [sys.executable, "-c", FLOOR],
                    "import torch": [sys.executable, "-c", "import torch"], "python -c pass": [sys.executable, "-c",
                                                                                              "pass"]}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():
            timed(command, env)  # warm the page cache and write bytecode
        load = os.getloadavg()[0]
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(timed(command, env))
    floor = median(times["click+pluggy floor"])
    print(f"zoo list shows {shown} entries; {args.runs} alternated runs, median (min-max); load "
          f"{load:.1f}->{os.getloadavg()[0]:.1f}")
    for name, values in times.items():
        m = median(values)
        print(f"  {name:20s} {m * 1000:6.0f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})   "
              f"{m / floor:5.2f}x the click+pluggy floor")
    zoo_median = median(times["zoo list"])
    print(f"goal zoo list <= 150 ms: {'met' if zoo_median <= 0.150 else 'NOT met'} ({zoo_median * 1000:.0f} ms)")

if __name__ == "__main__":
    main()
