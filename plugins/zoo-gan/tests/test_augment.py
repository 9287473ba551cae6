"""DiffAugment: differentiable, the same op kinds on real and generated images, on by default
only for small data sets; and a folder training whose summary names its best epoch with a number."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from zoo_core.testing.data import shape_images
from zoo_core.training import TrainContext
from zoo_gan.augment import AUGMENT_BELOW, POLICY, DiffAugment, augment_enabled
from zoo_gan.dcgan import DCGANConfig
from zoo_gan.tasks import GANTask


@pytest.mark.parametrize("op", POLICY)
def test_each_op_changes_images_and_passes_gradients_back(op):
    torch.manual_seed(0)
    images = shape_images(16, 32, 3, seed=0).requires_grad_()
    out = DiffAugment((op,))(images)
    assert out.shape == images.shape and not torch.allclose(out, images)
    (out * torch.randn_like(out)).sum().backward()
    assert images.grad is not None and torch.isfinite(images.grad).all() and images.grad.abs().sum() > 0


def test_ops_draw_per_image_and_keep_what_they_should():
    torch.manual_seed(1)
    dot = torch.full((64, 1, 32, 32), -1.0)
    dot[:, :, 16, 16] = 1.0
    shifted = DiffAugment(("translation",))(dot)
    where = [divmod(int(image.argmax()), 32) for image in shifted]
    shifts = {(y - 16, x - 16) for y, x in where}
    assert all(abs(dy) <= 4 and abs(dx) <= 4 for dy, dx in shifts)  # up to an eighth of 32 pixels
    assert len(shifts) > 20 and all(float(image.max()) == 1.0 for image in shifted)  # drawn per image, moved whole
    cut = DiffAugment(("cutout",))(torch.ones(64, 1, 32, 32))
    zeroed = (cut == 0).flatten(1).float().mean(1)
    # a 16x16 square (a quarter of the image) goes mid-grey, clipped where it meets an edge
    assert (zeroed >= 1 / 16).all() and (zeroed <= 1 / 4).all() and (zeroed == 1 / 4).any()
    assert torch.equal(DiffAugment(("color",))(torch.zeros(2, 3, 4, 4)).std((1, 2, 3)), torch.zeros(2))


def test_the_discriminator_sees_real_and_generated_images_through_the_same_ops():
    task = GANTask(TrainContext(torch.device("cpu")), DCGANConfig(width=8), lr=2e-4, seed=0, classifier=None,
                   reference=None, eval_samples=2, recipe="", dataset="t", classes=(), augment=DiffAugment())
    seen: list[tuple[bool, tuple[str, ...]]] = []
    real = shape_images(8, 32, 1, seed=2)
    original = task.augment

    class Spy(DiffAugment):
        def __call__(self, images: torch.Tensor) -> torch.Tensor:
            seen.append((images.data_ptr() == real.data_ptr(), self.policy))
            out = original(images)
            assert out.requires_grad == images.requires_grad  # G's step back-propagates through it
            return out

    task.augment = Spy()
    task.train_step(real, torch.zeros(8, dtype=torch.long))
    # D's step: the real batch, then the detached fakes; G's step: the fakes, all with the full policy
    assert seen == [(True, POLICY), (False, POLICY), (False, POLICY)]


def test_auto_augments_small_data_sets_only():
    assert augment_enabled("auto", AUGMENT_BELOW - 1) and not augment_enabled("auto", AUGMENT_BELOW)
    assert augment_enabled("on", 10 ** 6) and not augment_enabled("off", 10)
    with pytest.raises(ValueError):
        augment_enabled("sometimes", 10)


def _write_folder(folder, n: int = 40) -> None:
    """Mixed sizes and formats (PNG RGB, PNG RGBA, JPEG), as a user's folder has them."""
    folder.mkdir()
    pictures = ((shape_images(n, 48, 3, seed=3) + 1) * 127.5).round().clamp(0, 255).byte()
    for i, array in enumerate(pictures.permute(0, 2, 3, 1).numpy()):
        picture = Image.fromarray(array).resize((40 + 8 * (i % 3), 48))
        if i % 3 == 0:
            picture.save(folder / f"{i}.jpg")
        elif i % 3 == 1:
            picture.convert("RGBA").save(folder / f"{i}.png")
        else:
            picture.save(folder / f"{i}.png")


def test_a_folder_training_names_its_best_epoch_with_a_number(zoo, tmp_path):
    _write_folder(tmp_path / "shapes")
    out = tmp_path / "run"
    code, stdout, err = zoo("train", "dcgan", "--dataset", "folder", "--data-dir", str(tmp_path / "shapes"),
                            "--channels", "3", "--epochs", "2", "--batch-size", "8", "--width", "8",
                            "--eval-samples", "64", "--out", str(out), "--quiet", "--device", "cpu")
    assert code == 0, err
    assert "held-out metric: KID of 64 samples to 4 held-out images in the random-conv" in err
    assert "DiffAugment(color,translation,cutout) on what the discriminator sees (36 training images" in err
    summary = [line for line in (stdout + err).splitlines() if line.startswith("dcgan: best epoch")]
    assert summary and " of 2: kid " in summary[0] and "(floor " in summary[0], stdout + err
    history = json.loads((out / "training.json").read_text())
    assert history["best"]["kid"] == pytest.approx(min(row["kid"] for row in history["history"]), rel=1e-5)
    assert {"kid", "kid_floor", "fd", "fd_floor"} <= set(history["best"])
    assert "held-out real images" in (out / "README.md").read_text()


def test_a_folder_training_can_use_a_zoo_encoder_as_its_feature_space(zoo, tmp_path):
    _write_folder(tmp_path / "shapes", n=24)
    code, _, err = zoo("train", "dcgan", "--dataset", "folder", "--data-dir", str(tmp_path / "shapes"),
                       "--channels", "3", "--epochs", "1", "--batch-size", "8", "--width", "8", "--augment", "off",
                       "--eval-samples", "32", "--feature-model", "fashion-classifier", "--out",
                       str(tmp_path / "run"), "--quiet", "--device", "cpu")
    assert code == 0, err
    assert "in the fashion-classifier feature space" in err and "DiffAugment" not in err
    code, _, err = zoo("train", "dcgan", "--dataset", "folder", "--data-dir", str(tmp_path / "shapes"),
                       "--channels", "3", "--epochs", "1", "--batch-size", "8", "--feature-model", "dcgan-fashion",
                       "--out", str(tmp_path / "run2"), "--quiet", "--device", "cpu")
    assert code == 1 and "--feature-model dcgan-fashion: a DCGAN has no encode()" in err and err.count("\n") == 1
