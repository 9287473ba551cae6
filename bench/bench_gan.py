"""DCGAN sampling and training throughput: zoo versus a plain eager reference, same run.

Sampling: images/s at batch 256 for zoo's DCGAN (BatchNorm folded into the transposed
convolutions, channels-last) against the same architecture written plainly below, with the
same weights, threads, dtype and torch.inference_mode. Training: images/s of zoo's shared
training loop (zoo_core.training.fit + zoo_gan's GANTask) against a plain loop doing the
same steps. On CUDA it also times bf16 and CUDA-graph sampling.

    python bench/bench_gan.py [--device cpu|cuda] [--compile] [--batches 5] [--rounds 7]
                              [--steps 10] [--train-rounds 3]

Every way is warmed up, then the ways run in turn, round after round (A, B, C, A, B, C...),
so a change in the machine's load hits them alike; it prints the median rate with min-max
over the rounds and the 1-minute load. Equality: zoo's decode equals the reference's to the
printed max difference (fp32 summation order; < 1e-4); training runs the same steps on the
same data (the losses differ only through zoo's own initialisation order).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F


def reference_generator(latent: int = 100, width: int = 64, channels: int = 1) -> nn.Sequential:
    """DCGAN generator for 32x32 images, as a textbook would write it."""
    return nn.Sequential(
        nn.ConvTranspose2d(latent, width * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(width * 4), nn.ReLU(True),
        nn.ConvTranspose2d(width * 4, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.ReLU(True),
        nn.ConvTranspose2d(width * 2, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True),
        nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh(),
    )


def reference_discriminator(width: int = 64, channels: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True),
        nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2, True),
        nn.Conv2d(width * 2, width * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 4), nn.LeakyReLU(0.2, True),
        nn.Conv2d(width * 4, 1, 4, 1, 0),
    )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def throughput(fn, batch: int, batches: int, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(batches):
        fn()
    sync(device)
    return batch * batches / (time.perf_counter() - start)


def alternate(ways: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each way once to warm up, then every way in turn, ``rounds`` times: its rates."""
    for way in ways.values():
        way()
    rates: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            rates[name].append(way())
    return rates


def report(title: str, rates: dict[str, list[float]], base: str, load: float) -> None:
    print(f"{title}; load {load:.1f}->{os.getloadavg()[0]:.1f}; median (min-max) of {len(rates[base])} rounds")
    reference = statistics.median(rates[base])
    for name, values in rates.items():
        m = statistics.median(values)
        print(f"  {name:34s} {m:10.0f} images/s ({min(values):.0f}-{max(values):.0f})   {m / reference:6.2f}x {base}")


def bench_sampling(device: torch.device, batches: int, compile_: bool, rounds: int) -> None:
    from zoo_gan.dcgan import DCGAN
    from zoo_gan.tasks import init_dcgan_weights

    torch.manual_seed(0)
    model = DCGAN.from_config({}).to(device)
    model.apply(init_dcgan_weights)
    for module in model.modules():  # realistic BatchNorm statistics, not the identity
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    model.eval()
    reference = reference_generator().to(device).eval()
    reference.load_state_dict({k.removeprefix("generator.net."): v for k, v in model.state_dict().items()
                               if k.startswith("generator.net.")})
    batch = 256
    z = torch.randn(batch, 100, device=device)
    load = os.getloadavg()[0]
    with torch.inference_mode():
        difference = (model.decode(z) - reference(z[:, :, None, None])).abs().max().item()
        ways = {
            "reference (eager, fp32)": lambda: throughput(lambda: reference(z[:, :, None, None]), batch, batches,
                                                          device),
            "zoo decode (fp32)": lambda: throughput(lambda: model.decode(z), batch, batches, device),
            "zoo sample (fp32, incl. noise)": lambda: throughput(lambda: model.sample(batch, seed=1), batch,
                                                                 batches, device),
        }
        if compile_:
            compiled = torch.compile(model.generator.fused())
            x = z[:, :, None, None].contiguous(memory_format=torch.channels_last)
            ways["zoo fused + torch.compile (fp32)"] = lambda: throughput(lambda: compiled(x), batch, batches, device)
        if device.type == "cuda":
            half = DCGAN.from_config({}).to(device)
            half.load_state_dict(model.state_dict())
            half = half.to(torch.bfloat16).eval()
            zb = z.to(torch.bfloat16)
            ways["zoo decode (bf16)"] = lambda: throughput(lambda: half.decode(zb), batch, batches, device)
            reference_bf16 = reference_generator().to(device).eval()
            reference_bf16.load_state_dict(reference.state_dict())
            reference_bf16 = reference_bf16.to(torch.bfloat16)
            ways["reference (eager, bf16)"] = lambda: throughput(lambda: reference_bf16(zb[:, :, None, None]), batch,
                                                                 batches, device)
            fused = half.generator.fused()
            static_in = zb[:, :, None, None].contiguous(memory_format=torch.channels_last).clone()
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(3):
                    fused(static_in)
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = fused(static_in)
            ways["zoo fused + CUDA graph (bf16)"] = lambda: throughput(graph.replay, batch, batches, device)
        rates = alternate(ways, rounds)
    report(f"sampling, batch {batch}, {device}, {torch.get_num_threads()} threads, torch {torch.__version__}; "
           f"max |zoo - reference| = {difference:.2e}", rates, "reference (eager, fp32)", load)


def bench_training(device: torch.device, steps: int, rounds: int) -> None:
    from zoo_core.training import TrainContext, fit
    from zoo_gan.dcgan import DCGANConfig
    from zoo_gan.tasks import GANTask, init_dcgan_weights

    batch = 128
    torch.manual_seed(0)
    images = torch.rand(batch * steps, 1, 32, 32) * 2 - 1
    labels = torch.zeros(len(images), dtype=torch.long)
    ctx = TrainContext(device, amp=False)

    def plain_loop() -> float:
        torch.manual_seed(0)
        g, d = reference_generator().to(device), reference_discriminator().to(device)
        g.apply(init_dcgan_weights)
        d.apply(init_dcgan_weights)
        opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
        data = images.to(device)
        order = torch.randperm(len(data)).to(device)
        sync(device)
        start = time.perf_counter()
        for step in range(steps):
            real = data[order[step * batch:(step + 1) * batch]]
            z = torch.randn(batch, 100, 1, 1, device=device)
            ones, zeros = torch.ones(batch, device=device), torch.zeros(batch, device=device)
            fake = g(z)
            loss_d = F.binary_cross_entropy_with_logits(d(real).flatten(), ones) + \
                F.binary_cross_entropy_with_logits(d(fake.detach()).flatten(), zeros)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            loss_g = F.binary_cross_entropy_with_logits(d(fake).flatten(), ones)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
        sync(device)
        return batch * steps / (time.perf_counter() - start)

    def zoo_loop() -> float:
        task = GANTask(ctx, DCGANConfig(), lr=2e-4, seed=0, classifier=None, reference=None, eval_samples=0,
                       recipe="bench", dataset="random", classes=())
        with tempfile.TemporaryDirectory() as tmp:
            result = fit(task, ctx, images, labels, out_dir=Path(tmp), batch_size=batch, max_epochs=1,
                         progress=False, log=lambda message: None)
        return batch * steps / result.history[0]["seconds"]

    load = os.getloadavg()[0]
    rates = alternate({"plain loop": plain_loop, "zoo fit + GANTask": zoo_loop}, rounds)  # both warmed up
    report(f"training, batch {batch}, {steps} steps, {device}, fp32, {torch.get_num_threads()} threads", rates,
           "plain loop", load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", type=int, default=5, help="sampling batches per round")
    parser.add_argument("--rounds", type=int, default=7, help="alternated sampling rounds")
    parser.add_argument("--steps", type=int, default=10, help="training steps per round")
    parser.add_argument("--train-rounds", type=int, default=3, help="alternated training rounds")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of the fused network")
    args = parser.parse_args()
    device = torch.device(args.device)
    bench_sampling(device, args.batches, args.compile, args.rounds)
    bench_training(device, args.steps, args.train_rounds)


if __name__ == "__main__":
    main()
