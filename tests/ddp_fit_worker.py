"""Run under torchrun by test_training.py: fit() on 2 CPU processes whose own held-out
metrics disagree, then a run interrupted after one epoch and resumed; each rank writes what
it ended with to OUT/rank{R}.json."""

import json
import sys
from pathlib import Path

import torch
from torch import nn

from zoo_core.training import fit, training_context


class NoisyTask:
    """Each rank draws its own noise; validate() says something different on each rank."""

    monitor = "metric"

    def __init__(self, rank: int) -> None:
        torch.manual_seed(0)
        self.model = nn.Linear(4, 1)
        torch.manual_seed(1000 + rank)  # a different random stream on each rank, as the GAN task does
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01)
        self.rank, self.calls = rank, 0

    def modules(self):
        return {"line": self.model}

    def optimizers(self):
        return {"sgd": self.optimizer}

    def train_step(self, images, labels):
        loss = (self.model(images.flatten(1) + torch.randn(len(images), 4)) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.detach()}

    def validate(self):
        self.calls += 1
        # rank 0 keeps improving; rank 1 alone would stop after 2 epochs without improvement
        return {"metric": 10.0 - self.calls if self.rank == 0 else 1.0 + self.calls}

    def preview(self):
        return torch.zeros(1, 1, 2, 2)

    def export(self):
        return self.model.state_dict(), {}

    def model_card(self, result):
        return "# noisy\n"


out = Path(sys.argv[1])
images = torch.rand(64, 1, 2, 2, generator=torch.Generator().manual_seed(0))
labels = torch.zeros(64, dtype=torch.long)
options = dict(batch_size=8, patience=2, progress=False, log=lambda message: None)
with training_context("cpu", amp=False) as ctx:
    stopped = fit(NoisyTask(ctx.rank), ctx, images, labels, out_dir=out / "stop", max_epochs=4, **options)
    fit(NoisyTask(ctx.rank), ctx, images, labels, out_dir=out / "straight", max_epochs=2, **options)
    straight_rng = torch.get_rng_state()
    fit(NoisyTask(ctx.rank), ctx, images, labels, out_dir=out / "resumed", max_epochs=1, **options)
    torch.manual_seed(12345)  # whatever the process did in between
    fit(NoisyTask(ctx.rank), ctx, images, labels, out_dir=out / "resumed", max_epochs=2, resume=True, **options)
    (out / f"rank{ctx.rank}.json").write_text(json.dumps({
        "epochs": stopped.epochs, "stopped_early": stopped.stopped_early,
        "rng_resumed_as_straight": torch.equal(torch.get_rng_state(), straight_rng),
        "rng": torch.get_rng_state().float().sum().item()}))
