"""The conv VAE: the ELBO's terms, the IWAE bound, shapes and ranges, training through zoo train."""

from __future__ import annotations

import json
import math

import pytest
import torch

from zoo_core.errors import ConfigError, InputError
from zoo_core.testing.data import write_fake_fashion_mnist
from zoo_vae.conv_vae import ConvVAE, ConvVAEConfig, gaussian_kl

SMALL = {"latent_dim": 4, "width": 8, "hidden": 32}


def _model(**changes) -> ConvVAE:
    torch.manual_seed(0)
    return ConvVAE(ConvVAEConfig(**{**SMALL, **changes})).eval()


def test_kl_matches_the_closed_form_of_torch_distributions():
    generator = torch.Generator().manual_seed(0)
    mean, logvar = torch.randn(5, 3, generator=generator), torch.randn(5, 3, generator=generator)
    q = torch.distributions.Normal(mean, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(gaussian_kl(mean, logvar), expected, atol=1e-6)
    assert torch.allclose(gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))


def test_kl_term_of_the_model_is_the_posteriors_kl():
    model = _model()
    images = torch.rand(4, 1, 28, 28) * 2 - 1
    mean, logvar = model.posterior(images)
    terms = model.elbo_terms(images, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(terms["kl"], gaussian_kl(mean, logvar))


def test_bernoulli_log_likelihood_is_the_cross_entropy_on_grey_levels():
    model = _model()
    images = torch.full((1, 1, 28, 28), 0.5)  # grey level x = 0.75
    logits = torch.full((1, 1, 28, 28), math.log(0.9 / 0.1))  # p = 0.9
    expected = 784 * (0.75 * math.log(0.9) + 0.25 * math.log(0.1))
    assert math.isclose(float(model.log_likelihood(images, logits)), expected, rel_tol=1e-5)


def test_gaussian_likelihood_is_a_normal_density():
    model = _model(likelihood="gaussian")
    images = torch.zeros(1, 1, 28, 28)  # grey level 0.5
    means = torch.full((1, 1, 28, 28), 0.25)
    expected = torch.distributions.Normal(0.25, 1.0).log_prob(torch.tensor(0.5)) * 784  # log_scale starts at 0
    assert math.isclose(float(model.log_likelihood(images, means).detach()), float(expected), rel_tol=1e-6)


def test_iwae_bound_is_at_least_the_elbo_and_reproducible():
    model = _model()
    images = torch.rand(6, 1, 28, 28) * 2 - 1
    k1 = torch.stack([model.iwae_log_likelihood(images, 1, generator=torch.Generator().manual_seed(s))
                      for s in range(200)]).mean(0)
    terms = model.elbo_terms(images, generator=torch.Generator().manual_seed(0))
    elbo = terms["log_likelihood"] - terms["kl"]
    # k = 1 is the ELBO in expectation; the average of 200 draws is close to a single draw of the ELBO
    # only up to noise, so compare with a loose tolerance, and check the bound tightens with k
    assert torch.allclose(k1.float(), elbo, rtol=0.02)
    k100 = model.iwae_log_likelihood(images, 100, generator=torch.Generator().manual_seed(1))
    assert (k100 >= k1 - 1e-3).all()
    again = model.iwae_log_likelihood(images, 100, generator=torch.Generator().manual_seed(1))
    assert torch.equal(k100, again)
    with pytest.raises(InputError):
        model.iwae_log_likelihood(images, 0)


@pytest.mark.parametrize("changes", [{}, {"likelihood": "gaussian"}, {"channels": 3, "image_size": 32},
                                     {"image_size": 16}])
def test_shapes_and_ranges(changes):
    model = _model(**changes)
    shape = model.image_shape
    images = torch.rand(3, *shape) * 2 - 1
    assert model.encode(images).shape == (3, SMALL["latent_dim"])
    out = model.reconstruct(images)
    samples = model.sample(5, seed=0)
    assert out.shape == images.shape and samples.shape == (5, *shape)
    for x in (out, samples, model.interpolate(0, 1, frames=4), model.interpolate_images(images[0], images[1], 3)):
        assert x.min() >= -1 and x.max() <= 1
    losses = model(images)
    assert set(losses) == {"loss", "reconstruction", "kl"} and torch.isfinite(losses["loss"])


def test_bad_config_and_images():
    with pytest.raises(ConfigError, match="multiple of 4"):
        ConvVAEConfig(image_size=30)
    with pytest.raises(ConfigError, match="likelihood"):
        ConvVAEConfig(likelihood="poisson")
    model = _model()
    with pytest.raises(InputError, match=r"\(N, 1, 28, 28\)"):
        model.reconstruct(torch.zeros(1, 3, 28, 28))
    with pytest.raises(InputError, match=r"\(N, 1, 28, 28\)"):
        model.reconstruct(torch.zeros(1, 1, 24, 24))


def test_elbo_decreases_in_a_short_run_through_zoo_train(zoo, tmp_path, monkeypatch):
    data = write_fake_fashion_mnist(tmp_path / "fmnist", n_train=400, n_test=20)
    # fake images are uniform noise: learnable structure is the mean grey level, enough for the ELBO to fall
    code, out, err = zoo("train", "conv-vae", "--out", str(tmp_path / "run"), "--data-dir", str(data), "--epochs", "3",
                         "--batch-size", "32", "--latent-dim", "4", "--width", "8", "--hidden", "32", "--quiet",
                         "--device", "cpu", "--eval-samples", "200")
    assert code == 0, err
    history = json.loads((tmp_path / "run" / "training.json").read_text())["history"]
    assert len(history) == 3
    assert history[-1]["val_neg_elbo"] < history[0]["val_neg_elbo"]
    assert history[-1]["loss"] < history[0]["loss"]
    # samples are scored against the held-out images too, floor beside it, in the summary as well
    assert all({"kid", "kid_floor", "fd", "fd_floor"} <= set(row) for row in history)
    assert "sample quality: KID of 200 samples to 40 held-out images in the random-conv" in err
    assert "conv-vae: best epoch" in out + err and "kid" in out + err and "(floor " in out + err
    for name in ("model.safetensors", "config.json", "README.md", "checkpoint.safetensors"):
        assert (tmp_path / "run" / name).exists()
    assert "zoo train conv-vae" in (tmp_path / "run" / "README.md").read_text()
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["latent_dim"] == 4 and config["likelihood"] == "bernoulli"


def test_train_rejects_bad_options_in_one_line(zoo, tmp_path):
    data = write_fake_fashion_mnist(tmp_path / "fmnist", n_train=40, n_test=10)
    for args, message in ((["--beta", "-1"], "--beta must be >= 0"), (["--image-size", "30"], "multiple of 4"),
                          (["--limit", "5"], "at least 20 training images")):
        code, out, err = zoo("train", "conv-vae", "--out", str(tmp_path / "r"), "--data-dir", str(data), *args)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err


def test_resumed_training_matches_an_uninterrupted_run(zoo, tmp_path):
    data = write_fake_fashion_mnist(tmp_path / "fmnist", n_train=200, n_test=10)
    common = ["--data-dir", str(data), "--batch-size", "32", "--latent-dim", "4", "--width", "8", "--hidden", "32",
              "--patience", "9", "--quiet", "--device", "cpu"]
    assert zoo("train", "conv-vae", "--out", str(tmp_path / "straight"), "--epochs", "3", *common)[0] == 0
    assert zoo("train", "conv-vae", "--out", str(tmp_path / "resumed"), "--epochs", "2", *common)[0] == 0
    code, out, err = zoo("train", "conv-vae", "--out", str(tmp_path / "resumed"), "--epochs", "3", "--resume", *common)
    assert code == 0 and "resumed from" in err, err

    def history(name):
        rows = json.loads((tmp_path / name / "training.json").read_text())["history"]
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    assert history("resumed") == history("straight")
