"""The shared training loop: early stopping, resumable checkpoints, Hub-repo output."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from zoo_core.errors import InputError
from zoo_core.training import FitResult, TrainContext, fit, optimizer_from_tensors, optimizer_to_tensors


class LineTask:
    """Fit y = 3x - 1 with one linear unit; the held-out metric is a scripted sequence or the MSE."""

    monitor = "mse"

    def __init__(self, scripted=None, seed=0):
        torch.manual_seed(seed)
        self.model = nn.Linear(1, 1)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.2)
        self.scripted = list(scripted or [])
        self.calls = 0

    def modules(self):
        return {"line": self.model}

    def optimizers(self):
        return {"adam": self.optimizer}

    def train_step(self, images, labels):
        x = images.flatten(1)[:, :1]
        loss = ((self.model(x) - (3 * x - 1)) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.detach()}

    def validate(self):
        self.calls += 1
        if self.scripted:
            return {"mse": self.scripted[self.calls - 1]}
        x = torch.linspace(-1, 1, 50)[:, None]
        with torch.no_grad():
            return {"mse": float(((self.model(x) - (3 * x - 1)) ** 2).mean())}

    def preview(self):
        return torch.zeros(4, 1, 2, 2)

    def export(self):
        return self.model.state_dict(), {"in": 1, "out": 1}

    def model_card(self, result: FitResult):
        return f"# line\nbest epoch {result.best_epoch}\n"


def data(n=256):
    x = torch.rand(n, 1, 2, 2, generator=torch.Generator().manual_seed(7)) * 2 - 1
    return x, torch.zeros(n, dtype=torch.long)


CPU = TrainContext(torch.device("cpu"))


def run(task, tmp_path, **kwargs):
    images, labels = data()
    options = dict(out_dir=tmp_path, batch_size=32, max_epochs=3, patience=3, progress=False, log=lambda m: None)
    options.update(kwargs)
    return fit(task, CPU, images, labels, **options)


def test_training_lowers_the_held_out_error_and_writes_a_model_repo(tmp_path):
    task = LineTask()
    before = task.validate()["mse"]
    result = run(task, tmp_path, max_epochs=4)
    assert result.best["mse"] < before / 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "checkpoint.safetensors", "config.json",
                                                          "model.safetensors", "samples", "training.json"]
    assert json.loads((tmp_path / "config.json").read_text()) == {"in": 1, "out": 1}
    assert set(load_file(str(tmp_path / "model.safetensors"))) == {"weight", "bias"}
    record = json.loads((tmp_path / "training.json").read_text())
    assert record["epochs"] == 4 and len(record["history"]) == 4 and record["seconds"] > 0
    assert len(list((tmp_path / "samples").iterdir())) == 4


def test_early_stopping_keeps_the_best_epoch(tmp_path):
    task = LineTask(scripted=[5.0, 3.0, 4.0, 4.5, 1.0])
    result = run(task, tmp_path, max_epochs=10, patience=2)
    assert result.epochs == 4 and result.best_epoch == 2 and result.stopped_early
    assert "best epoch 2" in (tmp_path / "README.md").read_text()


def test_resumed_training_ends_where_uninterrupted_training_does(tmp_path):
    straight = LineTask(seed=1)
    run(straight, tmp_path / "a", max_epochs=3)
    interrupted = LineTask(seed=1)
    run(interrupted, tmp_path / "b", max_epochs=1)
    resumed = LineTask(seed=99)  # different start: everything must come from the checkpoint
    result = run(resumed, tmp_path / "b", max_epochs=3, resume=True)
    assert result.epochs == 3 and len(result.history) == 3
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert torch.equal(straight.optimizer.state_dict()["state"][0]["exp_avg"],
                       resumed.optimizer.state_dict()["state"][0]["exp_avg"])


def test_optimizer_state_round_trips_without_pickle():
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1, betas=(0.5, 0.9))
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    tensors, meta = optimizer_to_tensors("opt", optimizer)
    json.dumps(meta)  # the non-tensor part is plain JSON
    fresh = torch.optim.Adam(model.parameters(), lr=1.0)
    optimizer_from_tensors("opt", fresh, tensors, meta)
    assert fresh.param_groups[0]["lr"] == 0.1 and tuple(fresh.param_groups[0]["betas"]) == (0.5, 0.9)
    assert torch.equal(fresh.state_dict()["state"][1]["exp_avg_sq"], optimizer.state_dict()["state"][1]["exp_avg_sq"])


def test_batch_larger_than_the_data_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="--batch-size 1000: the data set has only 256 images"):
        run(LineTask(), tmp_path, batch_size=1000)


@pytest.mark.slow  # two processes under torchrun
def test_distributed_ranks_agree_on_early_stopping_and_resume_their_own_random_streams(tmp_path):
    """torchrun, 2 CPU processes: rank 0's held-out metric decides for all, and a resumed run
    gives each rank back its own RNG state, not rank 0's."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    worker = Path(__file__).with_name("ddp_fit_worker.py")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(worker), str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"),
                            timeout=300)
    written = sorted(p.name for p in tmp_path.glob("rank*.json"))
    assert result.returncode == 0, f"written: {written}\n{result.stdout[-1000:]}\n{result.stderr[-3000:]}"
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["epochs"] for r in ranks] == [4, 4] and not any(r["stopped_early"] for r in ranks)
    assert all(r["rng_resumed_as_straight"] for r in ranks)
    assert ranks[0]["rng"] != ranks[1]["rng"]


def test_resuming_with_a_checkpoint_of_another_model_is_a_one_line_input_error(tmp_path):
    run(LineTask(), tmp_path, max_epochs=1)
    other = LineTask()
    other.model = nn.Linear(1, 2)  # e.g. resumed with another --width
    other.optimizer = torch.optim.Adam(other.model.parameters())
    with pytest.raises(InputError, match="checkpoint.safetensors: the checkpoint does not fit") as caught:
        run(other, tmp_path, max_epochs=2, resume=True)
    assert "\n" not in str(caught.value)
    (tmp_path / "checkpoint.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(InputError, match="cannot read the checkpoint"):
        run(LineTask(), tmp_path, max_epochs=2, resume=True)


@pytest.mark.parametrize("device,message", [("cuda:0", "no CUDA device is available here"),
                                            ("gpu", "use auto, cpu, cuda, cuda:N or mps")])
def test_torchrun_checks_the_device_instead_of_falling_back_to_the_cpu(monkeypatch, device, message):
    from zoo_core.training import training_context

    if torch.cuda.is_available():
        pytest.skip("checks the CPU-only fallback")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(InputError, match=message):
        with training_context(device):
            pass


def test_a_finished_run_is_not_trained_over_without_force(tmp_path):
    run(LineTask(), tmp_path, max_epochs=1)
    with pytest.raises(InputError, match="already holds model.safetensors and checkpoint.safetensors"):
        run(LineTask(), tmp_path, max_epochs=1)
    assert run(LineTask(), tmp_path, max_epochs=1, force=True).epochs == 1
