"""A third-party plugin adds a new kind of model (tests/task_plugin/zoo_classify: image
classifiers) and gets every command, with no change to zoo-core: list, info, run --help,
run (and zoo_core.run), plugins --check, export and its own verb, zoo data."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

import zoo_core
from zoo_core.plugins import get_catalogue

SOURCE = Path(__file__).parent / "task_plugin" / "zoo_classify"


def _weights(package: Path) -> None:
    """Weights that call an image bright when its mean grey level is above mid-grey, and their pin."""
    import torch
    from safetensors.torch import save_file

    from zoo_core.integrity import sha256_file

    path = package / "weights" / "brightness.safetensors"
    path.parent.mkdir()
    save_file({"linear.weight": torch.tensor([[-8.0], [8.0]]), "linear.bias": torch.zeros(2)}, str(path))
    (package / "models.toml").write_text(textwrap.dedent(f"""
        [models.brightness-demo]
        architecture = "brightness-classifier"
        task = "image-classifier"
        description = "dark or bright"
        license = "mit"
        [models.brightness-demo.weights]
        filename = "model.safetensors"
        size = {path.stat().st_size}
        sha256 = "{sha256_file(path)}"
        bundled = "weights/brightness.safetensors"
        """))


@pytest.fixture
def classify(site):
    package = site.root / "zoo_classify"
    shutil.copytree(SOURCE, package, ignore=shutil.ignore_patterns("__pycache__"))
    site.add_metadata("zoo-classify", "zoo_classify")
    _weights(package)
    zoo_core.plugins.reset()
    return package


@pytest.fixture
def images(tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("L", (6, 5), 20).save(folder / "night.png")
    Image.new("RGB", (7, 4), (240, 230, 250)).save(folder / "day.png")
    return folder


def test_the_task_is_registered_and_listed(classify, zoo):
    assert "image-classifier" in zoo_core.TASKS
    assert get_catalogue().tasks["image-classifier"].plugin == "zoo-classify"
    code, out, _ = zoo("list", "--task", "image-classifier", "--json")
    (row,) = json.loads(out)
    assert (row["name"], row["task"], row["available"], row["weights"]) == \
        ("brightness-demo", "image-classifier", True, "bundled")
    code, out, _ = zoo("plugins", "zoo-classify", "--json")
    assert json.loads(out)[0]["tasks"] == ["image-classifier"]


def test_info_and_run_help_show_the_tasks_options_and_arguments(classify, zoo):
    code, out, _ = zoo("info", "brightness-demo", "--json")
    info = json.loads(out)
    assert [o["name"] for o in info["run_options"]] == ["--top", "--device", "--dtype", "--weights", "--threads",
                                                        "--json"]
    assert [a["name"] for a in info["run_arguments"]] == ["inputs"]
    code, out, _ = zoo("run", "brightness-demo", "--help")
    assert code == 0 and "--top" in out and "[INPUTS]..." in out and "image-classifier" in out


def test_run_classifies_and_the_library_gives_the_same_document(classify, zoo, images, monkeypatch):
    monkeypatch.setenv("ZOO_THREADS", "1")  # the default follows the load, which may change between the two runs
    code, out, err = zoo("run", "brightness-demo", str(images / "night.png"), str(images / "day.png"), "--json")
    assert code == 0, err
    document = json.loads(out)
    assert [p["classes"][0] for p in document["predictions"]] == ["dark", "bright"]
    assert document["run"]["model"] == "brightness-demo" and document["run"]["weights"] == "bundled"
    result = zoo_core.run("brightness-demo", images / "night.png", images / "day.png")
    expected = result.to_dict()
    for doc in (document, expected):
        doc["run"].pop("seconds")
    assert expected == document
    code, out, _ = zoo("run", "brightness-demo", str(images), "--top", "2")
    assert code == 0 and out.splitlines() == [f"{images / 'day.png'}: bright (1.00)", f"{images / 'night.png'}: dark (1.00)"]


def test_an_api_2_plugin_that_declares_the_standard_options_itself_still_runs(classify, zoo, images):
    """zoo-classify targets plugin API 2: its task declares --device, --dtype and --weights itself.
    Under API 3 the core adds those options to every task that loads weights; the plugin's own
    declarations are kept (no duplicate option), and its runs work as before."""
    info = next(p for p in zoo_core.plugins.get_catalogue().plugins if p.distribution == "zoo-classify")
    assert info.api == 2 and info.status == "ok"
    code, out, err = zoo("run", "brightness-demo", str(images / "night.png"), "--device", "cpu", "--dtype",
                         "float32", "--json")
    assert code == 0, err
    assert json.loads(out)["run"]["device"] == "cpu"
    code, out, _ = zoo("run", "brightness-demo", "--help")
    assert out.count("--device") == 1 and out.count("--weights") == 1


def test_bad_runs_are_one_line_errors(classify, zoo, images):
    code, _, err = zoo("run", "brightness-demo", str(images), "--top", "3")
    assert code == 1 and "--top 3: must be in 1..2" in err and err.count("\n") == 1
    code, _, err = zoo("run", "brightness-demo")
    assert code == 1 and "needs images" in err


def test_plugins_check_runs_the_tasks_own_checks(classify, zoo):
    from zoo_core.testing.conformance import check_plugin

    report = check_plugin("zoo-classify")
    report.assert_ok()
    assert {("brightness-classifier", "output shape"), ("brightness-demo", "determinism"),
            ("brightness-demo", "bundled weights"), ("zoo-classify", "no torch on import")} <= set(report.passed)
    code, _, err = zoo("plugins", "zoo-classify", "--check")
    assert code == 0 and "0 failed" in err


def test_export_uses_the_tasks_pipeline_tag(classify, zoo, tmp_path):
    code, out, err = zoo("export", "brightness-demo", str(tmp_path / "hub"))
    assert code == 0, err
    card = (tmp_path / "hub" / "README.md").read_text()
    assert "pipeline_tag: image-classification" in card and "brightness-classifier" in card


def test_the_tasks_verb_dispatches_to_the_architecture(classify, zoo, tmp_path):
    code, out, err = zoo("data", "brightness-classifier", "--num", "4", "--out", str(tmp_path / "d"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["00000.png", "00001.png", "00002.png", "00003.png",
                                                                 "labels.csv"]
    code, out, _ = zoo("data")
    assert code == 0 and "brightness-classifier" in out
    code, _, err = zoo("data", "nope-arch")
    assert code == 1 and "nope-arch" in err
    code, out, _ = zoo("--help")
    assert " data " in out


def test_registration_order_does_not_matter(classify, site, zoo, images):
    """zoo-aaa loads before zoo-classify, yet its architecture of zoo-classify's task works."""
    site.install("zoo-aaa", "zoo_aaa", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 2

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture(name="aaa-classifier", task="image-classifier",
                                           target="zoo_classify.model:BrightnessClassifier"))
        """})
    catalogue = get_catalogue()
    order = [p.distribution for p in catalogue.plugins]
    assert order.index("zoo-aaa") < order.index("zoo-classify")
    assert catalogue.architectures["aaa-classifier"].task in catalogue.tasks


def test_without_the_plugin_its_models_say_what_to_install(site, zoo, tmp_path, monkeypatch):
    registry = tmp_path / "r.toml"
    registry.write_text('[models.bright]\narchitecture = "brightness-classifier"\ntask = "image-classifier"\n'
                        'description = "d"\nplugin = "zoo-classify"\n')
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    code, out, _ = zoo("list", "--json")
    row = next(r for r in json.loads(out) if r["name"] == "bright")
    assert not row["available"] and "pip install zoo-classify" in row["unavailable_reason"]


def test_an_api_1_plugin_that_registers_a_task_is_reported_not_ignored(site, zoo):
    site.install("zoo-oldtask", "zoo_oldtask", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_tasks(register):
            register(zoo_core.Task(name="old-kind", interface="x.y:Z", runner="x.y:run"))
        """})
    info = next(p for p in get_catalogue().plugins if p.distribution == "zoo-oldtask")
    assert info.status == "broken" and "register_tasks needs ZOO_PLUGIN_API = 2" in info.error
    assert "old-kind" not in zoo_core.TASKS


def test_a_plugin_may_not_replace_a_core_task(site, capsys):
    site.install("zoo-usurper", "zoo_usurper", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 2

        @zoo_core.hookimpl
        def register_tasks(register):
            register(zoo_core.Task(name="generator", interface="x.y:Z", runner="x.y:run"))
        """})
    assert get_catalogue().tasks["generator"].plugin == "zoo-core"
    assert "task 'generator' from zoo-usurper 0.1.0 is one of zoo-core's own tasks" in capsys.readouterr().err


@pytest.mark.parametrize("fields, message", [
    ('name="Bad Kind", interface="x.y:Z", runner="x.y:run"', "task name 'Bad Kind'"),
    ('name="ok-kind", interface="not a path", runner="x.y:run"', "interface 'not a path' must look like"),
    ('name="ok-kind", interface="x.y:Z", runner="x.y:run", arguments=("inputs",)', "arguments must be zoo_core.Argument"),
])
def test_bad_task_descriptors_break_only_that_plugin(site, fields, message):
    site.install("zoo-badtask", "zoo_badtask", {"__init__.py": f"""
        import zoo_core
        ZOO_PLUGIN_API = 2

        @zoo_core.hookimpl
        def register_tasks(register):
            register(zoo_core.Task({fields}))
        """})
    info = next(p for p in get_catalogue().plugins if p.distribution == "zoo-badtask")
    assert info.status == "broken" and message in info.error


def test_new_plugin_scaffolds_a_plugin_of_the_new_task(classify, zoo, tmp_path):
    from zoo_core.registry import parse_registry_file
    from zoo_core.scaffold import kinds

    assert "image-classifier" in kinds()
    code, out, err = zoo("new-plugin", "pets", "--kind", "image-classifier", "--dir", str(tmp_path / "zoo-pets"))
    assert code == 0, err
    package = tmp_path / "zoo-pets" / "zoo_pets"
    assert "class PetsClassifier(ImageClassifier)" in (package / "model.py").read_text()
    (entry,) = parse_registry_file(package / "models.toml")
    assert (entry.task, entry.architecture) == ("image-classifier", "pets-brightness")
    assert entry.weights.bundled.is_file()  # the template's model was built and its weights pinned
    for source in (tmp_path / "zoo-pets").rglob("*.py"):
        compile(source.read_text(), str(source), "exec")
