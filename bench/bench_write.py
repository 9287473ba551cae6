"""Image-writing runs against a plain script that makes and saves the same PNGs, same run.

    python bench/bench_write.py [--kinds generator,autoencoder,upscaler,causal] [--repeats 5]
                                [--num 512] [--threads N]

For each kind of image-writing ``zoo run`` (a generator: dcgan-fashion; an autoencoder:
conv-vae-fashion; an upscaler: real-esrgan-x4plus with random weights, since none can be
downloaded here; a causal generator: causal-pendulum) it times ``zoo_core.run(name, ...,
out_dir=D)`` — what ``zoo run NAME --out-dir D`` does once the process is up and the model
loaded — against a plain script with the same loaded model: make the images the way the
task does, convert each batch to 8-bit once, and save each with PIL (``Image.save`` with the
same text chunks), serially, the way a user would write it. Both are warmed up once, then
run alternately (A, B, A, B...) into fresh folders; it prints the median wall time of each
with min-max, their ratio and the 1-minute load before and after, and the ratio of their
median CPU time (this process's user + system time, every thread): on a shared machine the
wall times swing with the other jobs (here by up to 1.7x between repeats of the same run),
while the CPU time says how much work each side did. Equality: every file zoo
wrote is byte-identical to the script's (tolerance: none).

Both use the same torch threads (``--threads``, else zoo's default: one per core not busy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image, PngImagePlugin

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from _site import median  # noqa: E402

import zoo_core  # noqa: E402
from zoo_core.images import read_image  # noqa: E402
from zoo_core.threads import use_threads  # noqa: E402


def _text(path: Path) -> dict[str, str]:
    with Image.open(path) as image:
        return dict(image.text)  # type: ignore[attr-defined]


def _save(pixels, path: Path, text: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    array = pixels
    image = Image.fromarray(array[:, :, 0], mode="L") if array.shape[2] == 1 else Image.fromarray(array)
    image.save(path, format="PNG", pnginfo=info)


def _uint8(batch: torch.Tensor):  # type: ignore[no-untyped-def]
    """The plain way: one torch conversion per batch."""
    return ((batch.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _meta_of(zoo_dir: Path) -> dict[str, str]:
    """The text chunks zoo wrote into its first file (the script writes the same)."""
    return _text(sorted(zoo_dir.iterdir())[0])


class Case:
    """One kind: ``zoo(out_dir)`` runs zoo, ``plain(out_dir, meta)`` the script."""

    def __init__(self, name: str, zoo: Callable[[Path], object], plain: Callable[[Path, dict[str, str]], None],
                 count: int) -> None:
        self.name, self.zoo, self.plain, self.count = name, zoo, plain, count


def generator_case(num: int) -> Case:
    name, seed, batch = "dcgan-fashion", 0, 64
    model = zoo_core.load(name, device="cpu")

    def plain(out: Path, meta: dict[str, str]) -> None:
        with torch.inference_mode():
            for start, latents in model.latent_batches(num, seed, batch):
                pixels = _uint8(model.decode(latents).clamp(-1, 1).float())
                for offset in range(len(pixels)):
                    stem = f"{start + offset:05d}"
                    _save(pixels[offset], out / f"{stem}.png", dict(meta, **{"zoo:index": stem}))

    return Case(name, lambda out: zoo_core.run(name, num=num, seed=seed, batch_size=batch, device="cpu",
                                                out_dir=out), plain, num)


def causal_case(num: int) -> Case:
    name, seed = "causal-pendulum", 0
    model = zoo_core.load(name, device="cpu")

    def plain(out: Path, meta: dict[str, str]) -> None:
        images = model.generate(num, seed, do={}, given={}).images
        for start in range(0, num, 64):
            pixels = _uint8(images[start:start + 64].float())
            for offset in range(len(pixels)):
                index = start + offset
                _save(pixels[offset], out / f"{index:05d}.png", dict(meta, **{"zoo:index": str(index)}))

    return Case(name, lambda out: zoo_core.run(name, num=num, seed=seed, device="cpu", out_dir=out), plain, num)


def _inputs(folder: Path, count: int, size: int, mode: str) -> list[Path]:
    generator = torch.Generator().manual_seed(1)
    folder.mkdir(parents=True, exist_ok=True)
    channels = 1 if mode == "L" else 3
    paths = []
    for index in range(count):
        pixels = (torch.rand(size, size, channels, generator=generator) * 255).to(torch.uint8).numpy()
        path = folder / f"in{index:04d}.png"
        Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, mode=mode).save(path)
        paths.append(path)
    return paths


def autoencoder_case(num: int, scratch: Path) -> Case:
    name = "conv-vae-fashion"
    model = zoo_core.load(name, device="cpu")
    files = _inputs(scratch / "vae-in", num, 28, "L")

    def plain(out: Path, meta: dict[str, str]) -> None:
        with torch.inference_mode():
            for path in files:  # one image at a time, as the task does (inputs may differ in size)
                output = model.reconstruct(read_image(path, 1)).float()
                _save(_uint8(output)[0], out / f"{path.stem}.png", dict(meta, **{"zoo:input": path.stem}))

    return Case(name, lambda out: zoo_core.run(name, *files, device="cpu", out_dir=out), plain, num)


def upscaler_case(num: int, scratch: Path) -> Case:
    from zoo_gan.rrdbnet import RRDBNet

    from safetensors.torch import save_file

    name = "real-esrgan-x4plus"
    network = RRDBNet.from_config({})
    generator = torch.Generator().manual_seed(0)
    state = {k: (v + torch.randn(v.shape, generator=generator) * 0.02).contiguous()
             for k, v in network.state_dict().items()}
    weights = scratch / "esrgan-random.safetensors"
    save_file(state, str(weights))
    model = zoo_core.load(name, device="cpu", weights=weights)
    files = _inputs(scratch / "up-in", num, 16, "RGB")

    def plain(out: Path, meta: dict[str, str]) -> None:
        with torch.inference_mode():
            for path in files:
                output = model.process(read_image(path, 3)).float()
                _save(_uint8(output)[0], out / f"{path.stem}.png", meta)

    return Case(name, lambda out: zoo_core.run(name, *files, device="cpu", weights=weights, out_dir=out), plain, num)


def measure(case: Case, repeats: int, scratch: Path) -> None:
    def fresh(tag: str) -> Path:
        folder = scratch / f"{case.name}-{tag}"
        shutil.rmtree(folder, ignore_errors=True)
        return folder

    zoo_dir = fresh("zoo")
    case.zoo(zoo_dir)  # warm-up, and the metadata the script copies
    meta = _meta_of(zoo_dir)
    for key in ("zoo:index", "zoo:input"):
        meta.pop(key, None)
    plain_dir = fresh("plain")
    plain_dir.mkdir()
    case.plain(plain_dir, meta)  # warm-up
    names = sorted(p.name for p in zoo_dir.iterdir())
    same = names == sorted(p.name for p in plain_dir.iterdir()) and all(
        (zoo_dir / n).read_bytes() == (plain_dir / n).read_bytes() for n in names)
    times: dict[str, list[float]] = {"zoo": [], "plain": []}
    cpu: dict[str, list[float]] = {"zoo": [], "plain": []}
    before = os.getloadavg()[0]
    for _ in range(repeats):
        for which in ("zoo", "plain"):
            folder = fresh(which)
            if which == "plain":
                folder.mkdir()
            start, start_cpu = time.perf_counter(), time.process_time()
            case.zoo(folder) if which == "zoo" else case.plain(folder, meta)
            times[which].append(time.perf_counter() - start)
            cpu[which].append(time.process_time() - start_cpu)
    after = os.getloadavg()[0]
    z, p = median(times["zoo"]), median(times["plain"])
    print(f"{case.name:20s} {case.count:5d} files  zoo {z:7.3f} s ({min(times['zoo']):.3f}-{max(times['zoo']):.3f})"
          f"  plain {p:7.3f} s ({min(times['plain']):.3f}-{max(times['plain']):.3f})  ratio {z / p:.2f}x"
          f" (CPU time {median(cpu['zoo']) / median(cpu['plain']):.2f}x)"
          f"  identical bytes: {'yes' if same else 'NO'}  load {before:.1f}->{after:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", default="generator,autoencoder,upscaler,causal")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--num", type=int, default=512, help="images for the generators")
    parser.add_argument("--inputs", type=int, default=512, help="input images for the autoencoder (128 gave runs of 0.4 s whose ratio swung 0.92-1.23x from run to run)")
    parser.add_argument("--upscales", type=int, default=4, help="input images for the upscaler")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    threads = use_threads(args.threads)
    print(f"torch {torch.__version__}, {threads} torch thread(s), {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; medians of {args.repeats} alternated runs (min-max)", flush=True)
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        makers = {"generator": lambda: generator_case(args.num), "causal": lambda: causal_case(args.num),
                  "autoencoder": lambda: autoencoder_case(args.inputs, scratch),
                  "upscaler": lambda: upscaler_case(args.upscales, scratch)}
        for kind in args.kinds.split(","):
            measure(makers[kind](), args.repeats, scratch)


if __name__ == "__main__":
    main()
