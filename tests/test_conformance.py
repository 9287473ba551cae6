"""The conformance kit: each check is proven by a plugin that breaks it (tests/conformance_broken),
and passes on a conforming one (the toy plugin)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import zoo_core.plugins
from zoo_core.testing.conformance import CHECKS, Report, check_architecture, check_plugin

BROKEN = Path(__file__).parent / "conformance_broken"


def install(site, distribution: str, module: str) -> None:
    shutil.copytree(BROKEN / module, site.root / module, ignore=shutil.ignore_patterns("__pycache__"))
    site.add_metadata(distribution, module)


@pytest.fixture
def nonconforming(site):
    install(site, "zoo-nonconforming", "zoo_nonconforming")
    return site


# architecture -> (the check it must fail, the other checks its one mistake may also fail)
EXPECTED = {
    "not-a-generator": ("interface", set()),
    "unaccepted-option": ("options", set()),
    "mutating-config": ("config round trip", set()),
    "unsaved-buffer": ("state-dict round trip", set()),
    "wrong-shape": ("output shape", {"dtype move"}),
    "wrong-dtype": ("output dtype", {"dtype move"}),
    "unclamped": ("value range", set()),
    "unseeded": ("determinism", set()),
    "float32-only": ("dtype move", set()),
    "nan-decode": ("decode", {"value range"}),
    "no-tanh": ("value range", set()),
    "unbounded-upscaler": ("value range", set()),
    "shrinking-upscaler": ("output shape", set()),
    "tuple-encoder": ("encode", set()),
    "wrong-latent-shape": ("output shape", set()),
    "noisy-encoder": ("determinism", set()),
    "dict-analyzer": ("analyze", set()),
}


@pytest.mark.parametrize("arch", sorted(EXPECTED))
def test_each_broken_architecture_fails_its_check_naming_model_and_check(nonconforming, arch):
    check, also = EXPECTED[arch]
    report = check_architecture(arch)
    failed = {c for _, c, _ in report.failures}
    assert check in failed, report.failures
    assert failed <= {check} | also, report.failures
    assert {s for s, _, _ in report.failures} == {arch}
    with pytest.raises(AssertionError) as raised:
        report.assert_ok()
    lines = str(raised.value).splitlines()
    assert len(lines) == len(report.failures)
    assert any(line.startswith(f"{arch}: {check}: ") and len(line) > len(f"{arch}: {check}: ") for line in lines)


def test_the_messages_say_what_is_wrong(nonconforming):
    def message(arch: str, check: str) -> str:
        return next(m for _, c, m in check_architecture(arch).failures if c == check)

    assert "subclass zoo_core.Generator" in message("not-a-generator", "interface")
    assert "takes no 'strength' keyword" in message("unaccepted-option", "options")
    assert "non-persistent buffers" in message("unsaved-buffer", "state-dict round trip")
    assert "expected (2, 1, 4, 4)" in message("wrong-shape", "output shape")
    assert "torch.float64" in message("wrong-dtype", "output dtype")
    assert "outside [-1, 1]" in message("unclamped", "value range")
    assert "decode() values span" in message("no-tanh", "value range")  # though sample() clamps
    assert "transform() values span" in message("unbounded-upscaler", "value range")
    assert "expected (2, 1, 32, 32) from scale 2" in message("shrinking-upscaler", "output shape")
    assert "sample(seed=0) twice" in message("unseeded", "determinism")
    assert "after .to('cpu', torch.float64) decode() raised RuntimeError" in message("float32-only", "dtype move")
    assert "non-finite" in message("nan-decode", "decode")
    assert "not a tensor" in message("tuple-encoder", "encode")
    assert "latent_shape" in message("wrong-latent-shape", "output shape")
    assert "not zoo_core.AnalysisResult" in message("dict-analyzer", "analyze")


@pytest.mark.parametrize("arch", ["good-gen", "good-ae"])
def test_conforming_architectures_pass_every_check(nonconforming, arch):
    report = check_architecture(arch)
    report.assert_ok()
    checks = {c for _, c in report.passed}
    assert {"config round trip", "state-dict round trip", "output shape", "output dtype", "determinism",
            "value range", "dtype move", "decode", "options", "interface"} <= checks
    if arch == "good-ae":
        assert "encode" in checks


def test_device_move_is_checked_on_cuda_and_noted_without_it(nonconforming):
    report = check_architecture("cpu-only")
    if torch.cuda.is_available():
        assert [(s, c) for s, c, _ in report.failures] == [("cpu-only", "device move")]
    else:
        report.assert_ok()
        assert ("cpu-only", "device move", "skipped: no CUDA device") in report.notes


def test_check_plugin_covers_import_analyzers_and_registry_entries(nonconforming):
    report = check_plugin("zoo-nonconforming")
    failures = {(s, c) for s, c, _ in report.failures}
    assert ("torch-analyzer", "no torch on import") in failures
    assert ("zoo-nonconforming", "no torch on import") not in failures  # its entry point is light
    assert ("mislabelled", "registry entry") in failures
    assert {a for a in EXPECTED} <= {s for s, _ in failures}
    assert ("good-gen", "determinism") in report.passed
    assert not any(s in ("good-gen", "good-ae") for s, _ in failures)


def test_an_entry_point_that_imports_torch_fails(site):
    install(site, "zoo-nonconforming", "zoo_nonconforming")
    install(site, "zoo-heavyimport", "zoo_heavyimport")
    report = check_plugin("zoo-heavyimport")
    assert [(s, c) for s, c, _ in report.failures] == [("zoo-heavyimport", "no torch on import")]
    assert "imports torch" in report.lines()[0]


def test_a_plugin_that_does_not_load_fails(site):
    install(site, "zoo-futureapi", "zoo_futureapi")
    report = check_plugin("zoo-futureapi")
    assert report.lines() == ["zoo-futureapi: plugin loads: incompatible: targets plugin API 99; "
                              "this zoo-core supports plugin API 3"]


def test_unknown_plugin_is_a_lookup_error(site):
    with pytest.raises(LookupError, match="no installed zoo plugin is called 'zoo-nope'"):
        check_plugin("zoo-nope")


def test_the_toy_plugin_conforms(toy):
    report = check_plugin("zoo-toy", analyze={"toy-parents": {"graph": "A -> B"}})
    report.assert_ok()
    assert ("toy-gen", "state-dict round trip") in report.passed  # registry entries are checked too
    assert ("toy-parents", "analyze") in report.passed and ("zoo-toy", "no torch on import") in report.passed


def test_a_required_option_without_a_default_or_example_is_noted_not_passed(toy):
    report = check_architecture("toy-parents", analyze={})  # as if the architecture declared no example
    assert report.ok and not any(c == "analyze" for _, c in report.passed)
    assert any(c == "analyze" and "--graph has no default" in m for _, c, m in report.notes)


def test_an_analyzer_runs_with_its_architectures_example(toy, site):
    assert ("toy-parents", "analyze") in check_architecture("toy-parents").passed
    site.install("zoo-badexample", "zoo_badexample", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 2

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture(
                name="bad-example", task="causal-analyzer", target="zoo_toy.causal:ParentsAnalyzer",
                options=(zoo_core.Option("graph", required=True),), example={"graph": "A -> B", "grpah": "x"}))
        """})
    zoo_core.plugins.reset()
    report = check_architecture("bad-example")
    assert any(c == "options" and "example option 'grpah'" in m for _, c, m in report.failures)


def test_over_size_weights_are_noted_not_built(nonconforming):
    report = check_architecture("good-gen", max_weight_bytes=10)
    assert report.ok
    assert any(c == "state-dict round trip" and "over the" in m for _, c, m in report.notes)


def test_every_check_name_is_documented(nonconforming):
    report = check_plugin("zoo-nonconforming")
    used = {c for _, c, _ in report.failures} | {c for _, c in report.passed} | {c for _, c, _ in report.notes}
    assert used - {"behaviour"} <= set(CHECKS)


def test_report_assert_ok_passes_when_empty():
    Report().assert_ok()
    report = Report()
    report.fail("m", "c", "why")
    with pytest.raises(AssertionError, match="^m: c: why$"):
        report.assert_ok()


# -- the pytest plugin's fixtures -----------------------------------------------------------

def test_pytest_plugin_is_registered_through_the_entry_point(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("zoo")


def test_zoo_tiny_weights_loads_strictly(nonconforming, zoo_tiny_weights):
    from zoo_core.loading import build_model, load_weights_into
    from zoo_nonconforming.models import Good

    path = zoo_tiny_weights("good-gen", config={"latent_dim": 3})
    assert load_file(str(path))["linear.weight"].shape == (16, 3)
    model = build_model(Good, {"latent_dim": 3}, architecture="good-gen")
    load_weights_into(model, path, device=torch.device("cpu"), dtype=torch.float32, architecture="good-gen")
    assert torch.equal(model.linear.weight, load_file(str(path))["linear.weight"])


def test_zoo_fake_hub_serves_a_published_file_into_a_temporary_cache(zoo_fake_hub, zoo_hf_cache):
    import os

    from huggingface_hub import hf_hub_download

    from zoo_core.hub import hub_cache_dir

    sha = zoo_fake_hub.publish("me/tiny", {"config.json": b"{}"})
    assert os.environ["HF_ENDPOINT"] == zoo_fake_hub.url and len(sha) == 40
    assert hub_cache_dir() == zoo_hf_cache
    path = hf_hub_download("me/tiny", "config.json", revision=sha, endpoint=zoo_fake_hub.url, cache_dir=zoo_hf_cache)
    assert Path(path).read_bytes() == b"{}" and Path(path).is_relative_to(zoo_hf_cache)


# -- zoo plugins: what each plugin provides, slow plugins, --check -----------------------------

def test_zoo_plugins_shows_hooks_architectures_models_and_slow_loads(toy, site, zoo):
    site.install("zoo-sluggish", "zoo_sluggish", {"__init__.py": """
        import time
        import zoo_core
        time.sleep(0.6)  # e.g. importing a big library at module level
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture(name="slow-gen", task="generator", target="zoo_toy.models:ToyGenerator"))
        """})
    code, out, _ = zoo("plugins")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["PLUGIN", "DISTRIBUTION", "VERSION", "API", "STATUS", "LOAD", "HOOKS", "TASKS",
                              "ARCHITECTURES", "COMMANDS", "MODELS"]
    toy_row = next(r for r in rows if r.startswith("zoo_toy "))
    assert "architectures,models,commands" in toy_row and "toy-conv-ae" in toy_row and "zoo toy-hello" in toy_row
    assert "toy-gen" in toy_row
    slow = [line for line in rows if "slow to load" in line]
    assert len(slow) == 1 and slow[0].startswith("zoo_sluggish: slow to load: 0.")
    code, out, _ = zoo("plugins", "--json")
    by_name = {p["distribution"]: p for p in json.loads(out)}
    assert by_name["zoo-sluggish"]["slow"] is True and by_name["zoo-sluggish"]["load_seconds"] >= 0.6
    assert by_name["zoo-toy"]["slow"] is False and "toy-gen" in by_name["zoo-toy"]["runs_models"]


@pytest.mark.slow  # 3-5 s (a subprocess or a large allocation); CI runs it, the fast loop does not
def test_zoo_plugins_check_prints_one_line_per_failure_and_exits_1(nonconforming, zoo):
    code, out, err = zoo("plugins", "zoo-nonconforming", "--check")
    assert code == 1
    lines = out.splitlines()
    assert check_plugin("zoo-nonconforming").lines() == lines
    assert any(line.startswith("unclamped: value range: decode() values span") for line in lines)
    assert any(line.startswith("torch-analyzer: no torch on import: ") for line in lines)
    assert "zoo-nonconforming 0.1.0: " in err and f" {len(lines)} failed" in err


def test_zoo_plugins_check_passes_a_conforming_plugin(toy, zoo):
    code, out, err = zoo("plugins", "zoo-toy", "--check")
    assert code == 0 and out == ""
    assert "zoo-toy 0.1.0: " in err and " 0 failed" in err
    assert "note: toy-parents: analyze" not in err  # run with the architecture's example
    code, out, _ = zoo("plugins", "zoo-toy", "--check", "--json")
    (document,) = json.loads(out)
    assert code == 0 and document["ok"] is True and document["passed"] > 20 and document["failures"] == []


def test_zoo_plugins_check_fails_a_plugin_that_does_not_load(site, zoo):
    install(site, "zoo-futureapi", "zoo_futureapi")
    code, out, _ = zoo("plugins", "zoo-futureapi", "--check")
    assert code == 1 and out.startswith("zoo-futureapi: plugin loads: incompatible: targets plugin API 99")


def test_zoo_plugins_unknown_name_is_a_usage_error(zoo):
    code, _, err = zoo("plugins", "zoo-nope")
    assert code == 2 and "no installed plugin is called 'zoo-nope'" in err


def test_zoo_plugins_check_in_a_subprocess(site):
    """The real command line; plain ``zoo plugins`` stays torch-free (tests/test_plugins.py), --check may not."""
    install(site, "zoo-futureapi", "zoo_futureapi")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site.root), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-m", "zoo_core", "plugins", "--check", "zoo-futureapi"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == ["zoo-futureapi: plugin loads: incompatible: targets plugin API 99; "
                                          "this zoo-core supports plugin API 3"]


def test_modules_after_one_that_imports_torch_are_probed_in_a_fresh_interpreter(nonconforming):
    from zoo_core.testing.conformance import _imports_torch

    found = _imports_torch([("heavy", "zoo_nonconforming.heavy_causal"), ("light", "zoo_nonconforming.causal"),
                            ("missing", "zoo_nonconforming.nowhere")])
    assert found["heavy"] is True and found["light"] is False
    assert found["missing"].startswith("cannot import zoo_nonconforming.nowhere: ModuleNotFoundError")


# -- what the kit missed before core v2 ----------------------------------------------------

def _weights_plugin(site, *, sha256=None, config="", extra_entry=""):
    """zoo-weighty: a plugin bundling toy-mlp weights under a pin (sha256 given, or the real one)."""
    import hashlib

    from safetensors.torch import save_file

    package = site.root / "zoo_weighty"
    (package / "weights").mkdir(parents=True)
    path = package / "weights" / "w.safetensors"
    save_file({"linear.weight": torch.zeros(64, 8), "linear.bias": torch.zeros(64)}, str(path))
    data = path.read_bytes()
    site.install("zoo-weighty", "zoo_weighty", {
        "__init__.py": """
            from pathlib import Path
            import zoo_core
            ZOO_PLUGIN_API = 2

            @zoo_core.hookimpl
            def register_models(register):
                register(Path(__file__).parent / "models.toml")
            """,
        "models.toml": f"""
            [models.weighty]
            architecture = "toy-mlp"
            task = "generator"
            description = "bundled"
            {config}
            [models.weighty.weights]
            filename = "w.safetensors"
            size = {len(data)}
            sha256 = "{sha256 or hashlib.sha256(data).hexdigest()}"
            bundled = "weights/w.safetensors"
            {extra_entry}
            """})
    zoo_core.plugins.reset()


def test_bundled_weights_are_verified_against_their_pin(toy, site):
    _weights_plugin(site)
    report = check_plugin("zoo-weighty")
    assert ("weighty", "bundled weights") in report.passed, report.failures
    zoo_core.plugins.reset()
    shutil.rmtree(site.root / "zoo_weighty")
    _weights_plugin(site, sha256="0" * 64)
    failures = {(s, c): m for s, c, m in check_plugin("zoo-weighty").failures}
    assert "sha256" in failures[("weighty", "bundled weights")]


def test_bundled_weights_must_fit_their_entrys_config(toy, site):
    _weights_plugin(site, config="config = { latent_dim = 3 }")  # the file holds latent_dim 8 weights
    failures = {(s, c): m for s, c, m in check_plugin("zoo-weighty").failures}
    assert "wrong shapes: linear.weight" in failures[("weighty", "bundled weights")]


def test_an_entry_whose_config_does_not_build_is_reported(toy, site, zoo):
    _weights_plugin(site, config='config = { latent_dim = "eight" }')
    failures = {(s, c): m for s, c, m in check_plugin("zoo-weighty").failures}
    assert "latent_dim" in failures[("weighty", "config round trip")]
    code, out, _ = zoo("plugins", "zoo-weighty", "--check")
    assert code == 1 and any(line.startswith("weighty: config round trip: ") for line in out.splitlines())


def test_a_misspelled_hook_is_reported_with_the_hooks_that_exist(site, zoo):
    site.install("zoo-typo", "zoo_typo", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 2

        @zoo_core.hookimpl
        def register_modles(register):
            register({"name": "never", "architecture": "x", "task": "generator", "description": "d"})
        """})
    code, out, err = zoo("plugins", "zoo-typo", "--check")
    assert code == 1
    (line,) = out.splitlines()
    assert line.startswith("zoo-typo: plugin loads: broken: ")
    assert "'register_modles' is marked @zoo_core.hookimpl but is no zoo hook" in line
    assert "register_models" in line and "register_tasks" in line


def test_a_tasks_checks_that_crash_are_its_failure_not_the_kits(site):
    site.install("zoo-crashy", "zoo_crashy", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 2

        class Meter(zoo_core.Model):
            from dataclasses import dataclass as _d
            config_class = _d(type("C", (), {}))

        def checks(checks):
            raise RuntimeError("the task's own checks are broken")

        @zoo_core.hookimpl
        def register_tasks(register):
            register(zoo_core.Task(name="meter", interface="zoo_core:Model", runner="zoo_crashy:checks",
                                   checks="zoo_crashy:checks", weights=False))

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture(name="meter-arch", task="meter", target="zoo_crashy:Meter"))
        """})
    zoo_core.plugins.reset()
    report = check_plugin("zoo-crashy")
    assert ("meter-arch", "behaviour", "the meter checks of zoo-crashy crashed: RuntimeError: the task's own checks "
            "are broken") in report.failures
