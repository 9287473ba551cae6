"""Plugin discovery through entry-point metadata, isolation of broken plugins, collisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import zoo_core
from zoo_core.plugins import get_catalogue

GOOD_PLUGIN = """
import zoo_core
ZOO_PLUGIN_API = 1

@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(name="{arch}", task="generator", target="{module}.model:Net"))

@zoo_core.hookimpl
def register_models(register):
    register({{"name": "{model}", "architecture": "{arch}", "task": "generator", "description": "d"}})
"""


def good(site, dist, module, arch="shared-arch", model="shared-model"):
    site.install(dist, module, {"__init__.py": GOOD_PLUGIN.format(arch=arch, module=module, model=model)})


def test_toy_plugin_is_discovered_through_entry_point_metadata(toy):
    catalogue = get_catalogue()
    (info,) = [p for p in catalogue.plugins if p.distribution == "zoo-toy"]
    assert info.status == "ok" and info.version == "0.1.0" and info.api == 1
    assert set(info.architectures) == {"toy-mlp", "toy-cmlp", "toy-conv-ae", "toy-conv-enc", "toy-upscaler",
                                       "toy-parents"}
    assert {"toy-gen", "toy-cgen", "toy-ae", "toy-parents"} <= set(info.models)
    assert info.commands == ["toy-hello"]
    assert catalogue.architectures["toy-mlp"].plugin == "zoo-toy"


def test_plugin_that_fails_to_import_is_isolated(toy, site, zoo):
    site.install("zoo-broken", "zoo_broken", {"__init__.py": "raise RuntimeError('kaput on import')\n"})
    code, out, err = zoo("list")
    assert code == 0
    assert "toy-gen" in out
    assert err.count("zoo-broken 0.1.0") == 1 and "RuntimeError: kaput on import" in err
    code, out, _ = zoo("plugins", "--json")
    broken = next(p for p in json.loads(out) if p["distribution"] == "zoo-broken")
    assert broken["status"] == "broken" and "kaput on import" in broken["error"]


def test_plugin_whose_hook_raises_contributes_nothing(toy, site, zoo):
    site.install("zoo-hookfail", "zoo_hookfail", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture(name="half", task="generator", target="x.y:Z"))

        @zoo_core.hookimpl
        def register_models(register):
            raise ValueError("hook went wrong")
        """})
    code, out, err = zoo("list", "--json")
    assert code == 0 and "toy-gen" in out
    assert "zoo-hookfail 0.1.0" in err and "hook went wrong" in err
    assert "half" not in get_catalogue().architectures  # not half-loaded


def test_incompatible_plugin_api_is_reported_not_loaded(site, zoo):
    good(site, "zoo-future", "zoo_future", arch="future-arch", model="future-model")
    init = site.root / "zoo_future" / "__init__.py"
    init.write_text(init.read_text().replace("ZOO_PLUGIN_API = 1", "ZOO_PLUGIN_API = 4"))
    code, out, err = zoo("plugins")
    assert code == 0
    assert "incompatible" in out and "targets plugin API 4; this zoo-core supports plugin API 3" in out
    assert "future-arch" not in get_catalogue().architectures


def test_plugin_without_api_declaration_is_incompatible(site):
    site.install("zoo-old", "zoo_old", {"__init__.py": "x = 1\n"})
    (info,) = [p for p in get_catalogue().plugins if p.distribution == "zoo-old"]
    assert info.status == "incompatible" and "does not declare ZOO_PLUGIN_API" in info.error


def test_collisions_drop_both_and_name_both_distributions(site, capsys):
    good(site, "zoo-one", "zoo_one")
    good(site, "zoo-two", "zoo_two")
    catalogue = get_catalogue()
    err = capsys.readouterr().err
    assert "shared-arch" not in catalogue.architectures
    assert "shared-model" not in catalogue.registry
    arch_line = next(line for line in err.splitlines() if "architecture 'shared-arch'" in line)
    assert "zoo-one 0.1.0" in arch_line and "zoo-two 0.1.0" in arch_line
    assert "model 'shared-model' is registered by both" in err


def test_two_distributions_may_use_the_same_entry_point_name(site):
    good(site, "zoo-one", "zoo_one", arch="one-arch", model="one-model")
    site.install("zoo-two", "zoo_two", {"__init__.py": GOOD_PLUGIN.format(arch="two-arch", module="zoo_two",
                                                                         model="two-model")}, entry_name="zoo_one")
    catalogue = get_catalogue()
    statuses = {p.distribution: p.status for p in catalogue.plugins}
    assert statuses["zoo-one"] == statuses["zoo-two"] == "ok"
    assert {"one-arch", "two-arch"} <= set(catalogue.architectures)


def test_command_collisions_keep_the_cli_alive(site, zoo):
    command = """
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_commands(cli):
            @cli.command("{name}")
            def cmd():
                print("from {module}")
        """
    site.install("zoo-c1", "zoo_c1", {"__init__.py": command.format(name="greet", module="zoo_c1")})
    site.install("zoo-c2", "zoo_c2", {"__init__.py": command.format(name="greet", module="zoo_c2")})
    site.install("zoo-c3", "zoo_c3", {"__init__.py": command.format(name="list", module="zoo_c3")})
    code, out, err = zoo("list")
    assert code == 0 and "from zoo_c3" not in out
    assert "shadows a core command" in err and "zoo-c3" in err
    code, _, err = zoo("greet")
    assert code == 2 and "no such command 'greet'" in err


def test_zoo_plugins_env_restricts_and_empty_loads_none(toy, site, monkeypatch):
    good(site, "zoo-other", "zoo_other", arch="other-arch", model="other-model")
    monkeypatch.setenv("ZOO_PLUGINS", "zoo-toy")
    assert [p.distribution for p in get_catalogue().plugins if not p.builtin] == ["zoo-toy"]
    zoo_core.plugins.reset()
    monkeypatch.setenv("ZOO_PLUGINS", "zoo_other")  # entry-point names work too
    assert [p.distribution for p in get_catalogue().plugins if not p.builtin] == ["zoo-other"]
    zoo_core.plugins.reset()
    monkeypatch.setenv("ZOO_PLUGINS", "")
    assert [p.distribution for p in get_catalogue().plugins] == ["zoo-core"]  # the core's own tasks only
    assert list(get_catalogue().tasks) == list(zoo_core.TASKS)


@pytest.mark.parametrize("fields,error", [
    ('name="Bad Name", task="generator", target="a:B"', "Bad Name"),
    ('name="bad-options", task="generator", target="a:B", options=("temperature",)', "options must be zoo_core.Option"),
], ids=["bad name", "option not an Option"])
def test_registered_architecture_with_bad_descriptor_breaks_only_that_plugin(toy, site, fields, error):
    site.install("zoo-badarch", "zoo_badarch", {"__init__.py": f"""
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_architectures(register):
            register(zoo_core.Architecture({fields}))
        """})
    plugins = {p.distribution: p for p in get_catalogue().plugins}
    assert plugins["zoo-badarch"].status == "broken" and error in plugins["zoo-badarch"].error
    assert plugins["zoo-toy"].status == "ok"


MISBEHAVING = {
    "exits on import": ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
    "registers a non-command": ("""
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_commands(cli):
            cli.add_command(42, "forty-two")
        """, "'forty-two' is not a click command"),
}


@pytest.mark.parametrize("source,error", list(MISBEHAVING.values()), ids=list(MISBEHAVING))
def test_misbehaving_plugin_breaks_only_itself(toy, site, zoo, source, error):
    site.install("zoo-bad", "zoo_bad", {"__init__.py": source})
    code, out, err = zoo("list", "--json")
    assert code == 0 and "toy-gen" in {row["name"] for row in json.loads(out)}
    assert "zoo-bad 0.1.0" in err and error in err


def test_plugin_printing_on_stdout_keeps_json_output_one_document(toy, site, zoo):
    site.install("zoo-chatty", "zoo_chatty", {"__init__.py": """
        import zoo_core
        print("hello from import")
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_models(register):
            print("hello from a hook")
        """})
    code, out, err = zoo("list", "--json")
    assert code == 0 and "toy-gen" in {row["name"] for row in json.loads(out)}
    assert "hello from import" in err and "hello from a hook" in err


def _subprocess_env(site):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site.root), env.get("PYTHONPATH", "")])
    return env


SNIFF = """
import sys
from zoo_core.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("torch", "zoo_toy.models", "huggingface_hub.file_download", "safetensors.torch")
               if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["info", "toy-gen"], ["info", "taesd", "--json"],
                                  ["plugins"], ["plugins", "--json"]])
def test_listing_commands_never_import_torch_or_model_code(toy, site, args):
    result = subprocess.run([sys.executable, "-c", SNIFF, *args], capture_output=True, text=True,
                            env=_subprocess_env(site), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stderr or result.stderr.rstrip().endswith("HEAVY=")


def test_zoo_run_imports_the_model_code_on_first_use(toy, site):
    result = subprocess.run([sys.executable, "-c", SNIFF, "run", "toy-gen", "--num", "2", "--out",
                             str(site.root / "g.png")], capture_output=True, text=True, env=_subprocess_env(site),
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "torch" in result.stderr and "zoo_toy.models" in result.stderr


def test_models_of_a_collided_architecture_say_why_they_are_unavailable(site, capsys):
    good(site, "zoo-one", "zoo_one", model="one-model")
    good(site, "zoo-two", "zoo_two", model="two-model")
    rows = {m.name: zoo_core.api.model_status(m) for m in zoo_core.list_models()}
    reason = rows["one-model"]["unavailable_reason"]
    assert "registered by both zoo-one 0.1.0 and zoo-two 0.1.0" in reason and "pip install" not in reason


def test_dict_entries_resolve_a_relative_base_dir_against_the_plugin(site, tmp_path, monkeypatch):
    site.install("zoo-rel", "zoo_rel", {"__init__.py": """
        import zoo_core
        ZOO_PLUGIN_API = 1

        @zoo_core.hookimpl
        def register_models(register):
            register({"name": "rel-model", "architecture": "x", "task": "generator", "description": "d",
                      "base_dir": "data", "weights": {"filename": "m.safetensors", "size": 1, "sha256": "0" * 64,
                                                      "bundled": "m.safetensors"}})
        """})
    monkeypatch.chdir(tmp_path)
    entry = zoo_core.get_entry("rel-model")
    assert entry.weights.bundled == (site.root / "zoo_rel" / "data" / "m.safetensors").resolve()


# -- names and environment (core v2) ---------------------------------------------------------

@pytest.mark.parametrize("name", ["dcgan-fashion\n", "dcgan-fashion ", "DCGAN", "dcgan\nfashion"])
def test_names_are_matched_in_full(name):
    from zoo_core.errors import PluginError, RegistryError
    from zoo_core.registry import parse_entry

    with pytest.raises(RegistryError, match="entry names must match"):
        parse_entry(name, {"architecture": "dcgan", "task": "generator", "description": "d"}, source="x.toml",
                    base_dir=None)
    with pytest.raises(PluginError, match="architecture name"):
        zoo_core.Architecture(name=name, task="generator", target="a:B")
    with pytest.raises(PluginError, match="task name"):
        zoo_core.Task(name=name, interface="a:B", runner="a:run")
    with pytest.raises(RegistryError, match="is not a task name"):
        parse_entry("ok", {"architecture": "dcgan", "task": name, "description": "d"}, source="x.toml", base_dir=None)


def test_a_quoted_registry_key_with_a_newline_is_refused(tmp_path, monkeypatch, zoo):
    registry = tmp_path / "r.toml"
    registry.write_text('[models."dcgan-fashion\\n"]\narchitecture = "dcgan"\ntask = "generator"\ndescription = "d"\n')
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    code, _, err = zoo("list")
    assert code == 1 and "entry names must match" in err and err.count("\n") == 1


def test_zoo_plugins_naming_an_unknown_plugin_warns_with_the_installed_names(toy, monkeypatch, capsys):
    monkeypatch.setenv("ZOO_PLUGINS", "zoo_toy,gann")
    catalogue = get_catalogue()
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "ZOO_PLUGINS" in line)
    assert "'gann', which is not an installed plugin" in line and "zoo_toy (zoo-toy)" in line and "gan (zoo-gan)" in line
    assert [p.distribution for p in catalogue.plugins if not p.builtin] == ["zoo-toy"]


@pytest.mark.parametrize("typed, suggested", [("dcgn", "dcgan-fashion"), ("toy-gn", "toy-gen"), ("taesdx", "taesdxl")])
def test_zoo_run_offers_a_close_name(toy, zoo, typed, suggested):
    code, _, err = zoo("run", typed)
    assert code == 1 and "did you mean" in err and suggested in err


def test_the_install_hint_never_names_an_installed_plugin(toy, zoo, tmp_path, monkeypatch):
    registry = tmp_path / "r.toml"
    registry.write_text('[models.newer]\narchitecture = "toy-future"\ntask = "generator"\ndescription = "d"\n'
                        'plugin = "zoo-toy"\n'
                        '[models.elsewhere]\narchitecture = "far-arch"\ntask = "generator"\ndescription = "d"\n'
                        'plugin = "zoo-far"\n')
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    code, out, err = zoo("list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert "pip install zoo-toy" not in rows["newer"]["unavailable_reason"]
    assert "installed; upgrade it (pip install -U zoo-toy)" in rows["newer"]["unavailable_reason"]
    assert "pip install zoo-far" in rows["elsewhere"]["unavailable_reason"]
    code, out, err = zoo("list")
    assert "unavailable models need: pip install zoo-far\n" in err and "newer" in err


@pytest.mark.parametrize("spelling", ["zoo_toy", "Zoo-Toy", "zoo-toy", "zoo.toy"])
def test_zoo_plugins_matches_distribution_names_as_pip_does(toy, monkeypatch, spelling, capsys):
    monkeypatch.setenv("ZOO_PLUGINS", spelling)
    assert [p.distribution for p in get_catalogue().plugins if not p.builtin] == ["zoo-toy"]
    assert "ZOO_PLUGINS" not in capsys.readouterr().err


def test_a_plugin_left_out_by_zoo_plugins_is_not_called_missing(toy, zoo, monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "zoo-toy")
    code, _, err = zoo("run", "pc", "--data", "x.csv")
    assert code == 1 and "left out by ZOO_PLUGINS" in err and "pip install" not in err
    code, _, err = zoo("list")
    assert "pip install zoo-docalculus" not in err


def test_train_and_evaluate_are_verbs_and_the_api_2_spelling_still_works():
    from zoo_core import Architecture, PluginError

    old = Architecture("a", task="generator", target="m:C", train="m:train", evaluate="m:evaluate")
    new = Architecture("a", task="generator", target="m:C", verbs={"train": "m:train", "eval": "m:evaluate"})
    assert old.verbs == new.verbs == {"train": "m:train", "eval": "m:evaluate"}
    assert (new.train, new.evaluate) == ("m:train", "m:evaluate")  # what `zoo train` / `zoo eval` dispatch to
    with pytest.raises(PluginError, match="train= and verbs\\['train'\\] name different commands"):
        Architecture("a", task="generator", target="m:C", train="m:one", verbs={"train": "m:two"})


def test_a_tasks_extras_are_grouped_and_the_api_2_spelling_still_works():
    from zoo_core import PluginError, Task, TaskExtras

    old = Task("k-one", interface="m:C", runner="m:run", pipeline_tag="image-to-image", scaffold="m:t", info="m:info")
    new = Task("k-one", interface="m:C", runner="m:run",
               extras=TaskExtras(pipeline_tag="image-to-image", scaffold="m:t", info="m:info"))
    assert old.extras == new.extras == TaskExtras("image-to-image", "m:info", "m:t")
    assert (new.pipeline_tag, new.scaffold, new.info) == ("image-to-image", "m:t", "m:info")
    with pytest.raises(PluginError, match="pipeline_tag and extras.pipeline_tag differ"):
        Task("k-one", interface="m:C", runner="m:run", pipeline_tag="a", extras=TaskExtras(pipeline_tag="b"))
    with pytest.raises(PluginError, match="info 'not a target' must look like"):
        Task("k-one", interface="m:C", runner="m:run", extras=TaskExtras(info="not a target"))
