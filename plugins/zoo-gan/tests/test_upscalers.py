"""Real-ESRGAN (RRDBNet) and AuraSR-v2 (GigaGAN): the published key layouts and byte sizes at the
real configs, parity with spandrel 0.4.2 and aura-sr 0.0.4 at shrunk configs (random weights,
no download), and the fake Hub -> pull -> verify -> run path in both ESRGAN key layouts."""

from __future__ import annotations

import hashlib
import json
import re
import textwrap

import pytest
import torch
from safetensors.torch import save_file

import zoo_core
from zoo_core.loading import build_model, compare_layout
from zoo_core.testing import safetensors_size, state_layout
from zoo_gan.aurasr import AuraSR, AuraSRConfig
from zoo_gan.rrdbnet import RRDBNet, RRDBNetConfig

import references

RRDB_SMALL = {"num_feat": 16, "num_block": 2, "num_grow_ch": 32}  # spandrel assumes grow 32
AURA_SMALL = {"dim": 8, "image_size": 64, "input_image_size": 16, "self_attn_dim_head": 8, "self_attn_heads": 2,
              "style_network": {"dim_in": 16, "dim_out": 32, "depth": 2}, "skip_connect_scale": 0.4,
              "mid_attn_depth": 1, "attn_depths": [1, 1, 1, 1, 2]}


def _old_esrgan_names(state: dict, num_block: int) -> dict:
    """basicsr names -> the old ESRGAN names (model.N...) files such as 4x-UltraSharp use."""
    plain = {"conv_first": "model.0", "conv_body": f"model.1.sub.{num_block}", "conv_up1": "model.3",
             "conv_up2": "model.6", "conv_hr": "model.8", "conv_last": "model.10"}
    renamed = {}
    for key, value in state.items():
        body = re.fullmatch(r"body\.(\d+)\.rdb(\d)\.conv(\d)\.(weight|bias)", key)
        if body:
            block, rdb, conv, kind = body.groups()
            renamed[f"model.1.sub.{block}.RDB{rdb}.conv{conv}.0.{kind}"] = value
        else:
            prefix, _, kind = key.rpartition(".")
            renamed[f"{plain[prefix]}.{kind}"] = value
    return renamed


def _random(cls, config, seed=0):
    torch.manual_seed(seed)
    model = cls.from_config(config)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.randn_like(tensor) * 0.02)
    return model.eval()


# -- the real configs: layouts and pinned sizes, no download ------------------------------

def test_real_esrgan_x4plus_registry_config_has_the_published_layout_and_size():
    entry = zoo_core.get_entry("real-esrgan-x4plus")
    model = build_model(RRDBNet, entry.config, architecture="rrdbnet")
    layout = state_layout(model)
    assert len(layout) == 702 and sum(map(lambda s: torch.Size(s).numel(), layout.values())) == 16_697_987
    assert safetensors_size(layout) == entry.weights.size == 66_857_836  # no metadata in the repack
    old = _old_esrgan_names(layout, 23)
    assert safetensors_size(old) == 66_864_028  # 4x-UltraSharp's size: the same network, old names
    renames = model.file_key_renames(list(old))
    compare_layout(layout, {renames[k]: v for k, v in old.items()}, where="old names", architecture="rrdbnet")


def test_aura_sr_v2_registry_config_has_the_published_layout_and_derived_size():
    entry = zoo_core.get_entry("aura-sr-v2")
    model = build_model(AuraSR, entry.config, architecture="aurasr")
    layout = state_layout(model)
    assert len(layout) == 268 and AuraSR.parameters_for(model.config) == 617_554_917
    assert safetensors_size(layout) == entry.weights.size == 2_470_247_916
    assert (model.fixed_input_size, model.scale) == (64, 4)


def test_aura_sr_layout_is_the_reference_implementations():
    aura = references.aura_sr()
    config = zoo_core.get_entry("aura-sr-v2").config
    with torch.device("meta"):
        reference = aura.UnetUpsampler(**{**config, "style_network": dict(config["style_network"])})
    ours = state_layout(build_model(AuraSR, config, architecture="aurasr"))
    assert ours == {k: tuple(v.shape) for k, v in reference.state_dict().items()}


# -- parity at shrunk configs ------------------------------------------------------------

@pytest.mark.parametrize("layout", ["basicsr", "old ESRGAN"])
def test_rrdbnet_matches_spandrel(tmp_path, layout):
    spandrel = references.spandrel()
    model = _random(RRDBNet, RRDB_SMALL)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if layout != "basicsr":
        state = _old_esrgan_names(state, RRDB_SMALL["num_block"])
    path = tmp_path / "esrgan.safetensors"
    save_file(state, str(path))
    loaded = zoo_core.load_weights(zoo_core.build("rrdbnet", RRDB_SMALL), path)  # strict, in either layout
    reference = spandrel.ModelLoader().load_from_state_dict(state).model.eval()
    images = torch.rand(2, 3, 12, 10, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference(images)
        got = loaded((images))
    assert got.shape == (2, 3, 48, 40)
    assert (got - expected).abs().max() <= 1e-5
    zoo_out = loaded.process(images * 2 - 1)  # zoo's [-1, 1] interface: the same, clamped as Real-ESRGAN clamps
    assert (zoo_out - (expected.clamp(0, 1) * 2 - 1)).abs().max() <= 2e-5


def test_aura_sr_matches_aura_sr_with_the_same_noise():
    aura = references.aura_sr()
    model = _random(AuraSR, AURA_SMALL)
    config = {**AURA_SMALL, "style_network": dict(AURA_SMALL["style_network"])}
    reference = aura.UnetUpsampler(**config).eval()
    reference.load_state_dict(model.state_dict())
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    seed = 11
    with torch.no_grad():
        torch.manual_seed(seed)  # the reference draws from the global generator: style noise, then randn_like(x)
        style = torch.randn(2, 16)
        expected = reference(images, noise=style)
        got = model.transform(images * 2 - 1, seed=seed)
    assert expected.shape == (2, 3, 64, 64)
    assert (got - (expected.clamp(0, 1) * 2 - 1)).abs().max() <= 1e-5
    again = model.transform(images * 2 - 1, seed=seed)
    other = model.transform(images * 2 - 1, seed=seed + 1)
    assert torch.equal(got, again) and not torch.equal(got, other)


def test_the_upscaler_architectures_conform():
    from zoo_core.testing.conformance import check_architecture

    check_architecture("rrdbnet", RRDB_SMALL).assert_ok()
    check_architecture("aurasr", AURA_SMALL).assert_ok()


# -- what a user does: pull, verify, run --------------------------------------------------------

@pytest.mark.parametrize("layout", ["basicsr", "old ESRGAN"])
def test_pull_verify_run_an_esrgan_file_from_the_hub(hub, zoo, tmp_path, monkeypatch, layout):
    model = _random(RRDBNet, RRDB_SMALL, seed=4)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if layout != "basicsr":
        state = _old_esrgan_names(state, RRDB_SMALL["num_block"])
    path = tmp_path / "x4.safetensors"
    save_file(state, str(path))
    data = path.read_bytes()
    commit = hub.publish("acme/esrgan", {"x4.safetensors": data})
    registry = tmp_path / "r.toml"
    registry.write_text(textwrap.dedent(f"""
        [models.tiny-esrgan]
        architecture = "rrdbnet"
        task = "image-to-image"
        description = "a shrunk RRDBNet"
        license = "cc-by-nc-sa-4.0"
        config = {{ num_feat = 16, num_block = 2, num_grow_ch = 32 }}
        [models.tiny-esrgan.weights]
        filename = "x4.safetensors"
        size = {len(data)}
        sha256 = "{hashlib.sha256(data).hexdigest()}"
        repo_id = "acme/esrgan"
        revision = "{commit}"
        """))
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    code, out, err = zoo("pull", "tiny-esrgan")
    assert code == 0, err
    assert "licensed cc-by-nc-sa-4.0: its licence allows non-commercial use only" in err  # said before the download
    assert zoo("verify", "tiny-esrgan")[0] == 0
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (9, 7), (200, 100, 50)).save(photos / "a.png")
    Image.new("L", (5, 5), 90).save(photos / "grey.png")  # greyscale in, RGB out
    code, out, err = zoo("run", "tiny-esrgan", str(photos), "--out-dir", str(tmp_path / "up"), "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["sizes"] == {str(photos / "a.png"): [36, 28], str(photos / "grey.png"): [20, 20]}
    assert document["run"]["weights"] == "download" or document["run"]["weights"] == "cache"
    code, out, _ = zoo("info", "tiny-esrgan")
    assert "non-commercial use only" in out
