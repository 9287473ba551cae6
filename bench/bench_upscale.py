"""The upscaler GANs against their reference implementations, same weights, same inputs, same run.

    python bench/bench_upscale.py throughput [--models esrgan,aurasr] [--size 32] [--repeats 3]
                                             [--device cpu|cuda] [--dtypes float32,float16,bfloat16]
    python bench/bench_upscale.py memory [--models esrgan,aurasr] [--sizes 32,64]
    python bench/bench_upscale.py blend [--size 128]

throughput: images/s of zoo's network and of the reference (spandrel 0.4.2's ESRGAN, aura-sr
0.0.4's UnetUpsampler) at the real configs with random weights (no weights can be downloaded
here), and the largest difference between their outputs. memory: peak resident memory of
one untiled float32 pass per output pixel, in a fresh process each (what
``working_bytes_per_pixel`` records). blend: AuraSR on an image larger than one tile: first the
same work, aura-sr's own ``upscale_4x`` (64-px tiles side by side, batched) against zoo's
``process(tile=64, tile_overlap=0)``, both warmed up, alternated, medians with min-max; then
the blends, zoo's overlapping tiles with linear blending against the reference's two
half-tile-offset passes with checkerboard weights (``upscale_4x_overlapped``): how far apart
they are, and how long each took. With random weights (the real ones cannot be downloaded here) the
numbers say how the blends differ, not how good either looks.

The references import torchvision for helpers they never call; install them with
``pip install --no-deps spandrel==0.4.2 aura-sr==0.0.4 einops`` (see the README).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "plugins" / "zoo-gan"), str(REPO / "plugins" / "zoo-gan" / "tests")]

import references  # noqa: E402  (the tests' reference loader)
from zoo_gan.aurasr import AuraSR  # noqa: E402
from zoo_gan.rrdbnet import RRDBNet  # noqa: E402

import zoo_core  # noqa: E402

AURA_CONFIG = {"dim": 64, "image_size": 256, "input_image_size": 64, "skip_connect_scale": 0.4,
               "style_network": {"dim_in": 128, "dim_out": 512, "depth": 4}}


def _random_weights(model: torch.nn.Module, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, tensor in model.state_dict().items():
        noise = torch.randn(tensor.shape, generator=generator) * 0.02
        state[name] = (tensor.detach().cpu() + noise) if tensor.is_floating_point() else tensor.cpu()
    return state


def _pair(name: str):  # type: ignore[no-untyped-def]
    """zoo's model and the reference with the same random weights (float32, CPU)."""
    if name == "esrgan":
        zoo = RRDBNet.from_config({})
        state = _random_weights(zoo)
        zoo.load_state_dict(state)
        reference = references.spandrel().ModelLoader().load_from_state_dict(state).model
        run_zoo = lambda m, x, seed: (m.transform(x * 2 - 1) + 1) / 2  # noqa: E731  (what zoo run runs)
        run_ref = lambda m, x, seed: m(x).clamp(0, 1)  # noqa: E731  (clamped as Real-ESRGAN's inference)
        return zoo.eval(), reference.eval(), run_zoo, run_ref, 1
    zoo = AuraSR.from_config(AURA_CONFIG)
    state = _random_weights(zoo)
    zoo.load_state_dict(state)
    aura = references.aura_sr()
    reference = aura.UnetUpsampler(**{**AURA_CONFIG, "style_network": dict(AURA_CONFIG["style_network"])})
    reference.load_state_dict(state)

    def run_zoo(m, x, seed):  # type: ignore[no-untyped-def]
        return (m.transform(x * 2 - 1, seed=seed) + 1) / 2  # what zoo run runs

    def run_ref(m, x, seed):  # type: ignore[no-untyped-def]
        torch.manual_seed(seed)  # the reference draws style noise, then its input jitter, from the global generator
        style = torch.randn(x.shape[0], 128).to(x.device, x.dtype)
        return m(x, noise=style).clamp(0, 1)

    return zoo.eval(), reference.eval(), run_zoo, run_ref, 64


def throughput(args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, load "
          f"{os.getloadavg()[0]:.1f}; medians of {args.repeats} alternated runs after one warm-up each (min-max)")
    for name in args.models.split(","):
        zoo, reference, run_zoo, run_ref, fixed = _pair(name)
        size = fixed if fixed > 1 else args.size
        x = torch.rand(args.batch, 3, size, size, generator=torch.Generator().manual_seed(1))
        for dtype_name in args.dtypes.split(","):
            dtype = getattr(torch, dtype_name)
            if device.type == "cpu" and dtype == torch.float16:
                continue
            zoo.to(device, dtype)
            reference.to(device, dtype)
            xd = x.to(device, dtype)
            times = {"zoo": [], "reference": []}
            outputs = {}
            with torch.inference_mode():
                for impl, model, fn in (("zoo", zoo, run_zoo), ("reference", reference, run_ref)):
                    fn(model, xd, 7)  # warm-up
                for _ in range(args.repeats):  # alternate, so drift hits both alike
                    for impl, model, fn in (("zoo", zoo, run_zoo), ("reference", reference, run_ref)):
                        if device.type == "cuda":
                            torch.cuda.synchronize()
                        started = time.perf_counter()
                        outputs[impl] = fn(model, xd, 7)
                        if device.type == "cuda":
                            torch.cuda.synchronize()
                        times[impl].append(time.perf_counter() - started)
            zoo_ips = args.batch / sorted(times["zoo"])[len(times["zoo"]) // 2]
            ref_ips = args.batch / sorted(times["reference"])[len(times["reference"]) // 2]
            diff = float((outputs["zoo"].float() - outputs["reference"].float()).abs().max())
            spread = {impl: f"{min(t):.3f}-{max(t):.3f} s" for impl, t in times.items()}
            print(f"{name:7} {dtype_name:9} {size}->{size * 4}  zoo {zoo_ips:8.3f} img/s ({spread['zoo']})  reference "
                  f"{ref_ips:8.3f} img/s ({spread['reference']})  ratio {zoo_ips / ref_ips:.2f}x  max |diff| {diff:.2e}"
                  f"  load {os.getloadavg()[0]:.1f}", flush=True)


_MEMORY_CHILD = r"""
import json, os, resource, sys, torch
sys.path[:0] = sys.argv[4].split(os.pathsep)
from zoo_gan.aurasr import AuraSR
from zoo_gan.rrdbnet import RRDBNet
name, size = sys.argv[1], int(sys.argv[2])
config = json.loads(sys.argv[3])
model = (RRDBNet.from_config({}) if name == "esrgan" else AuraSR.from_config(config)).eval()
x = torch.rand(1, 3, size, size)
def status(field):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(field + ":"))
with torch.inference_mode():
    model.transform(x[..., :8, :8] * 2 - 1) if name == "esrgan" else None  # warm up the kernels
    before = status("VmRSS")
    out = model.transform(x * 2 - 1)
print(json.dumps({"peak": status("VmHWM") - before, "pixels": out.shape[-1] * out.shape[-2]}))
"""


def memory(args: argparse.Namespace) -> None:
    paths = os.pathsep.join([str(REPO / "plugins" / "zoo-gan")])
    for name in args.models.split(","):
        for size in ([64] if name == "aurasr" else [int(s) for s in args.sizes.split(",")]):
            done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, name, str(size), json.dumps(AURA_CONFIG),
                                   paths], capture_output=True, text=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{name:7} {size}->{size * 4}: peak {result['peak'] / 2**20:7.1f} MiB above the start = "
                  f"{result['peak'] / result['pixels']:6.0f} bytes per output pixel")


def blend(args: argparse.Namespace) -> None:
    aura = references.aura_sr()
    zoo = AuraSR.from_config(AURA_CONFIG)
    state = _random_weights(zoo)
    zoo.load_state_dict(state)
    zoo.eval()
    reference = aura.AuraSR.__new__(aura.AuraSR)
    reference.upsampler = aura.UnetUpsampler(**{**AURA_CONFIG, "style_network": dict(AURA_CONFIG["style_network"])})
    reference.upsampler.load_state_dict(state)
    reference.upsampler.eval()
    reference.input_image_size = 64
    size = args.size
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    image = torch.stack([xx, yy, (xx + yy) / 2])[None]  # a smooth test image: ramps, no texture
    from PIL import Image

    pil = Image.fromarray((image[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8"))

    import numpy as np

    def from_pil(picture) -> torch.Tensor:  # type: ignore[no-untyped-def]
        return torch.from_numpy(np.asarray(picture, dtype="float32") / 255).permute(2, 0, 1)[None]

    def eight_bit(x: torch.Tensor) -> torch.Tensor:
        return (x * 255).floor() / 255  # the reference's ToPILImage truncates to 8 bits

    def zoo_tiles() -> torch.Tensor:  # the same work as upscale_4x: 64-px tiles side by side
        with torch.inference_mode():
            return eight_bit((zoo.process(image * 2 - 1, tile=64, tile_overlap=0, seed=0) + 1) / 2)

    def aura_tiles() -> torch.Tensor:
        torch.manual_seed(0)  # the reference draws its noise from the global generator
        with torch.inference_mode():
            return from_pil(reference.upscale_4x(pil, max_batch_size=4))

    ways = {"aura-sr upscale_4x": aura_tiles, "zoo tile 64, overlap 0": zoo_tiles}
    if args.part in ("same", "both"):
        same_work(ways, args, size)
    if args.part == "blends":  # warm both up on one tile
        with torch.inference_mode():
            zoo.process(image[..., :64, :64] * 2 - 1, seed=0)
            reference.upscale_4x(pil.crop((0, 0, 64, 64)), max_batch_size=4)
    if args.part in ("blends", "both"):
        blends(zoo, reference, image, pil, eight_bit, from_pil)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * torch.log10(torch.tensor(1.0 / mse)).item()


def same_work(ways, args, size):  # type: ignore[no-untyped-def]
    outputs = {name: way() for name, way in ways.items()}  # warm-up, and the outputs compared
    times: dict[str, list[float]] = {name: [] for name in ways}
    load = os.getloadavg()[0]
    for _ in range(args.repeats):
        for name, way in ways.items():
            started = time.perf_counter()
            way()
            times[name].append(time.perf_counter() - started)
    tiles = (size // 64) ** 2
    print(f"AuraSR (random weights, real config) on a {size}x{size} ramp image -> {size * 4}x{size * 4}, "
          f"{torch.get_num_threads()} threads; load {load:.1f}->{os.getloadavg()[0]:.1f}")
    print(f"same work ({tiles} tiles of 64 px, no overlap), {args.repeats} alternated runs after a warm-up, "
          "median (min-max):")
    base = statistics.median(times["aura-sr upscale_4x"])
    for name, values in times.items():
        m = statistics.median(values)
        print(f"  {name:24s} {m:6.2f} s ({min(values):.2f}-{max(values):.2f})   {m / base:.2f}x aura-sr")
    a, b = outputs.values()
    print(f"  PSNR between the two: {psnr(a, b):.2f} dB; max |diff| {float((a - b).abs().max()):.3f} on [0, 1] "
          "(aura-sr gives each tile of a batch its own style noise from the global generator, zoo one per seed)",
          flush=True)


def blends(zoo, reference, image, pil, eight_bit, from_pil):  # type: ignore[no-untyped-def]
    with torch.inference_mode():  # both warmed up above; one run each (13 and 9 tiles)
        started = time.perf_counter()
        ours = eight_bit((zoo.process(image * 2 - 1, tile_overlap=8, seed=0) + 1) / 2)
        ours_seconds = time.perf_counter() - started
        torch.manual_seed(0)
        started = time.perf_counter()
        theirs = from_pil(reference.upscale_4x_overlapped(pil, max_batch_size=4))
        theirs_seconds = time.perf_counter() - started
    print("blends (different work, one run each):")
    print(f"  zoo: overlapping 64-px tiles (overlap 8), linear blend: {ours_seconds:.1f} s")
    print(f"  aura-sr upscale_4x_overlapped: two half-tile-offset passes, checkerboard blend: {theirs_seconds:.1f} s")
    print(f"  PSNR between the two results: {psnr(ours, theirs):.2f} dB; max |diff| "
          f"{float((ours - theirs).abs().max()):.3f} (on [0, 1])")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--models", default="esrgan,aurasr")
    t.add_argument("--size", type=int, default=32, help="input side for ESRGAN (AuraSR takes 64)")
    t.add_argument("--batch", type=int, default=1)
    t.add_argument("--repeats", type=int, default=3)
    t.add_argument("--device", default="cpu")
    t.add_argument("--dtypes", default="float32")
    m = sub.add_parser("memory")
    m.add_argument("--models", default="esrgan,aurasr")
    m.add_argument("--sizes", default="32,64")
    b = sub.add_parser("blend")
    b.add_argument("--size", type=int, default=128)
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--part", choices=("same", "blends", "both"), default="both")
    args = parser.parse_args()
    {"throughput": throughput, "memory": memory, "blend": blend}[args.what](args)


if __name__ == "__main__":
    main()
