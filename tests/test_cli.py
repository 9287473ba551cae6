"""Every zoo command, in-process through ``main`` and as a real subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

import zoo_core


def test_version(zoo):
    code, out, _ = zoo("--version")
    assert code == 0 and out.strip() == f"zoo {zoo_core.__version__}"


def test_list_json_has_the_documented_keys(toy, zoo, monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "zoo-toy,zoo-gan,zoo-docalculus")  # zoo-vae left out: taesd is unavailable
    zoo_core.plugins.reset()
    code, out, err = zoo("list", "--json")
    assert code == 0 and err == ""
    rows = json.loads(out)
    keys = {"name", "task", "architecture", "plugin", "weights", "size_bytes", "description"}
    assert all(keys <= set(row) for row in rows)
    by_name = {r["name"]: r for r in rows}
    assert by_name["toy-gen"]["weights"] == "bundled" and by_name["toy-gen"]["plugin"] == "zoo-toy"
    assert by_name["toy-parents"]["weights"] == "none"
    assert by_name["taesd"]["weights"] == "unavailable" and by_name["taesd"]["size_bytes"] == 9793292


def test_list_filters_and_text_table(toy, zoo):
    code, out, _ = zoo("list", "toy-*", "--task", "generator")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["toy-cgen", "toy-gen"]
    assert zoo("list", "--task", "nonsense")[0] == 2


def test_info_shows_entry_state_and_run_options(toy, zoo):
    code, out, _ = zoo("info", "toy-cgen", "--json")
    info = json.loads(out)
    assert info["status"]["weights"] == "bundled" and info["classes"] == ["zero", "one", "two"]
    names = [o["name"] for o in info["run_options"]]
    assert names == ["--num", "--seed", "--label", "--interpolate", "--frames", "--batch-size", "--out", "--out-dir",
                     "--force", "--skip-existing", "--device", "--dtype", "--weights", "--threads", "--temperature",
                     "--json"]
    code, out, _ = zoo("info", "toy-cgen")
    assert "sha256:" in out and "--temperature" in out and "1=one" in out


def test_run_help_lists_exactly_the_models_options(toy, zoo):
    code, out, _ = zoo("run", "toy-parents", "--help")
    assert code == 0 and "--graph" in out and "--num" not in out and "--seed" not in out
    code, out, _ = zoo("run", "toy-gen", "--help")
    assert "--temperature" in out and "--label" not in out and "--graph" not in out


def test_unknown_option_lists_the_ones_it_takes(toy, zoo):
    code, out, err = zoo("run", "toy-gen", "--steps", "3")
    assert code == 2 and out == ""
    assert err.startswith("zoo: error: zoo run toy-gen takes no option --steps; it takes: --num, --seed,")
    assert err.count("\n") == 1


def _png_text(path):
    with Image.open(path) as image:
        image.load()
        return dict(image.text)


def test_generator_grid_is_reproducible_and_carries_provenance(toy, zoo, tmp_path):
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    assert zoo("run", "toy-gen", "--num", "9", "--seed", "5", "--out", str(a))[0] == 0
    assert zoo("run", "toy-gen", "--num", "9", "--seed", "5", "--out", str(b), "--batch-size", "4")[0] == 0
    assert zoo("run", "toy-gen", "--num", "9", "--seed", "6", "--out", str(c))[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    text = _png_text(a)
    sha = hashlib.sha256(toy["toy-gen"].read_bytes()).hexdigest()
    assert text == {"zoo:model": "toy-gen", "zoo:architecture": "toy-mlp", "zoo:sha256": sha, "zoo:revision": "",
                    "zoo:weights": "bundled", "zoo:seed": "5"}
    with Image.open(a) as image:
        assert image.size == (3 * 10 + 2, 3 * 10 + 2) and image.mode == "L"


def test_generator_out_dir_writes_one_png_per_image(toy, zoo, tmp_path):
    out_dir = tmp_path / "samples"
    code, out, _ = zoo("run", "toy-gen", "--num", "3", "--out-dir", str(out_dir), "--device", "cpu", "--json")
    assert code == 0
    result = json.loads(out)
    assert sorted(p.name for p in out_dir.iterdir()) == ["00000.png", "00001.png", "00002.png"]
    assert result["images"] == [str(out_dir / f"0000{i}.png") for i in range(3)]
    assert "grid" not in result
    assert result["run"]["model"] == "toy-gen" and result["run"]["seed"] == 0
    assert result["run"]["device"] == "cpu" and result["run"]["dtype"] == "float32"
    assert set(result["run"]) >= {"revision", "sha256", "seconds"}


def test_default_output_is_named_after_the_model(toy, zoo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = zoo("run", "toy-gen", "--num", "2")
    assert code == 0 and out.strip() == "wrote toy-gen.png" and (tmp_path / "toy-gen.png").exists()


def test_labels_by_index_and_by_name(toy, zoo, tmp_path):
    by_name, by_index = tmp_path / "n.png", tmp_path / "i.png"
    assert zoo("run", "toy-cgen", "--label", "Two", "--out", str(by_name))[0] == 0
    code, out, _ = zoo("run", "toy-cgen", "--label", "2", "--out", str(by_index), "--json")
    assert json.loads(out)["class"] == "two"
    assert by_name.read_bytes() == by_index.read_bytes()
    code, _, err = zoo("run", "toy-cgen", "--label", "sandal")
    assert code == 1 and "--label 'sandal': unknown class; use one of 0=zero, 1=one, 2=two" in err
    code, _, err = zoo("run", "toy-cgen", "--label", "7")
    assert code == 1 and "must be in 0..2" in err
    code, _, err = zoo("run", "toy-cgen", "--label", "-1")
    assert code == 1 and "--label -1: must be in 0..2" in err
    code, _, err = zoo("run", "toy-cgen", "--label", "--1")
    assert code == 1 and "--label '--1': unknown class" in err


@pytest.mark.parametrize("args,message", [
    (["--num", "0"], "--num must be positive, got 0"),
    (["--batch-size", "-1"], "--batch-size must be positive"),
    (["--out", "/nonexistent-dir/x.png"], "folder /nonexistent-dir does not exist"),
    (["--num", "many"], "'many' is not a valid integer"),
])
def test_bad_generator_arguments_are_one_line_errors(toy, zoo, args, message):
    code, out, err = zoo("run", "toy-gen", *args)
    assert code in (1, 2) and out == ""
    assert message in err and err.startswith("zoo: error:") and err.count("\n") == 1


def test_failed_run_leaves_no_partial_file(toy, zoo, tmp_path):
    target = tmp_path / "grid.png"
    code, _, _ = zoo("run", "toy-cgen", "--label", "9", "--out", str(target))
    assert code == 1 and not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "site"] == []


def _write_images(folder, sizes):
    folder.mkdir()
    for i, size in enumerate(sizes):
        Image.new("RGB", size, (40 * i, 100, 200)).save(folder / f"img{i}.png")


def test_autoencoder_reconstructs_inputs_into_out_dir_and_grid(toy, zoo, tmp_path):
    _write_images(tmp_path / "in", [(8, 8), (8, 8)])
    out_dir = tmp_path / "out"
    code, out, err = zoo("run", "toy-ae", "--input", str(tmp_path / "in"), "--out-dir", str(out_dir))
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["img0.png", "img1.png"]
    assert "PSNR" in out and "dB" in out
    code, out, _ = zoo("run", "toy-ae", "--input", str(tmp_path / "in" / "img0.png"), "--out",
                       str(tmp_path / "pairs.png"), "--json")
    result = json.loads(out)
    assert result["mean_psnr_db"] > 0 and len(result["psnr_db"]) == 1
    assert "seed" not in result["run"]  # reconstruction draws no noise
    with Image.open(tmp_path / "pairs.png") as image:
        assert image.size == (2 * 10 + 2, 10 + 2)


def test_autoencoder_without_input_samples_like_a_generator(toy, zoo, tmp_path):
    code, out, _ = zoo("run", "toy-ae", "--num", "4", "--out", str(tmp_path / "s.png"), "--json")
    assert code == 0 and json.loads(out)["image_shape"] == [3, 8, 8]


@pytest.mark.parametrize("make,message", [  # (an odd size is padded and cropped back: tests/test_input_images.py)
    (lambda d: (d / "notes.png").write_text("not an image"), "not a readable image"),
])
def test_autoencoder_bad_inputs(toy, zoo, tmp_path, make, message):
    make(tmp_path)
    code, _, err = zoo("run", "toy-ae", "--input", str(tmp_path), "--out-dir", str(tmp_path / "o"))
    assert code == 1 and message in err and err.count("\n") == 1


def test_causal_analyzer_run_text_and_json(toy, zoo):
    code, out, _ = zoo("run", "toy-parents", "--graph", "X -> Y; Z -> Y")
    assert code == 0 and "Y: X, Z" in out
    code, out, _ = zoo("run", "toy-parents", "--graph", "X -> Y", "--json")
    document = json.loads(out)
    assert document["parents"] == {"X": [], "Y": ["X"]} and document["run"]["model"] == "toy-parents"
    code, _, err = zoo("run", "toy-parents")
    assert code == 2 and "Missing option '--graph'" in err
    code, _, err = zoo("run", "toy-parents", "--graph", "X => Y")
    assert code == 1 and "cannot read edge 'X => Y'" in err


def test_train_and_eval_dispatch_to_the_architectures_plugin(toy, zoo):
    code, out, _ = zoo("train", "toy-mlp", "--steps", "7")
    assert code == 0 and out.strip() == "toy-mlp: trained for 7 steps"
    code, out, _ = zoo("eval", "toy-gen", "--num", "4")
    assert code == 0 and out.startswith("toy-gen: mean_abs_pixel=")
    code, _, err = zoo("train", "toy-conv-ae")
    assert code == 1 and "cannot be trained" in err and "toy-mlp" in err.split("trainable: ")[1]


def test_plugin_command_runs(toy, zoo):
    assert zoo("toy-hello") == (0, "hello from zoo-toy\n", "")


def test_errors_are_one_line_unless_debug(toy, zoo):
    code, _, err = zoo("run", "toy-gen", "--weights", "missing.safetensors")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    code, _, err = zoo("--debug", "run", "toy-gen", "--weights", "missing.safetensors")
    assert code == 1 and "Traceback" in err and "WeightsNotFoundError" in err


def test_unknown_command_and_model_suggest_fixes(zoo):
    code, _, err = zoo("lsit")
    assert code == 2 and "did you mean 'list'" in err
    code, out, err = zoo("run")
    assert code == 2 and out == "" and err.startswith("zoo: error: missing model NAME") and err.count("\n") == 1
    code, _, err = zoo("run", "sd-vae-ft-ms")
    assert code == 1 and "did you mean sd-vae-ft-mse" in err


def _cli(site, *args, **env):
    environment = dict(os.environ, **env)
    environment["PYTHONPATH"] = os.pathsep.join([str(site.root), environment.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "zoo_core", *args], capture_output=True, text=True,
                          env=environment, timeout=120)


@pytest.mark.slow  # 3-5 s (a subprocess or a large allocation); CI runs it, the fast loop does not
def test_real_subprocess_round_trip(toy, site, tmp_path):
    listing = _cli(site, "list", "--json")
    assert listing.returncode == 0 and json.loads(listing.stdout)
    info = _cli(site, "info", "toy-gen", "--json")
    assert json.loads(info.stdout)["name"] == "toy-gen"
    plugins = _cli(site, "plugins", "--json")
    assert "zoo-toy" in [p["distribution"] for p in json.loads(plugins.stdout)]  # beside any installed plugin
    run = _cli(site, "run", "toy-gen", "--num", "4", "--out", str(tmp_path / "g.png"), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["grid"] == str(tmp_path / "g.png")
    verify = _cli(site, "verify", "toy-gen")
    assert verify.returncode == 0 and "bundled ok" in verify.stdout
    missing = _cli(site, "run", "nope")
    assert missing.returncode == 1 and missing.stderr.startswith("zoo: error: unknown model 'nope'")
    usage = _cli(site, "run", "toy-gen", "--bogus")
    assert usage.returncode == 2


def test_encoder_writes_latents_as_safetensors(toy, zoo, tmp_path):
    from safetensors import safe_open

    _write_images(tmp_path / "in", [(8, 8), (8, 8), (8, 8)])
    out = tmp_path / "latents.safetensors"
    code, stdout, err = zoo("run", "toy-enc", "--input", str(tmp_path / "in"), "--out", str(out), "--json")
    assert code == 0, err
    assert json.loads(stdout)["latent_shape"] == [3, 2, 4, 4]
    with safe_open(str(out), "pt") as handle:
        assert handle.get_tensor("latents").shape == (3, 2, 4, 4)
        assert handle.metadata()["model"] == "toy-enc"
    code, _, err = zoo("run", "toy-enc", "--out", str(tmp_path / "other.safetensors"))
    assert code == 1 and "toy-enc needs images" in err and err.count("\n") == 1
    code, _, err = zoo("run", "toy-enc", "--input", str(tmp_path / "in"), "--out", str(tmp_path / "l.npy"))
    assert code == 1 and "saved as .safetensors" in err


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_run_on_the_gpu_in_half_precision(toy, zoo, tmp_path):
    code, out, err = zoo("run", "toy-gen", "--device", "cuda", "--dtype", "float16", "--num", "4",
                         "--out", str(tmp_path / "g.png"), "--json")
    assert code == 0, err
    run = json.loads(out)["run"]
    assert run["device"].startswith("cuda") and run["dtype"] == "float16"
    assert (tmp_path / "g.png").stat().st_size > 0


def test_plugin_options_shadowed_by_core_ones_are_not_passed_twice(toy, site, zoo, tmp_path):
    site.install("zoo-shadow", "zoo_shadow", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture(
                name="shadow-mlp", task="generator", target="zoo_toy.models:ToyGenerator",
                options=(zoo_core.Option("seed", type="int", default=5), zoo_core.Option("json", type="bool"))))

        @zoo_core.hookimpl
        def register_models(register):
            register({"name": "shadow-gen", "architecture": "shadow-mlp", "task": "generator", "description": "d"})
        """})
    code, out, err = zoo("info", "shadow-gen", "--json")
    names = [o["name"] for o in json.loads(out)["run_options"]]
    assert names.count("--seed") == 1 and names.count("--json") == 1
    code, out, err = zoo("run", "shadow-gen", "--weights", str(toy["toy-gen"]), "--num", "2",
                         "--out", str(tmp_path / "g.png"), "--json")
    assert code == 0, err
    assert json.loads(out)["run"]["seed"] == 0  # the core's --seed, whose default is 0


def test_json_output_is_strict_json_even_for_infinite_numbers(capsys):
    from zoo_core.cli.output import emit_json

    emit_json({"psnr_db": {"a.png": float("inf")}, "mean_psnr_db": float("nan"), "rows": [1.5, (float("-inf"),)]})
    document = json.loads(capsys.readouterr().out, parse_constant=lambda word: pytest.fail(f"not JSON: {word}"))
    assert document == {"psnr_db": {"a.png": None}, "mean_psnr_db": None, "rows": [1.5, [None]]}


def test_error_wrapping_a_multi_line_message_is_still_one_line(toy, site, zoo):
    site.install("zoo-multiline", "zoo_multiline", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture(name="ml-arch", task="causal-analyzer", target="zoo_multiline.model:X"))

        @zoo_core.hookimpl
        def register_models(register):
            register({"name": "ml-model", "architecture": "ml-arch", "task": "causal-analyzer", "description": "d"})
        """, "model.py": "raise RuntimeError('first line\\n\\tsecond line')\n"})
    code, out, err = zoo("run", "ml-model")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("zoo: error: architecture 'ml-arch': cannot import") and "second line" in err


def test_run_json_stays_one_document_when_the_model_prints(toy, site, zoo, tmp_path):
    site.install("zoo-loud", "zoo_loud", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture(name="loud-mlp", task="generator", target="zoo_loud.model:Loud"))

        @zoo_core.hookimpl
        def register_models(register):
            register({"name": "loud-gen", "architecture": "loud-mlp", "task": "generator", "description": "d"})
        """, "model.py": """
        from zoo_toy.models import ToyGenerator

        class Loud(ToyGenerator):
            def decode(self, latents, labels=None):
                print("decoding a batch")
                return super().decode(latents, labels)
        """})
    code, out, err = zoo("run", "loud-gen", "--weights", str(toy["toy-gen"]), "--num", "2",
                         "--out", str(tmp_path / "g.png"), "--json")
    assert code == 0, err
    assert json.loads(out)["num"] == 2 and "decoding a batch" in err


def test_interpolate_writes_one_strip_from_seed_to_seed(toy, zoo, tmp_path):
    strip = tmp_path / "strip.png"
    code, out, err = zoo("run", "toy-gen", "--seed", "1", "--interpolate", "2", "--frames", "5", "--out", str(strip),
                         "--json")
    assert code == 0, err
    assert json.loads(out)["interpolate"] == {"from_seed": 1, "to_seed": 2, "frames": 5}
    with Image.open(strip) as image:
        assert image.size == (5 * 10 + 2, 10 + 2)  # five 8x8 frames in one row
    model = zoo_core.load("toy-gen", device="cpu")
    frames = model.interpolate(1, 2, 5)
    import torch

    torch.testing.assert_close(frames[0], model.sample(1, seed=1)[0])  # the strip starts at --seed's image
    torch.testing.assert_close(frames[-1], model.sample(1, seed=2)[0])  # and ends at --interpolate's
    code, _, err = zoo("run", "toy-gen", "--interpolate", "2", "--frames", "1")
    assert code == 1 and "--frames must be at least 2" in err
    code, _, err = zoo("run", "toy-gen", "--frames", "5")
    assert code == 1 and "--frames only applies with --interpolate" in err


def test_an_option_that_takes_one_value_given_twice_is_refused_everywhere(zoo, tmp_path):
    """Issue 21.4: click keeps the last of a repeated option silently; zoo refuses it, naming both values."""
    code, _, err = zoo("export", "x", str(tmp_path / "d"), "--license", "mit", "--license=apache-2.0")
    assert code == 2 and "--license given 2 times ('mit', 'apache-2.0')" in err and err.count("\n") == 1
    code, _, err = zoo("registry", "add", "x", "--file", "a", "--file", "b")
    assert code == 2 and "--file given 2 times" in err
    assert not (tmp_path / "d").exists()
