"""DCGAN architectures: shapes for every config, the fused inference path, configs."""

from __future__ import annotations

import pytest
import torch

from zoo_core.errors import ConfigError, InputError
from zoo_gan.dcgan import DCGAN


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("num_classes", [0, 10])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_ranges_for_every_config(size, num_classes, channels):
    model = DCGAN.from_config({"image_size": size, "num_classes": num_classes, "channels": channels, "width": 16})
    labels = torch.arange(5) % 10 if num_classes else None
    model.train()
    images = model.decode(torch.randn(5, 100), labels)
    assert images.shape == (5, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1
    assert model.discriminator(images, labels).shape == (5,)
    model.eval()
    assert model.sample(3, seed=0).shape == (3, channels, size, size)
    assert model.score(model.sample(2, seed=1), None if labels is None else labels[:2]).shape == (2,)


def test_fused_inference_equals_the_plain_eval_network_and_stays_out_of_the_state_dict():
    torch.manual_seed(0)
    model = DCGAN.from_config({"width": 16}).eval()
    for module in model.modules():  # non-trivial BatchNorm statistics
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    z = torch.randn(8, 100)
    with torch.no_grad():
        plain = model.generator.net(z[:, :, None, None])
        fused = model.decode(z)
    torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-5)
    assert all(not key.startswith("generator._fused") for key in model.state_dict())
    with torch.no_grad():  # changing the weights refolds the fused copy (used without autograd only)
        model.generator.net[0].weight.mul_(2)
        plain = model.generator.net(z[:, :, None, None])
        torch.testing.assert_close(model.decode(z), plain, atol=1e-5, rtol=1e-5)


def test_bad_configs_are_config_errors():
    with pytest.raises(ConfigError, match="image_size must be 28, 32 or 64"):
        DCGAN.from_config({"image_size": 30})
    with pytest.raises(ConfigError, match="unknown field 'depth'"):
        DCGAN.from_config({"depth": 3})


def test_conditional_model_needs_labels():
    model = DCGAN.from_config({"num_classes": 3, "width": 8}).eval()
    with pytest.raises(InputError, match="class-conditional"):
        model.decode(torch.randn(2, 100))
    assert model.sample(6, seed=0).shape[0] == 6  # cycles through the classes when none are given


def test_sampling_leaves_the_trained_network_untouched():
    """The fused copy is built beside the network: eval sampling must not convert its layers in place
    (a channels-last last layer after the first preview made resumed training diverge)."""
    model = DCGAN.from_config({"width": 8}).eval()
    before = {k: (v.clone(), v.stride()) for k, v in model.state_dict().items()}
    model.sample(4, seed=0)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key][0]) and value.stride() == before[key][1], key


def test_fused_copy_follows_a_partial_load_and_allows_latent_gradients():
    torch.manual_seed(0)
    model = DCGAN.from_config({"width": 8}).eval()
    z = torch.randn(4, 100)
    model.sample(2, seed=0)  # builds the fused copy inside inference_mode
    stats = model.generator.net[1].running_mean + 0.1  # only a BatchNorm statistic changes
    model.load_state_dict({"generator.net.1.running_mean": stats}, strict=False)
    with torch.no_grad():
        plain = model.generator.net(z[:, :, None, None])
        torch.testing.assert_close(model.decode(z), plain, atol=1e-5, rtol=1e-5)
    latents = z.clone().requires_grad_(True)  # e.g. inverting the generator
    model.decode(latents).sum().backward()
    assert latents.grad is not None and latents.grad.abs().sum() > 0


def test_eval_mode_with_autograd_reaches_the_generator_weights():
    model = DCGAN.from_config({"width": 8}).eval()
    model.sample(2, seed=0)
    model.decode(torch.randn(3, 100)).square().sum().backward()
    assert model.generator.net[0].weight.grad is not None and model.generator.net[0].weight.grad.abs().sum() > 0


def test_a_warm_started_conditional_model_first_draws_the_unconditional_models_images(tmp_path):
    import json

    from safetensors.torch import save_file

    from zoo_gan.tasks import warm_start

    torch.manual_seed(0)
    donor = DCGAN.from_config({"width": 8, "latent_dim": 6}).eval()
    save_file(donor.state_dict(), str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps(donor.config_dict()))
    conditional = DCGAN.from_config({"width": 8, "latent_dim": 6, "num_classes": 4})
    assert warm_start(conditional, str(tmp_path), torch.device("cpu")) > 10
    conditional.eval()
    z = torch.randn(3, 6)
    with torch.no_grad():
        expected = donor.decode(z)
        for label in range(4):  # the class input starts with zero weight: every class gives the same image
            assert torch.allclose(conditional.decode(z, torch.full((3,), label)), expected, atol=1e-6)
    with pytest.raises(InputError, match="not an unconditional DCGAN"):
        warm_start(DCGAN.from_config({"num_classes": 10}), "cdcgan-fashion", torch.device("cpu"))
