"""How fast does zoo load a cached 100 MB safetensors model?

Ways to get the same ready model on the CPU, timed in the same process, alternated (one
warm-up round of each first, which also fills the page cache):
  reference  today's recipe: build the module on the meta device, safetensors.torch.load_file,
             load_state_dict(assign=True)
  zoo        zoo_core.build(ARCH) + zoo_core.load_weights(model, FILE): the same work plus
             zoo's checks (pickle refusal, keys/shapes/dtypes named before any data is read)
  zoo.load   zoo_core.load(NAME) on a Hub entry already in the HF cache: also the registry
             lookup and the sha256 check of the file (memoised by size and mtime; its first,
             full cost is printed separately)
  bf16       zoo_core.load_weights(..., dtype=bfloat16) against load_file + .to(bfloat16) +
             assign (zoo streams: peak memory is the model plus its largest tensor)
Each is timed twice: until the model is returned ("ready"), and until every weight has been
read once ("touched": safetensors maps the file, so pages are read on first touch). Equality:
every variant's state dict equals the saved one exactly. Goal: zoo / reference <= 1.0.

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


import functools


@functools.cache  # one class, as a plugin module defines it once
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

        def zoo_build_load():
            return zoo_core.load_weights(zoo_core.build("bench-mlp"), weights, device=args.device)

        def reference():
            with torch.device("meta"):
                model = net_class.from_config({})
            model.load_state_dict(load_file(str(weights), device=str(device)), assign=True)
            return model.eval()

        def zoo_bf16():
            return zoo_core.load_weights(zoo_core.build("bench-mlp"), weights, device=args.device, dtype="bfloat16")

        def reference_bf16():
            with torch.device("meta"):
                model = net_class.from_config({})
            state = {k: v.to(torch.bfloat16) for k, v in load_file(str(weights), device=str(device)).items()}
            model.load_state_dict(state, assign=True)
            return model.eval()

        def touched(fn):
            def run():
                model = fn()
                with torch.no_grad():  # read every byte: mmap-backed tensors are paged in lazily
                    sum(float(p.sum()) for p in model.parameters())
                return model
            return run

        ways = {"reference": reference, "zoo": zoo_build_load, "zoo.load": zoo_load,
                "ref bf16": reference_bf16, "zoo bf16": zoo_bf16}
        variants = {f"{name}{suffix}": (touched(fn) if suffix else fn)
                    for suffix in ("", "+touch") for name, fn in ways.items()}
        times: dict[str, list[float]] = {k: [] for k in variants}
        for fn in variants.values():
            fn()  # warm the page cache
        load_before = os.getloadavg()[0]
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
        expected = source.state_dict()
        for name, fn in ways.items():
            got = fn().state_dict()
            cast = (lambda t: t.to(torch.bfloat16)) if "bf16" in name else (lambda t: t)
            assert all(torch.equal(got[k].cpu(), cast(v)) for k, v in expected.items()), f"{name}: weights differ"
        from zoo_core.integrity import sha256_file

        start = time.perf_counter()
        sha256_file(weights)
        hashing = time.perf_counter() - start
    size_mb = sum(t.numel() * t.element_size() for t in source.state_dict().values()) / 1e6
    print(f"model: {size_mb:.0f} MB of float32, device {args.device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {args.runs} alternated runs, median (min-max); load "
          f"{load_before:.1f}->{os.getloadavg()[0]:.1f}; every variant's weights equal the file's exactly")
    for suffix, label in (("", "ready to call"), ("+touch", "and every weight read once")):
        print(f"{label}:")
        for name in ways:
            ref = median(times[("ref bf16" if "bf16" in name else "reference") + suffix])
            values = times[f"{name}{suffix}"]
            m = median(values)
            print(f"  {name:10s} {m * 1000:8.1f} ms ({min(values) * 1000:.1f}-{max(values) * 1000:.1f})"
                  f"   ratio to reference {m / ref:.2f}x")
    print(f"sha256 of the file (zoo.load's first time; memoised after): {hashing * 1000:.1f} ms")
    for suffix in ("", "+touch"):
        ratio = median(times[f"zoo{suffix}"]) / median(times[f"reference{suffix}"])
        print(f"goal zoo/reference <= 1.0 ({'touched' if suffix else 'ready'}): "
              f"{'met' if ratio <= 1.0 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
