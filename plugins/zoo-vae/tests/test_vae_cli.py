"""The CLI paths: a TAESD-architecture model downloaded from the fake Hub, verified and run; bad inputs."""

from __future__ import annotations

import hashlib
import json
import textwrap

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import zoo_core
from zoo_core import hub as zoo_hub
from zoo_core.errors import InputError

TINY_SMALL = {"encoder_block_out_channels": [16, 16, 16, 16], "decoder_block_out_channels": [16, 16, 16, 16],
              "num_encoder_blocks": [1, 2, 2, 2], "num_decoder_blocks": [2, 2, 2, 1]}

REPO = "acme/tiny-vae"


def _photo(path, size=(64, 48), mode="RGB"):
    x = torch.linspace(0, 255, size[0]).repeat(size[1], 1)
    pixels = torch.stack([x, x.flip(1), torch.full_like(x, 90)], dim=-1).to(torch.uint8).numpy()
    image = Image.fromarray(pixels, "RGB")
    image.convert(mode).save(path)
    return path


@pytest.fixture
def published(hub, tmp_path, monkeypatch):
    """Random small TAESD-layout weights on the fake Hub, under a user-registry entry."""
    from zoo_vae.autoencoder_tiny import AutoencoderTiny

    torch.manual_seed(0)
    model = AutoencoderTiny.from_config(TINY_SMALL)
    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata={"format": "pt"})
    data = path.read_bytes()
    commit = hub.publish(REPO, {"diffusion_pytorch_model.safetensors": data})
    config = ", ".join(f"{k} = {json.dumps(v)}" for k, v in TINY_SMALL.items())
    registry = tmp_path / "user.toml"
    registry.write_text(textwrap.dedent(f"""
        [models.tiny-hub]
        architecture = "autoencoder-tiny"
        task = "autoencoder"
        description = "a small TAESD-layout autoencoder from the fake Hub"
        config = {{ {config} }}
        [models.tiny-hub.weights]
        filename = "diffusion_pytorch_model.safetensors"
        size = {len(data)}
        sha256 = "{hashlib.sha256(data).hexdigest()}"
        repo_id = "{REPO}"
        revision = "{commit}"
        """))
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    return {"data": data, "commit": commit}


def test_hub_download_verify_and_reconstruct(published, hub, zoo, tmp_path):
    code, out, err = zoo("pull", "tiny-hub")
    assert code == 0, err
    cached = zoo_hub.cached_path(REPO, published["commit"], "diffusion_pytorch_model.safetensors")
    assert cached is not None and cached.read_bytes() == published["data"]
    code, out, err = zoo("verify", "tiny-hub")
    assert code == 0, err
    photo = _photo(tmp_path / "photo.png")
    code, out, err = zoo("run", "tiny-hub", "--input", str(photo), "--out", str(tmp_path / "recon.png"),
                         "--device", "cpu", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["run"]["sha256"] == hashlib.sha256(published["data"]).hexdigest()
    with Image.open(tmp_path / "recon.png") as grid:
        assert grid.size[1] > 48  # original and reconstruction side by side
    assert result["mean_psnr_db"] > 0
    code, out, err = zoo("run", "tiny-hub", "--input", str(photo), "--out", str(tmp_path / "tiled.png"),
                         "--device", "cpu", "--tile", "32", "--tile-overlap", "16")
    assert code == 0, err
    assert out.splitlines()[-1].startswith("PSNR ") and "dB" in out


def test_tiled_reconstruction_of_a_large_image_stays_close(published, zoo, tmp_path):
    model = zoo_core.load("tiny-hub", device="cpu")
    images = torch.rand((1, 3, 96, 80), generator=torch.Generator().manual_seed(0)) * 2 - 1
    untiled = model.reconstruct(images)
    tiled = model.reconstruct(images, tile=48, tile_overlap=16)
    assert tiled.shape == untiled.shape
    assert (tiled - untiled).abs().mean() < 0.1 * (untiled - images).abs().mean() + 1e-3


def test_non_image_input_is_one_line_error(published, zoo, tmp_path):
    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    code, out, err = zoo("run", "tiny-hub", "--input", str(bogus), "--device", "cpu")
    assert code == 1
    assert "not a readable image" in err and str(bogus) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_image_smaller_than_the_downsampling_is_padded_and_cropped_back(published, zoo, tmp_path):
    """It used to be refused ("must be a positive multiple of 8"); issue 19 asks for any size."""
    small = _photo(tmp_path / "small.png", size=(4, 4))
    out = tmp_path / "out"
    code, _, err = zoo("run", "tiny-hub", "--input", str(small), "--device", "cpu", "--out-dir", str(out))
    assert code == 0, err
    assert "multiples of 8: other sizes are padded by reflection" in err and len(err.strip().splitlines()) == 1
    with Image.open(out / "small.png") as image:
        assert image.size == (4, 4)


def test_bad_tile_is_one_line_error(published, zoo, tmp_path):
    photo = _photo(tmp_path / "photo.png")
    code, out, err = zoo("run", "tiny-hub", "--input", str(photo), "--device", "cpu", "--tile", "12")
    assert code == 1
    assert "--tile 12" in err and "multiple of 8" in err and len(err.strip().splitlines()) == 1


def test_wrong_channel_count_through_the_api(published):
    model = zoo_core.load("tiny-hub", device="cpu")
    with pytest.raises(InputError, match=r"expected images of shape \(N, 3, H, W\)"):
        model.reconstruct(torch.zeros(1, 1, 16, 16))


def test_greyscale_input_is_converted_to_the_models_channels(published, zoo, tmp_path):
    grey = _photo(tmp_path / "grey.png", mode="L")
    code, out, err = zoo("run", "tiny-hub", "--input", str(grey), "--out", str(tmp_path / "r.png"), "--device", "cpu")
    assert code == 0, err


def test_sampling_decodes_random_latents(published, zoo, tmp_path):
    code, out, err = zoo("run", "tiny-hub", "--num", "2", "--out", str(tmp_path / "s.png"), "--device", "cpu")
    assert code == 0, err


def test_zoo_list_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; from zoo_core.cli import main; main(['list']); "
            "assert 'torch' not in sys.modules, 'zoo list imported torch'; "
            "import zoo_vae; assert zoo_vae.ZOO_PLUGIN_API == 3")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "conv-vae-fashion" in result.stdout and "taesd" in result.stdout


def test_kl_file_with_legacy_attention_names_from_the_hub(hub, zoo, tmp_path, monkeypatch):
    """An sd-vae-ft-mse-style file (query/key/value/proj_attn) downloads, verifies and runs."""
    from zoo_vae.autoencoder_kl import LEGACY_ATTENTION_NAMES, AutoencoderKL

    config = {"block_out_channels": [16, 16, 32, 32], "layers_per_block": 1, "norm_num_groups": 8,
              "scaling_factor": 0.18215}
    torch.manual_seed(0)
    state = AutoencoderKL.from_config(config).state_dict()
    legacy = {}
    for key, value in state.items():
        for old, new in LEGACY_ATTENTION_NAMES.items():
            key = key.replace(f".attentions.0.{new}.", f".attentions.0.{old}.")
        legacy[key] = value.contiguous()
    assert any(".proj_attn." in k for k in legacy)
    path = tmp_path / "w.safetensors"
    save_file(legacy, str(path), metadata={"format": "pt"})
    data = path.read_bytes()
    commit = hub.publish("acme/kl-legacy", {"diffusion_pytorch_model.safetensors": data})
    table = ", ".join(f"{k} = {json.dumps(v)}" for k, v in config.items())
    registry = tmp_path / "user.toml"
    registry.write_text(textwrap.dedent(f"""
        [models.kl-legacy]
        architecture = "autoencoder-kl"
        task = "autoencoder"
        description = "a small KL autoencoder saved with the legacy attention names"
        config = {{ {table} }}
        [models.kl-legacy.weights]
        filename = "diffusion_pytorch_model.safetensors"
        size = {len(data)}
        sha256 = "{hashlib.sha256(data).hexdigest()}"
        repo_id = "acme/kl-legacy"
        revision = "{commit}"
        """))
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    photo = _photo(tmp_path / "photo.png", size=(32, 24))
    code, out, err = zoo("run", "kl-legacy", "--input", str(photo), "--out", str(tmp_path / "r.png"), "--device", "cpu")
    assert code == 0, err
    assert "PSNR" in out
    model = zoo_core.load("kl-legacy", device="cpu")
    attention = model.encoder.mid_block.attentions[0]
    assert torch.equal(attention.to_out[0].weight, state["encoder.mid_block.attentions.0.to_out.0.weight"])
