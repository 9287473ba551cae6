"""`zoo plugins` tells the truth: a plugin that loses something it registers is not 'ok'.

Each case of docs/plugins.md "When names collide": a task named like a core task (the core's
is used), a task or architecture two plugins both register (neither is used), an architecture
of a task no plugin registers (its models are unavailable). And `zoo run MODEL` names the
broken or incompatible plugin that would provide MODEL instead of saying "unknown model".
"""

from __future__ import annotations

import json

import pytest

from zoo_core.plugins import get_catalogue

TASK_PLUGIN = """
import zoo_core
ZOO_PLUGIN_API = 3

@zoo_core.hookimpl
def register_tasks(register):
    register(zoo_core.Task(name="{task}", interface="x.y:Z", runner="x.y:run"))
"""

ARCH_PLUGIN = """
import zoo_core
ZOO_PLUGIN_API = 3

@zoo_core.hookimpl
def register_architectures(register):
    register(zoo_core.Architecture(name="{arch}", task="{task}", target="x.y:Z"))
"""


def _status(zoo, distribution: str) -> dict:
    code, out, _ = zoo("plugins", distribution, "--json")
    assert code == 0
    (row,) = json.loads(out)
    return row


def test_a_task_named_like_a_core_task_makes_the_plugin_a_conflict(site, zoo):
    site.install("zoo-usurper", "zoo_usurper", {"__init__.py": TASK_PLUGIN.format(task="generator")})
    row = _status(zoo, "zoo-usurper")
    assert row["status"] == "conflict"
    assert row["problems"] == ["task 'generator' is one of zoo-core's own tasks; zoo-core's is used"]
    assert get_catalogue().tasks["generator"].plugin == "zoo-core"
    code, out, _ = zoo("plugins")
    assert "zoo_usurper: conflict: task 'generator' is one of zoo-core's own tasks" in out


def test_two_plugins_registering_one_task_both_lose_it_and_say_who(site, zoo):
    site.install("zoo-one", "zoo_one", {"__init__.py": TASK_PLUGIN.format(task="shared-kind")})
    site.install("zoo-two", "zoo_two", {"__init__.py": TASK_PLUGIN.format(task="shared-kind")})
    one, two = _status(zoo, "zoo-one"), _status(zoo, "zoo-two")
    assert one["status"] == two["status"] == "conflict"
    assert one["problems"] == ["task 'shared-kind' is also registered by zoo-two 0.1.0; neither is used"]
    assert two["problems"] == ["task 'shared-kind' is also registered by zoo-one 0.1.0; neither is used"]
    assert "shared-kind" not in get_catalogue().tasks


def test_two_plugins_registering_one_architecture_both_lose_it(site, zoo):
    site.install("zoo-one", "zoo_one", {"__init__.py": ARCH_PLUGIN.format(arch="twin", task="generator")})
    site.install("zoo-two", "zoo_two", {"__init__.py": ARCH_PLUGIN.format(arch="twin", task="generator")})
    assert _status(zoo, "zoo-one")["problems"] == ["architecture 'twin' is also registered by zoo-two 0.1.0; "
                                                   "neither is used"]
    assert _status(zoo, "zoo-two")["status"] == "conflict"


def test_an_architecture_of_an_unregistered_task_is_a_conflict(site, zoo):
    site.install("zoo-orphan", "zoo_orphan", {"__init__.py": ARCH_PLUGIN.format(arch="lonely", task="no-such-kind")})
    row = _status(zoo, "zoo-orphan")
    assert row["status"] == "conflict"
    assert row["problems"] == ["architecture 'lonely' is a 'no-such-kind', a task no installed plugin registers; "
                               "its models are unavailable"]


def test_the_conformance_kit_fails_a_plugin_that_loses_a_registration(site):
    from zoo_core.testing.conformance import check_plugin

    site.install("zoo-usurper", "zoo_usurper", {"__init__.py": TASK_PLUGIN.format(task="encoder")})
    report = check_plugin("zoo-usurper")
    assert report.failures == [("zoo-usurper", "registrations used",
                                "task 'encoder' is one of zoo-core's own tasks; zoo-core's is used")]


def test_a_plugin_that_loses_nothing_stays_ok(site, zoo):
    site.install("zoo-fine", "zoo_fine", {"__init__.py": ARCH_PLUGIN.format(arch="fine-arch", task="generator")})
    row = _status(zoo, "zoo-fine")
    assert (row["status"], row["problems"], row["error"]) == ("ok", [], None)


@pytest.mark.parametrize("api, status", [(99, "incompatible"), (None, "broken")])
def test_zoo_run_names_the_plugin_that_would_provide_the_model(site, zoo, api, status):
    source = f"ZOO_PLUGIN_API = {api}\n" if api else "raise ImportError('needs a newer numpy')\n"
    package = site.install("zoo-later", "zoo_later", {"__init__.py": source})
    (package / "models.toml").write_text('[models.later-model]\narchitecture = "later-arch"\ntask = "generator"\n'
                                         'description = "from a plugin that did not load"\n')
    code, _, err = zoo("run", "later-model")
    assert code == 1
    assert f"model 'later-model' comes from plugin zoo-later 0.1.0, which is {status}" in err
    code, _, err = zoo("run", "never-heard-of-it")
    assert code == 1 and "unknown model 'never-heard-of-it'" in err and f"zoo-later 0.1.0 is {status}" in err
