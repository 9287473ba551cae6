"""How fast does zoo load a cached 100 MB safetensors model?

Three ways to get the same ready model on the CPU, timed in the same process, alternated:
  zoo        zoo_core.load(NAME) on a Hub entry already in the HF cache (lookup, stat-based
             hash memo, header check, meta-device build, load_file, assign)
  reference  safetensors.torch.load_file + constructing the module + load_state_dict
  torch.load torch.load(weights_only=True) of the same state dict + construct + load_state_dict
Each is timed twice: until the model is returned, and until every weight has been read
once (safetensors maps the file, so pages are read on first touch). Goal: zoo / reference
<= 1.1.

    python bench/bench_load.py [--runs 7] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _site import install_plugin, median  # noqa: E402

PLUGIN = """
from dataclasses import dataclass

import zoo_core
ZOO_PLUGIN_API = 1

@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(name="bench-mlp", task="generator", target="zoo_benchload:Net"))


def _net():
    import torch
    from torch import nn

    @dataclass
    class NetConfig:
        width: int = 2048  # 6 square layers of 2048 x 2048 floats: ~100 MB
        depth: int = 6

    class Net(zoo_core.Generator):
        config_class = NetConfig

        def __init__(self, config):
            super().__init__(config)
            self.layers = nn.Sequential(*[nn.Linear(config.width, config.width) for _ in range(config.depth)])

        @property
        def latent_shape(self):
            return (self.config.width,)

        @property
        def image_shape(self):
            return (1, 32, 64)

        def decode(self, latents, labels=None):
            return torch.tanh(self.layers(latents)).view(-1, *self.image_shape)

    return Net


def __getattr__(name):
    if name == "Net":
        return _net()
    raise AttributeError(name)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.update(HF_HOME=str(root / "hf"), ZOO_CACHE_DIR=str(root / "zoo"), HF_HUB_DISABLE_XET="1")
        install_plugin(root / "site", "zoo-benchload", "zoo_benchload", PLUGIN)
        sys.path.insert(0, str(root / "site"))

        import torch
        from safetensors.torch import load_file, save_file

        import zoo_core
        from zoo_core.testing import FakeHub

        net_class = __import__("zoo_benchload").Net
        torch.manual_seed(0)
        source = net_class.from_config({})
        weights = root / "model.safetensors"
        save_file(source.state_dict(), str(weights))
        pickle_path = root / "model.pt"
        torch.save(source.state_dict(), pickle_path)
        data = weights.read_bytes()
        with FakeHub() as hub:
            commit = hub.publish("bench/mlp", {"model.safetensors": data})
            os.environ["HF_ENDPOINT"] = hub.url
            (root / "registry.toml").write_text(f"""
[models.bench-mlp]
architecture = "bench-mlp"
task = "generator"
description = "100 MB benchmark model"
[models.bench-mlp.weights]
filename = "model.safetensors"
size = {len(data)}
sha256 = "{hashlib.sha256(data).hexdigest()}"
repo_id = "bench/mlp"
revision = "{commit}"
""")
            os.environ["ZOO_REGISTRY"] = str(root / "registry.toml")
            zoo_core.load("bench-mlp", device=args.device)  # download, verify, remember the hash
        del data

        device = torch.device(args.device)

        def zoo_load():
            return zoo_core.load("bench-mlp", device=args.device)

        def reference():
            model = net_class.from_config({})
            model.load_state_dict(load_file(str(weights), device=str(device)))
            return model.to(device).eval()

        def pickle_load():
            model = net_class.from_config({})
            model.load_state_dict(torch.load(pickle_path, weights_only=True, map_location=device))
            return model.to(device).eval()

        def touched(fn):
            def run():
                model = fn()
                with torch.no_grad():  # read every byte: mmap-backed tensors are paged in lazily
                    sum(float(p.sum()) for p in model.parameters())
                return model
            return run

        ways = {"zoo": zoo_load, "reference": reference, "torch.load": pickle_load}
        variants = {f"{name}{suffix}": (touched(fn) if suffix else fn)
                    for suffix in ("", "+touch") for name, fn in ways.items()}
        times: dict[str, list[float]] = {k: [] for k in variants}
        for fn in variants.values():
            fn()  # warm the page cache
        for _ in range(args.runs):
            for name, fn in variants.items():
                if device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                model = fn()
                if device.type == "cuda":
                    torch.cuda.synchronize()
                times[name].append(time.perf_counter() - start)
                del model
        check = zoo_load()
        assert all(torch.equal(a, b.to(device)) for a, b in zip(check.state_dict().values(),
                                                                source.state_dict().values()))
    size_mb = sum(t.numel() * t.element_size() for t in source.state_dict().values()) / 1e6
    print(f"model: {size_mb:.0f} MB of float32, device {args.device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {args.runs} runs (median)")
    for suffix, label in (("", "ready to call"), ("+touch", "and every weight read once")):
        ref = median(times[f"reference{suffix}"])
        print(f"{label}:")
        for name in ways:
            m = median(times[f"{name}{suffix}"])
            print(f"  {name:10s} {m * 1000:8.1f} ms   ratio to reference {m / ref:.2f}x")
    ratio = median(times["zoo+touch"]) / median(times["reference+touch"])
    print(f"goal zoo/reference <= 1.1 (touched): {'met' if ratio <= 1.1 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
