"""How fast is `zoo list`? Wall time of the real console script versus `import torch`.

Setup: the installed plugins plus a benchmark plugin registering 3 architectures, and a
200-entry user registry (ZOO_REGISTRY). Both commands run as fresh processes, alternated,
and the medians are compared. Goal: `zoo list` <= 0.15 s median on a 2-core machine.

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
        zoo_times, torch_times, bare_times = [], [], []
        timed([str(zoo), "list"], env)  # warm the page cache and write bytecode
        timed([sys.executable, "-c", "import torch"], env)
        for _ in range(args.runs):
            zoo_times.append(timed([str(zoo), "list"], env))
            torch_times.append(timed([sys.executable, "-c", "import torch"], env))
            bare_times.append(timed([sys.executable, "-c", "pass"], env))
    zoo_median, torch_median = median(zoo_times), median(torch_times)
    print(f"zoo list ({shown} entries, {args.runs} runs): median {zoo_median * 1000:.0f} ms "
          f"(min {min(zoo_times) * 1000:.0f}, max {max(zoo_times) * 1000:.0f})")
    print(f"python -c 'import torch':          median {torch_median * 1000:.0f} ms")
    print(f"python -c pass (interpreter floor): median {median(bare_times) * 1000:.0f} ms")
    print(f"ratio zoo list / import torch: {zoo_median / torch_median:.3f}")
    print(f"goal zoo list <= 150 ms: {'met' if zoo_median <= 0.150 else 'NOT met'}")


if __name__ == "__main__":
    main()
