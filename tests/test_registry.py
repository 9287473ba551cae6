"""Registry files: validation names file, entry and field; merging and overrides."""

from __future__ import annotations

import textwrap

import pytest

import zoo_core
from zoo_core.errors import RegistryError, UnknownModelError
from zoo_core.registry import parse_registry_file

SHA = "a" * 64
COMMIT = "b" * 40
GOOD = f"""
[models.good]
architecture = "toy-mlp"
task = "generator"
description = "a good entry"
license = "mit"
config = {{ latent_dim = 4 }}
[models.good.weights]
filename = "model.safetensors"
size = 10
sha256 = "{SHA}"
repo_id = "acme/good"
revision = "{COMMIT}"
[models.good.metrics.fd]
value = 12.5
how = "zoo eval good"
"""


def write(tmp_path, text):
    path = tmp_path / "registry.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_good_file_parses_into_entries(tmp_path):
    (entry,) = parse_registry_file(write(tmp_path, GOOD))
    assert entry.name == "good" and entry.task == "generator"
    assert entry.weights.repo_id == "acme/good" and entry.weights.revision == COMMIT
    assert entry.metrics["fd"].value == 12.5 and entry.metrics["fd"].how == "zoo eval good"
    assert entry.config == {"latent_dim": 4}


def test_bundled_path_is_relative_to_the_file(tmp_path):
    text = GOOD.replace('repo_id = "acme/good"\nrevision = "' + COMMIT + '"', 'bundled = "weights/model.safetensors"')
    (entry,) = parse_registry_file(write(tmp_path, text))
    assert entry.weights.bundled == (tmp_path / "weights" / "model.safetensors").resolve()
    assert entry.weights.repo_id is None


def _without(line):
    return GOOD.replace(line + "\n", "")


BAD = [
    ("missing field", _without('architecture = "toy-mlp"'), "models.good.architecture: missing required field"),
    ("missing sha", _without(f'sha256 = "{SHA}"'), "models.good.weights.sha256: missing required field"),
    ("bad sha", GOOD.replace(SHA, "xyz"), "models.good.weights.sha256: expected 64 lower-case hex characters"),
    ("dotdot filename", GOOD.replace('"model.safetensors"', '"../evil.safetensors"'),
     "models.good.weights.filename: '../evil.safetensors' must be a relative path inside the repository"),
    ("absolute filename", GOOD.replace('"model.safetensors"', '"/etc/model.safetensors"'),
     "models.good.weights.filename: '/etc/model.safetensors' must be a relative path"),
    ("pickle filename", GOOD.replace('"model.safetensors"', '"model.bin"'),
     "models.good.weights.filename: 'model.bin' is not a .safetensors file"),
    ("size as string", GOOD.replace("size = 10", 'size = "10"'), "models.good.weights.size: expected int, got str '10'"),
    ("size as bool", GOOD.replace("size = 10", "size = true"), "models.good.weights.size: expected int, got bool"),
    ("negative size", GOOD.replace("size = 10", "size = -1"), "models.good.weights.size: must be a positive"),
    ("branch revision", GOOD.replace(COMMIT, "main"), "models.good.weights.revision: must be a full 40-hex commit sha"),
    ("repo without revision", _without(f'revision = "{COMMIT}"'), "models.good.weights: repo_id and revision go together"),
    ("bad task", GOOD.replace('task = "generator"', 'task = "Gan task"'), "models.good.task: 'Gan task' is not a task name"),
    ("typo field", GOOD.replace("license =", "licence ="), "models.good.licence: unknown field (did you mean 'license'?)"),
    ("description type", GOOD.replace('description = "a good entry"', "description = 3"),
     "models.good.description: expected str, got int 3"),
    ("metric without how", _without('how = "zoo eval good"'), "models.good.metrics.fd.how: missing required field"),
    ("bad name", GOOD.replace("models.good", "models.Good"), "models.Good: entry names must match"),
    ("toml syntax", GOOD.replace("size = 10", "size = = 10"), "invalid TOML"),
    ("top-level key", "[model.good]\n", "unknown top-level key 'model'"),
]


@pytest.mark.parametrize("text,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_files_give_their_own_message(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(RegistryError) as info:
        parse_registry_file(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_first_party_registry_lists_unavailable_models_with_the_plugin_that_provides_them(monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "zoo-gan,zoo-docalculus")  # zoo-vae installed but left out
    zoo_core.plugins.reset()
    rows = {m.name: zoo_core.api.model_status(m) for m in zoo_core.list_models()}
    assert rows["taesd"]["weights"] == "unavailable"
    assert "zoo-vae" in rows["taesd"]["unavailable_reason"]
    assert rows["do-calculus"]["plugin"] == "zoo-docalculus"
    with pytest.raises(zoo_core.ModelUnavailableError, match="zoo-vae, which is installed but left out by ZOO_PLUGINS"):
        zoo_core.load("taesd")  # (a plugin that is not installed gets 'pip install': tests/test_plugins.py)


def test_user_registry_overrides_with_a_note(tmp_path, monkeypatch, capsys):
    override = GOOD.replace("[models.good", "[models.taesd").replace('"a good entry"', '"my taesd"')
    monkeypatch.setenv("ZOO_REGISTRY", str(write(tmp_path, override)))
    entry = zoo_core.get_entry("taesd")
    assert entry.description == "my taesd"
    assert "overrides model 'taesd'" in capsys.readouterr().err


def test_a_missing_user_registry_is_an_error_until_registry_add_creates_it(tmp_path, monkeypatch, zoo):
    """Issue 21: ZOO_REGISTRY naming a missing file only warned, so a typo ran with the wrong models."""
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "nope.toml"))
    with pytest.raises(RegistryError, match=r"ZOO_REGISTRY=.*nope.toml: no such file; fix the path, unset"):
        zoo_core.list_models()
    code, out, err = zoo("list")
    assert code == 1 and "ZOO_REGISTRY=" in err and "no such file" in err and err.count("\n") == 1


def test_a_user_registry_that_is_a_folder_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path))
    with pytest.raises(RegistryError, match="ZOO_REGISTRY=.*: not a file"):
        zoo_core.list_models()


def test_unknown_model_is_a_key_error_with_did_you_mean():
    with pytest.raises(KeyError) as info:
        zoo_core.load("tasd")
    assert isinstance(info.value, UnknownModelError)
    assert "did you mean taesd" in str(info.value)


def test_search_by_glob_substring_and_task():
    names = lambda **kw: [m.name for m in zoo_core.list_models(**kw)]  # noqa: E731
    assert names(pattern="taesd*") == ["taesd", "taesdxl"]
    assert names(pattern="xl") == ["sdxl-vae", "taesdxl"]
    assert names(task="causal-analyzer") == ["do-calculus", "fci", "pc"]


def test_parsed_registry_cache_follows_edits(tmp_path):
    path = write(tmp_path, GOOD)
    assert parse_registry_file(path)[0].description == "a good entry"
    assert parse_registry_file(path)[0].description == "a good entry"  # served from the JSON copy
    path.write_text(textwrap.dedent(GOOD).replace("a good entry", "an edited one"))
    assert parse_registry_file(path)[0].description == "an edited one"
    path.write_text(textwrap.dedent(GOOD).replace("size = 10", "size = = 10"))
    with pytest.raises(RegistryError, match="invalid TOML"):
        parse_registry_file(path)


def test_registry_with_a_toml_date_still_validates(tmp_path):
    path = write(tmp_path, GOOD.replace('license = "mit"', "license = 2024-01-01"))
    with pytest.raises(RegistryError, match="models.good.license: expected str, got date"):
        parse_registry_file(path)
