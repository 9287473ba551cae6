"""GAN training: a short run teaches the discriminator; two processes stay in lockstep."""

from __future__ import annotations

import pytest

import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch.nn import functional as F

from zoo_core.training import TrainContext
from zoo_gan.dcgan import DCGANConfig
from zoo_gan.tasks import GANTask

WORKER = Path(__file__).with_name("ddp_worker.py")


def squares(n: int, seed: int = 0) -> torch.Tensor:
    """'Real' images made here: a bright square on black at a random place."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.full((n, 1, 32, 32), -1.0)
    corners = torch.randint(0, 20, (n, 2), generator=generator)
    for i, (y, x) in enumerate(corners.tolist()):
        images[i, :, y:y + 12, x:x + 12] = 1.0
    return images


def discriminator_loss(task: GANTask, real: torch.Tensor) -> float:
    with torch.no_grad():
        fake = task.model.generator(torch.randn(len(real), 100))
        d_real, d_fake = task.model.discriminator(real), task.model.discriminator(fake)
        return float(F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                     + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))


def test_a_few_dozen_steps_lower_the_discriminators_error():
    ctx = TrainContext(torch.device("cpu"))
    task = GANTask(ctx, DCGANConfig(width=16), lr=2e-4, seed=0, classifier=None, reference=None,
                   eval_samples=0, recipe="test", dataset="squares", classes=())
    data, held_out = squares(512), squares(128, seed=1)
    task.model.train()
    before = discriminator_loss(task, held_out)
    for step in range(40):
        batch = data[(step * 64) % 512:(step * 64) % 512 + 64]
        losses = task.train_step(batch, torch.zeros(64, dtype=torch.long))
    after = discriminator_loss(task, held_out)
    assert before > 1.2  # about 2 ln 2: the untrained discriminator cannot tell
    assert after < 0.8 * before
    assert set(losses) == {"loss_d", "loss_g"}


@pytest.mark.slow  # two processes under torchrun
def test_two_processes_keep_identical_weights(tmp_path):
    """torchrun, 2 CPU processes with gloo, each on its own shard; BatchNorm statistics stay per process."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               str(WORKER), str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rank0, rank1 = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1))
    parameters = [k for k in rank0 if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert len(parameters) > 10
    for key in parameters:
        assert torch.equal(rank0[key], rank1[key]), key
    # the ranks saw different data, so their own BatchNorm statistics differ (documented)
    assert any(not torch.equal(rank0[k], rank1[k]) for k in rank0 if k.endswith("running_mean"))
    assert (tmp_path / "model.safetensors").exists()  # rank 0 wrote the model repo


def test_resumed_gan_training_matches_an_uninterrupted_run(tmp_path):
    """Without a classifier every epoch counts; a resumed run must continue the uninterrupted
    run's history, and its weights must be that run's (the first preview once changed them)."""
    from zoo_core.training import fit

    ctx = TrainContext(torch.device("cpu"))
    images = squares(64)
    labels = torch.zeros(64, dtype=torch.long)

    def task() -> GANTask:
        return GANTask(ctx, DCGANConfig(width=8), lr=2e-4, seed=0, classifier=None, reference=None,
                       eval_samples=0, recipe="test", dataset="squares", classes=())

    options = dict(batch_size=16, patience=1, progress=False, log=lambda message: None)
    straight = task()
    expected = fit(straight, ctx, images, labels, out_dir=tmp_path / "a", max_epochs=3, **options)
    fit(task(), ctx, images, labels, out_dir=tmp_path / "b", max_epochs=1, **options)
    resumed = task()
    result = fit(resumed, ctx, images, labels, out_dir=tmp_path / "b", max_epochs=3, resume=True, **options)
    def without_timing(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    assert without_timing(result.history) == without_timing(expected.history)
    assert result.epochs == 3 and result.best_epoch == 3 and not result.stopped_early
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_without_a_classifier_every_epoch_is_kept_even_after_resuming_with_more_epochs(tmp_path):
    from zoo_core.training import fit

    ctx = TrainContext(torch.device("cpu"))
    images, labels = squares(32), torch.zeros(32, dtype=torch.long)
    options = dict(batch_size=16, patience=1, progress=False, log=lambda message: None)
    for epochs, resume in ((1, False), (3, True)):  # "train longer": --resume with a larger --epochs
        task = GANTask(ctx, DCGANConfig(width=8), lr=2e-4, seed=0, classifier=None, reference=None,
                       eval_samples=0, recipe="test", dataset="squares", classes=())
        result = fit(task, ctx, images, labels, out_dir=tmp_path, max_epochs=epochs, resume=resume, **options)
    assert result.epochs == 3 and result.best_epoch == 3 and not result.stopped_early
    card = (tmp_path / "README.md").read_text()
    assert "Held-out metric: none" in card and "Fréchet" not in card
    exported = load_file(str(tmp_path / "model.safetensors"))
    for key, value in task.model.state_dict().items():
        assert torch.equal(exported[key], value), key


def test_a_conditional_gan_is_judged_class_by_class():
    """class_fd: each class's samples against that class's real features, averaged (the monitor)."""
    from zoo_gan.classifier import ClassifierConfig, FeatureClassifier

    ctx = TrainContext(torch.device("cpu"))
    torch.manual_seed(0)
    classifier = FeatureClassifier(ClassifierConfig()).eval()
    real = squares(400)
    labels = torch.arange(400) % 2
    real[labels == 1] *= -1  # class 1: the negative of class 0
    task = GANTask(ctx, DCGANConfig(width=8, num_classes=2), lr=2e-4, seed=0, classifier=classifier,
                   reference=classifier.features_of(real), reference_labels=labels, eval_samples=100,
                   recipe="test", dataset="squares", classes=("light", "dark"))
    assert task.monitor == "class_fd"
    metrics = task.validate()
    assert set(metrics) == {"fd", "class_accuracy", "class_fd"} and metrics["class_fd"] > 0
    plain = GANTask(ctx, DCGANConfig(width=8, num_classes=2), lr=2e-4, seed=0, classifier=classifier,
                    reference=classifier.features_of(real), eval_samples=100, recipe="test", dataset="squares",
                    classes=("light", "dark"))
    assert plain.monitor == "fd"  # no labels for the reference: the overall FD
