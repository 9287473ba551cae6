"""Run under torchrun by test_gan_training.py: a few DDP steps, then each rank saves its weights."""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from zoo_core.training import fit, training_context
from zoo_gan.dcgan import DCGANConfig
from zoo_gan.tasks import GANTask

out = Path(sys.argv[1])
with training_context("cpu", amp=False) as ctx:
    task = GANTask(ctx, DCGANConfig(width=8), lr=2e-4, seed=0, classifier=None, reference=None, eval_samples=0,
                   recipe="test", dataset="random", classes=())
    images = torch.rand(256, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fit(task, ctx, images, torch.zeros(256, dtype=torch.long), out_dir=out, batch_size=16, max_epochs=1,
        progress=False, log=lambda message: None)
    save_file({k: v.contiguous() for k, v in task.model.state_dict().items()}, str(out / f"rank{ctx.rank}.safetensors"))
