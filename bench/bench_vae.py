"""zoo-vae benchmarks: zoo's autoencoders versus diffusers on the same weights and inputs, tiled
versus untiled peak memory, and conv-VAE training throughput versus a plain loop; same run.

    python bench/bench_vae.py throughput [--device cpu|cuda] [--dtype float32] [--sizes 256] [--repeats 5]
    python bench/bench_vae.py memory [--device cpu|cuda] [--sizes 1024,2048] [--tile 512]
    python bench/bench_vae.py train [--images 12800]
    python bench/bench_vae.py seams NAME [--weights FILE] [--size 1024] [--tile 512]   # needs the real weights

Weights are random (diffusers' initialisation plus noise) at the real configs: speed and memory
do not depend on the values, and no Hub weights can be downloaded here. Each timing is the
median of --repeats, with zoo and diffusers alternating; ratios are diffusers' time over zoo's
(> 1: zoo faster). Outputs are compared (max abs difference) on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _site import median  # noqa: E402

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def models(kind: str, device: torch.device, dtype: torch.dtype):
    """(diffusers model, zoo model) with the same random weights, loaded through zoo's strict loader;
    without diffusers installed (e.g. an offline GPU machine), (None, zoo model with random weights)."""
    from safetensors.torch import save_file

    import zoo_core
    from zoo_vae.autoencoder_kl import AutoencoderKL
    from zoo_vae.autoencoder_tiny import AutoencoderTiny

    torch.manual_seed(0)
    try:
        import diffusers
    except ImportError:
        zoo = (AutoencoderKL if kind == "kl" else AutoencoderTiny).from_config({})
        return None, zoo.to(device=device, dtype=dtype).eval()
    if kind == "kl":
        reference = diffusers.AutoencoderKL(down_block_types=("DownEncoderBlock2D",) * 4,
                                            up_block_types=("UpDecoderBlock2D",) * 4,
                                            block_out_channels=(128, 256, 512, 512), layers_per_block=2)
        cls, config = AutoencoderKL, {}
    else:
        reference = diffusers.AutoencoderTiny()
        cls, config = AutoencoderTiny, {}
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.02)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.safetensors"
        save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(path))
        zoo = zoo_core.load_weights(zoo_core.build(cls, config), path, device=device, dtype=dtype)
    return reference.to(device=device, dtype=dtype).eval(), zoo


def timed(fn, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def throughput(args: argparse.Namespace) -> None:
    device, dtype = torch.device(args.device), DTYPES[args.dtype]
    print(f"# throughput: {args.device}, {args.dtype}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"load {os.getloadavg()[0]:.1f}; medians of {args.repeats} alternated runs after one warm-up each, "
          "(min-max) in seconds")
    print(f"{'model':6} {'op':7} {'size':>5} {'batch':>5} {'zoo img/s':>10} {'diffusers img/s':>16} {'ratio':>6} "
          f"{'max |diff|':>11} finite  zoo s (min-max)  diffusers s (min-max)  load")
    for kind in args.models.split(","):
        reference, zoo = models(kind, device, dtype)
        for size in map(int, args.sizes.split(",")):
            batch = args.batch
            generator = torch.Generator().manual_seed(1)
            images = (torch.rand((batch, 3, size, size), generator=generator) * 2 - 1).to(device, dtype)
            latents = torch.randn((batch, 4, size // 8, size // 8), generator=generator).to(device, dtype)
            with torch.inference_mode():
                ops = {
                    "encode": (lambda: zoo.encode(images),
                               lambda: reference.encode(images).latent_dist.mean if kind == "kl"
                               else reference.encode(images).latents),
                    "decode": (lambda: zoo.decode(latents), lambda: reference.decode(latents).sample),
                }
                for op, (ours, theirs) in ops.items():
                    finite = bool(torch.isfinite(ours()).all())  # fp16 can overflow to inf/nan
                    if reference is None:
                        z = median([timed(ours, device) for _ in range(args.repeats)])
                        print(f"{kind:6} {op:7} {size:5d} {batch:5d} {batch / z:10.2f} {'(no diffusers)':>16} "
                              f"{'':6} {'':11} {finite}", flush=True)
                        continue
                    diff = float((ours().float() - theirs().float()).abs().max())
                    zoo_times, ref_times = [], []
                    for _ in range(args.repeats):
                        zoo_times.append(timed(ours, device))
                        ref_times.append(timed(theirs, device))
                    z, r = median(zoo_times), median(ref_times)
                    print(f"{kind:6} {op:7} {size:5d} {batch:5d} {batch / z:10.2f} {batch / r:16.2f} {r / z:6.2f} "
                          f"{diff:11.2e} {finite}  {z:.3f} ({min(zoo_times):.3f}-{max(zoo_times):.3f})  "
                          f"{r:.3f} ({min(ref_times):.3f}-{max(ref_times):.3f})  {os.getloadavg()[0]:.1f}", flush=True)


def _peak_child(kind: str, size: int, tile: int, device: str, dtype: str) -> None:
    """Run in a fresh process: peak memory of one decode above what the model and inputs hold."""
    dev = torch.device(device)
    _, zoo = models(kind, dev, DTYPES[dtype])
    latents = torch.randn((1, 4, size // 8, size // 8)).to(dev, DTYPES[dtype])
    with torch.inference_mode():
        zoo.decode(torch.randn(1, 4, 8, 8).to(dev, DTYPES[dtype]))  # warm-up allocations
        if dev.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        else:
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        start = time.perf_counter()
        out = zoo.decode_tiled(latents, tile, 64 if tile else 32)
        sync(dev)
        seconds = time.perf_counter() - start
        if dev.type == "cuda":
            peak = torch.cuda.max_memory_allocated() - base
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    print(json.dumps({"peak_bytes": peak, "seconds": seconds, "checksum": float(out.float().abs().mean())}))


def memory(args: argparse.Namespace) -> None:
    print(f"# peak memory of one decode above model + inputs ({args.device}, {args.dtype}; CPU: growth of the "
          f"process's max RSS, each case in a fresh process), tile {args.tile} px with 64 px overlap")
    print(f"{'model':6} {'size':>5} {'untiled MiB':>12} {'tiled MiB':>10} {'ratio':>6} {'untiled s':>10} {'tiled s':>8}")
    for kind in args.models.split(","):
        for size in map(int, args.sizes.split(",")):
            rows = []
            for tile in (0, args.tile):
                command = [sys.executable, __file__, "_peak", kind, str(size), str(tile), args.device, args.dtype]
                output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                rows.append(json.loads(output.strip().splitlines()[-1]))
            untiled, tiled = rows
            print(f"{kind:6} {size:5d} {untiled['peak_bytes'] / 2**20:12.0f} {tiled['peak_bytes'] / 2**20:10.0f} "
                  f"{untiled['peak_bytes'] / max(tiled['peak_bytes'], 1):6.1f} {untiled['seconds']:10.2f} "
                  f"{tiled['seconds']:8.2f}", flush=True)


def train(args: argparse.Namespace) -> None:
    """Conv-VAE training images/s: zoo's fit + VAETask versus a plain loop doing the same steps."""
    from zoo_core.training import TrainContext, fit
    from zoo_vae.conv_vae import ConvVAE, ConvVAEConfig
    from zoo_vae.tasks import VAETask

    device = torch.device(args.device)
    config = ConvVAEConfig()
    generator = torch.Generator().manual_seed(0)
    images = torch.rand((args.images, 1, 28, 28), generator=generator) * 2 - 1
    labels = torch.zeros(args.images, dtype=torch.long)
    batch = 128
    results = {}
    for repeat in range(args.repeats):
        torch.manual_seed(0)
        model = ConvVAE(config).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        data = images.to(device)
        start = time.perf_counter()
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(repeat))
        for step in range(len(data) // batch):
            losses = model(data[order[step * batch:(step + 1) * batch]])
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            optimizer.step()
        sync(device)
        results.setdefault("plain", []).append((len(data) // batch) * batch / (time.perf_counter() - start))
        with tempfile.TemporaryDirectory() as folder:
            task = VAETask(TrainContext(device), config, lr=1e-3, beta=1.0, seed=0, val_images=data[:256],
                           recipe="bench", dataset="random")
            result = fit(task, TrainContext(device), images, labels, out_dir=Path(folder), batch_size=batch,
                         max_epochs=1, progress=False, log=lambda message: None)
            results.setdefault("zoo", []).append(result.images_per_second)
    plain, ours = median(results["plain"]), median(results["zoo"])
    print(f"# conv-VAE training ({args.device}, {args.images} images of 28x28, batch {batch}, default config; "
          f"zoo's time includes only the epoch, not the held-out ELBO or files)")
    print(f"plain loop {plain:.0f} images/s, zoo fit {ours:.0f} images/s, ratio {ours / plain:.2f}")


def seams(args: argparse.Namespace) -> None:
    """Tiled versus untiled reconstruction of one synthetic image with a registry model's real weights:
    the PSNR between the two (the seams' and the per-tile GroupNorm statistics' cost) and each one's PSNR
    against the input. Random weights would say nothing here, so this needs `zoo pull NAME` (or --weights)."""
    import math

    import zoo_core

    device = torch.device(args.device)
    model = zoo_core.load(args.name, device=device, dtype=args.dtype, weights=args.weights)
    side = torch.linspace(-1, 1, args.size)
    yy, xx = torch.meshgrid(side, side, indexing="ij")
    image = torch.stack([torch.sin(6 * xx) * torch.cos(4 * yy), xx * yy, (xx.square() + yy.square() < 0.4).float() * 1.6 - 0.8])
    image = image.clamp(-1, 1).unsqueeze(0).to(device, DTYPES[args.dtype])

    def psnr(a, b):
        mse = float((((a.float() - b.float()) / 2) ** 2).mean())
        return math.inf if mse == 0 else 10 * math.log10(1 / mse)

    with torch.inference_mode():
        untiled = model.reconstruct(image)
        tiled = model.reconstruct(image, tile=args.tile, tile_overlap=args.overlap)
    print(f"{args.name} at {args.size}x{args.size}, tile {args.tile} overlap {args.overlap}: "
          f"PSNR(tiled, untiled) {psnr(tiled, untiled):.2f} dB; vs input: untiled {psnr(untiled, image):.2f} dB, "
          f"tiled {psnr(tiled, image):.2f} dB")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_peak":
        _, _, kind, size, tile, device, dtype = sys.argv
        _peak_child(kind, int(size), int(tile), device, dtype)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("throughput", "memory", "train"):
        p = sub.add_parser(name)
        p.add_argument("--device", default="cpu")
        p.add_argument("--dtype", default="float32", choices=sorted(DTYPES))
        p.add_argument("--repeats", type=int, default=5)
    sub.choices["throughput"].add_argument("--models", default="taesd,kl")
    sub.choices["throughput"].add_argument("--sizes", default="256")
    sub.choices["throughput"].add_argument("--batch", type=int, default=1)
    sub.choices["memory"].add_argument("--models", default="taesd")
    sub.choices["memory"].add_argument("--sizes", default="1024,2048")
    sub.choices["memory"].add_argument("--tile", type=int, default=512)
    sub.choices["train"].add_argument("--images", type=int, default=12800)
    p = sub.add_parser("seams")
    p.add_argument("name")
    p.add_argument("--weights")
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--tile", type=int, default=512)
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=sorted(DTYPES))
    args = parser.parse_args()
    {"throughput": throughput, "memory": memory, "train": train, "seams": seams}[args.what](args)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    main()
