"""AuraSR's --tile: the model only takes 64-pixel inputs (its config's input_image_size), so
`zoo run aura-sr-v2 --help` says so and --tile defaults to 64 and accepts only that (issue 19:
help said "[default: 0] whole image at once" while every --tile was refused). The help is
built from the architecture descriptor and the registry entry, without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from PIL import Image
from safetensors.torch import save_file

from zoo_gan.aurasr import AuraSR

AURA_SMALL = {"dim": 8, "image_size": 64, "input_image_size": 16, "self_attn_dim_head": 8, "self_attn_heads": 2,
              "style_network": {"dim_in": 16, "dim_out": 32, "depth": 2}, "skip_connect_scale": 0.4,
              "mid_attn_depth": 1, "attn_depths": [1, 1, 1, 1, 2]}


def test_help_states_the_fixed_64_pixel_tile(zoo):
    code, out, _ = zoo("run", "aura-sr-v2", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "--tile INTEGER the model works on 64-pixel tiles only" in text and "[default: 64]" in text
    assert "whole image at once" not in text


def test_another_tile_is_refused_before_anything_loads(zoo, tmp_path):
    Image.new("RGB", (20, 20)).save(tmp_path / "a.png")
    for tile in ("32", "0"):
        code, _, err = zoo("run", "aura-sr-v2", str(tmp_path / "a.png"), "--tile", tile, "--out-dir", str(tmp_path / "o"))
        assert code == 1 and err.count("\n") == 1
        assert f"--tile {tile}: aura-sr-v2 works on 64-pixel tiles only" in err and "pass 64" in err


def test_tile_64_is_accepted(zoo, tmp_path, monkeypatch):
    """Nothing is cached here: the run gets past its options and stops at the weights."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    Image.new("RGB", (20, 20)).save(tmp_path / "a.png")
    code, _, err = zoo("run", "aura-sr-v2", str(tmp_path / "a.png"), "--tile", "64", "--out-dir", str(tmp_path / "o"))
    assert code == 1 and "--tile" not in err and "is not in the cache" in err


@pytest.fixture
def tiny_aura(tmp_path, monkeypatch):
    """A registry entry of a shrunk AuraSR (16-pixel tiles), random weights passed with --weights."""
    import torch

    torch.manual_seed(0)
    weights = tmp_path / "tiny-aura.safetensors"
    save_file(AuraSR.from_config(AURA_SMALL).state_dict(), str(weights))
    registry = tmp_path / "r.toml"
    registry.write_text(textwrap.dedent("""
        [models.tiny-aura]
        architecture = "aurasr"
        task = "image-to-image"
        description = "a shrunk AuraSR"
        config = { dim = 8, image_size = 64, input_image_size = 16, self_attn_dim_head = 8, self_attn_heads = 2, style_network = { dim_in = 16, dim_out = 32, depth = 2 }, skip_connect_scale = 0.4, mid_attn_depth = 1, attn_depths = [1, 1, 1, 1, 2] }
        """))
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    return weights


def test_the_tile_comes_from_each_entrys_config_and_runs(tiny_aura, zoo, tmp_path):
    code, out, _ = zoo("run", "tiny-aura", "--help")
    assert code == 0 and "16-pixel tiles only" in " ".join(out.split())
    Image.new("RGB", (20, 12), (200, 100, 50)).save(tmp_path / "a.png")
    code, _, err = zoo("run", "tiny-aura", str(tmp_path / "a.png"), "--tile", "16", "--weights", str(tiny_aura),
                       "--out", str(tmp_path / "up.png"))
    assert code == 0, err
    with Image.open(tmp_path / "up.png") as image:
        assert image.size == (80, 48)


def test_info_shows_the_tile_without_importing_torch():
    sniff = textwrap.dedent("""
        import sys
        from zoo_core.cli import main
        code = main(["info", "aura-sr-v2"])
        print("TORCH" if "torch" in sys.modules else "NO-TORCH", file=sys.stderr)
        sys.exit(code)
        """)
    result = subprocess.run([sys.executable, "-c", sniff], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "NO-TORCH" in result.stderr and "64-pixel tiles only" in result.stdout
