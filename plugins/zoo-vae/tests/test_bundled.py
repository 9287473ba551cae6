"""The bundled conv VAE: offline sampling and reconstruction, and zoo eval reproducing its registry numbers."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from PIL import Image

import zoo_core
from zoo_core.testing.data import fashion_mnist_available

NAME = "conv-vae-fashion"


def test_bundled_weights_match_their_pin():
    entry = zoo_core.get_entry(NAME)
    data = entry.weights.bundled.read_bytes()
    assert len(data) == entry.weights.size
    assert hashlib.sha256(data).hexdigest() == entry.weights.sha256
    assert entry.recipe.startswith("zoo train conv-vae")


def test_sampling_and_interpolation_offline(zoo, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, err = zoo("run", NAME, "--num", "8", "--seed", "3", "--out", str(tmp_path / "s.png"), "--json")
    assert code == 0, err
    assert json.loads(out)["image_shape"] == [1, 28, 28]
    first = (tmp_path / "s.png").read_bytes()
    code, _, err = zoo("run", NAME, "--num", "8", "--seed", "3", "--out", str(tmp_path / "t.png"))
    assert code == 0 and (tmp_path / "t.png").read_bytes() == first  # same seed, same bytes
    code, _, err = zoo("run", NAME, "--seed", "0", "--interpolate", "1", "--frames", "5", "--out", str(tmp_path / "i.png"))
    assert code == 0, err


def test_reconstruction_is_better_than_a_flat_guess(zoo, tmp_path):
    # a bright "trouser"-like shape on black, the kind of image the model was trained on
    pixels = torch.zeros(28, 28, dtype=torch.uint8)
    pixels[3:26, 9:13] = 200
    pixels[3:26, 15:19] = 200
    pixels[3:6, 9:19] = 200
    Image.fromarray(pixels.numpy(), "L").save(tmp_path / "trousers.png")
    code, out, err = zoo("run", NAME, "--input", str(tmp_path / "trousers.png"), "--out", str(tmp_path / "r.png"),
                         "--json")
    assert code == 0, err
    psnr = json.loads(out)["mean_psnr_db"]
    image = pixels.float() / 127.5 - 1
    flat = 10 * torch.log10(1 / (((image - image.mean()) / 2) ** 2).mean())  # predicting the mean grey everywhere
    assert psnr > float(flat) + 3


def test_another_image_size_is_resized_with_one_note(zoo, tmp_path):
    """It used to be refused ("takes images of shape (N, 1, 28, 28)"); now --resize brings it to 28x28."""
    Image.new("L", (32, 32)).save(tmp_path / "big.png")
    code, out, err = zoo("run", NAME, "--input", str(tmp_path / "big.png"), "--out", str(tmp_path / "pair.png"))
    assert code == 0, err
    assert err.strip().splitlines() == [f"zoo: note: {NAME} takes 28x28 images: other sizes are scaled to fit "
                                        "inside, keeping the aspect ratio, and padded with black (--resize fit; "
                                        "first: big.png, 32x32)"]


@pytest.mark.slow  # reads the real Fashion-MNIST
@pytest.mark.skipif(not fashion_mnist_available(), reason="needs Debian's dataset-fashion-mnist")
def test_zoo_eval_reproduces_the_registry_on_a_slice(zoo):
    """The first 1,000 test images with k = 20 land near the registry's 10,000-image, k >= 100 numbers."""
    code, out, err = zoo("eval", NAME, "--limit", "1000", "--k", "20", "--classifier", "none", "--device", "cpu",
                         "--json")
    assert code == 0, err
    report = json.loads(out)
    measured, registry = report["metrics"], report["registry"]
    assert report["setup"] == {"test_images": 1000, "k": 20, "samples": 0, "seed": 0, "likelihood": "bernoulli"}
    for key in ("neg_elbo", "iwae_nll", "reconstruction_nats"):
        assert abs(measured[key] - registry[key]) < 0.03 * registry[key], key
    assert abs(measured["kl_nats"] - registry["kl_nats"]) < 0.1 * registry["kl_nats"]
    assert abs(measured["recon_psnr_db"] - registry["recon_psnr_db"]) < 0.5
    assert measured["iwae_nll"] < measured["neg_elbo"]  # the importance-weighted bound is tighter
    assert registry["iwae_nll"] < registry["neg_elbo"]


def test_eval_without_zoo_gan_says_what_to_do(zoo, monkeypatch, tmp_path):
    from zoo_core.testing.data import write_fake_fashion_mnist

    data = write_fake_fashion_mnist(tmp_path / "f", n_train=20, n_test=10)
    code, out, err = zoo("eval", NAME, "--data-dir", str(data), "--k", "2", "--classifier", "no-such-model",
                         "--device", "cpu")
    assert code == 1
    assert "--classifier no-such-model" in err and "--classifier none" in err and len(err.strip().splitlines()) == 1
