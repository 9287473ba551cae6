"""AutoencoderKL and AutoencoderTiny: parity with diffusers, the Hub files' key layouts, strict loading."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import zoo_core
from zoo_core.errors import InputError, StateDictMismatchError
from zoo_core.loading import build_model, compare_layout, load_weights_into
from zoo_vae.autoencoder_kl import LEGACY_ATTENTION_NAMES, AutoencoderKL
from zoo_vae.autoencoder_tiny import AutoencoderTiny

DATA = Path(__file__).parent / "data"
TOLERANCE = 1e-5
# the real configs shrunk: fewer channels and blocks, same structure (4 stages, 8x downsampling)
KL_SMALL = {"block_out_channels": [32, 32, 64, 64], "layers_per_block": 2, "latent_channels": 4, "norm_num_groups": 16}
TINY_SMALL = {"encoder_block_out_channels": [16, 16, 16, 16], "decoder_block_out_channels": [16, 16, 16, 16],
              "num_encoder_blocks": [1, 2, 2, 2], "num_decoder_blocks": [2, 2, 2, 1]}


def _legacy(name: str) -> str:
    for old, new in LEGACY_ATTENTION_NAMES.items():
        name = name.replace(f".attentions.0.{new}.", f".attentions.0.{old}.")
    return name


def _perturbed(module: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Random weights: diffusers' init plus noise (GroupNorm scales and biases no longer 1 and 0)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.05)
    return {k: v.contiguous() for k, v in module.state_dict().items()}


def _load(cls, config, path):
    model = build_model(cls, config, architecture=cls.__name__)
    return load_weights_into(model, path, device=torch.device("cpu"), dtype=torch.float32, architecture=cls.__name__)


@pytest.fixture(scope="module")
def diffusers_kl():
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    reference = diffusers.AutoencoderKL(down_block_types=("DownEncoderBlock2D",) * 4,
                                        up_block_types=("UpDecoderBlock2D",) * 4, **KL_SMALL).eval()
    return reference, _perturbed(reference, 1)


@pytest.fixture(scope="module")
def diffusers_tiny():
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    reference = diffusers.AutoencoderTiny(**TINY_SMALL).eval()
    return reference, _perturbed(reference, 2)


@pytest.mark.parametrize("layout", ["current", "legacy"])
def test_kl_matches_diffusers(diffusers_kl, tmp_path, layout):
    reference, state = diffusers_kl
    if layout == "legacy":
        state = {_legacy(k): v for k, v in state.items()}
        assert any(".proj_attn." in k for k in state)
    path = tmp_path / "diffusion_pytorch_model.safetensors"
    save_file(state, str(path))
    model = _load(AutoencoderKL, KL_SMALL, path)
    images = torch.rand((2, 3, 64, 48), generator=torch.Generator().manual_seed(3)) * 2 - 1
    latents = torch.randn((2, 4, 8, 6), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        posterior = reference.encode(images).latent_dist
        mean, logvar = model.posterior(images)
        assert (mean - posterior.mean).abs().max() <= TOLERANCE
        assert (logvar - posterior.logvar).abs().max() <= TOLERANCE
        assert torch.equal(model.encode(images), mean)
        assert (model.decode(latents) - reference.decode(latents).sample).abs().max() <= TOLERANCE
        expected = reference(images).sample
        assert (model(images) - expected).abs().max() <= TOLERANCE
        assert expected.abs().max() > 0.1  # the comparison is not between two near-zero outputs


def test_kl_log_variance_is_clamped_as_in_diffusers(diffusers_kl, tmp_path):
    reference, state = diffusers_kl
    state = dict(state)
    state["quant_conv.bias"] = state["quant_conv.bias"] + torch.tensor([0.0] * 4 + [50.0, -50.0, 0.0, 0.0])
    path = tmp_path / "w.safetensors"
    save_file(state, str(path))
    model = _load(AutoencoderKL, KL_SMALL, path)
    images = torch.zeros(1, 3, 16, 16)
    _, logvar = model.posterior(images)
    assert logvar[:, 0].max() == 20.0 and logvar[:, 1].min() == -30.0


def test_tiny_matches_diffusers(diffusers_tiny, tmp_path):
    reference, state = diffusers_tiny
    path = tmp_path / "diffusion_pytorch_model.safetensors"
    save_file(state, str(path))
    model = _load(AutoencoderTiny, TINY_SMALL, path)
    images = torch.rand((2, 3, 64, 48), generator=torch.Generator().manual_seed(3)) * 2 - 1
    latents = torch.randn((2, 4, 8, 6), generator=torch.Generator().manual_seed(4)) * 3  # tanh(x/3)*3 matters
    with torch.no_grad():
        assert (model.encode(images) - reference.encode(images).latents).abs().max() <= TOLERANCE
        assert (model.decode(latents) - reference.decode(latents).sample).abs().max() <= TOLERANCE
        expected = reference.decoder(reference.encoder(images))  # diffusers' forward also rounds latents to 8 bits
        assert (model(images) - expected).abs().max() <= TOLERANCE


def _fixture(name: str) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v) for k, v in json.loads((DATA / name).read_text()).items()}


def _safetensors_size(shapes: dict[str, tuple[int, ...]], metadata: dict[str, str]) -> int:
    """The size of a float32 safetensors file holding ``shapes``: 8-byte length, JSON header padded to
    8 bytes (tensors in name order, ``__metadata__`` first, no spaces), then the data."""
    entries, offset = {}, 0
    for name in sorted(shapes):
        size = 4 * math.prod(shapes[name])
        entries[name] = {"dtype": "F32", "shape": list(shapes[name]), "data_offsets": [offset, offset + size]}
        offset += size
    header = json.dumps({"__metadata__": metadata, **entries}, separators=(",", ":"))
    return 8 + len(header) + (-len(header)) % 8 + offset


def test_safetensors_size_formula_matches_the_library(tmp_path):
    shapes = {"b.weight": (3, 5), "a.bias": (7,), "c": (2, 2, 2)}
    path = tmp_path / "x.safetensors"
    save_file({k: torch.zeros(s) for k, s in shapes.items()}, str(path), metadata={"format": "pt"})
    assert path.stat().st_size == _safetensors_size(shapes, {"format": "pt"})


@pytest.mark.parametrize("entry,fixture", [("sd-vae-ft-mse", "autoencoder-kl-legacy.json"),
                                           ("sdxl-vae", "autoencoder-kl.json"),
                                           ("taesd", "autoencoder-tiny.json"),
                                           ("taesdxl", "autoencoder-tiny.json")])
def test_fixture_layouts_give_the_pinned_file_sizes(entry, fixture):
    """The registry's sizes come from the Hub; these layouts written as safetensors have exactly those sizes."""
    assert _safetensors_size(_fixture(fixture), {"format": "pt"}) == zoo_core.get_entry(entry).weights.size


@pytest.mark.parametrize("entry,fixture", [("sd-vae-ft-mse", "autoencoder-kl-legacy.json"),
                                           ("sdxl-vae", "autoencoder-kl.json"),
                                           ("taesd", "autoencoder-tiny.json")])
def test_models_built_from_the_registry_configs_accept_exactly_the_hub_layouts(entry, fixture):
    found = _fixture(fixture)
    registry_entry = zoo_core.get_entry(entry)
    cls = AutoencoderKL if registry_entry.architecture == "autoencoder-kl" else AutoencoderTiny
    model = build_model(cls, registry_entry.config, architecture=registry_entry.architecture)
    renames = model.file_key_renames(list(found))
    renamed = {renames.get(k, k): v for k, v in found.items()}
    assert len(renamed) == len(found) == (248 if cls is AutoencoderKL else 134)
    compare_layout({k: tuple(v.shape) for k, v in model.state_dict().items()}, renamed, where=fixture,
                   architecture=registry_entry.architecture)


def test_scaling_factor_is_config_not_applied(diffusers_kl, tmp_path):
    reference, state = diffusers_kl
    path = tmp_path / "w.safetensors"
    save_file(state, str(path))
    plain = _load(AutoencoderKL, KL_SMALL, path)
    scaled = _load(AutoencoderKL, {**KL_SMALL, "scaling_factor": 0.5}, path)
    images = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.equal(plain.encode(images), scaled.encode(images))
    assert zoo_core.get_entry("sdxl-vae").config["scaling_factor"] == 0.13025
    assert zoo_core.get_entry("sd-vae-ft-mse").config["scaling_factor"] == 0.18215


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_strict_loading_names_a_missing_or_extra_key(diffusers_tiny, tmp_path, change):
    _, state = diffusers_tiny
    state = dict(state)
    if change == "missing":
        del state["encoder.layers.0.bias"]
    else:
        state["decoder.layers.99.weight"] = torch.zeros(1)
    path = tmp_path / "w.safetensors"
    save_file(state, str(path))
    with pytest.raises(StateDictMismatchError) as info:
        _load(AutoencoderTiny, TINY_SMALL, path)
    expected = "missing keys: encoder.layers.0.bias" if change == "missing" else \
        "unexpected keys: decoder.layers.99.weight"
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_a_file_with_both_attention_layouts_is_refused(diffusers_kl, tmp_path):
    _, state = diffusers_kl
    state = dict(state)
    state["encoder.mid_block.attentions.0.query.weight"] = state["encoder.mid_block.attentions.0.to_q.weight"].clone()
    path = tmp_path / "w.safetensors"
    save_file(state, str(path))
    with pytest.raises(StateDictMismatchError, match="both old and new names"):
        _load(AutoencoderKL, KL_SMALL, path)


@pytest.mark.parametrize("cls,config", [(AutoencoderKL, KL_SMALL), (AutoencoderTiny, TINY_SMALL)])
def test_shapes_ranges_and_bad_images(cls, config):
    torch.manual_seed(0)
    model = cls.from_config({**config, "sample_size": 32}).eval()
    images = torch.rand(2, 3, 40, 24) * 2 - 1
    latents = model.encode(images)
    assert latents.shape == (2, 4, 5, 3)
    out = model.reconstruct(images)
    assert out.shape == images.shape and out.min() >= -1 and out.max() <= 1
    assert model.sample(3, seed=1).shape == (3, 3, 32, 32)
    assert model.interpolate(0, 1, frames=3).shape == (3, 3, 32, 32)
    with pytest.raises(InputError, match="multiple of 8"):
        model.reconstruct(torch.zeros(1, 3, 4, 4))  # smaller than the 8x downsampling
    with pytest.raises(InputError, match=r"\(N, 3, H, W\)"):
        model.reconstruct(torch.zeros(1, 1, 16, 16))  # wrong channel count


@pytest.mark.parametrize("force_upcast", [True, False])
def test_float16_decode_upcasts_the_up_blocks_as_diffusers(force_upcast):
    """Activations past float16's 65,504 in the up blocks: NaN in pure float16, finite when upcast."""
    torch.manual_seed(0)
    reference = AutoencoderKL.from_config({**KL_SMALL, "sample_size": 32}).eval()
    with torch.no_grad():
        reference.decoder.up_blocks[0].resnets[0].conv1.weight.mul_(1e6)  # weights still < 65,504; GroupNorm follows: fp32 copes
    half = AutoencoderKL.from_config({**KL_SMALL, "sample_size": 32, "force_upcast": force_upcast}).eval()
    half.load_state_dict(reference.state_dict())
    half.half()
    latents = torch.randn(1, 4, 4, 4)
    with torch.no_grad():
        expected = reference.decode(latents)
        images = half.decode(latents.half())
    assert images.dtype == torch.float16 and half.dtype == torch.float16
    tail = {p.dtype for p in half.decoder.up_blocks.parameters()}
    if force_upcast:
        assert tail == {torch.float32}
        assert {p.dtype for p in half.decoder.mid_block.parameters()} == {torch.float16}
        assert torch.isfinite(images).all()
        assert (images.float() - expected).abs().max() < 0.05
    else:
        assert tail == {torch.float16}
        assert not torch.isfinite(images).all()  # what upcasting prevents
