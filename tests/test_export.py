"""``zoo export`` and ``zoo registry add``: the publishing loop, end to end against the fake Hub.

export -> publish the folder to the fake Hub -> registry add (pin commit, size, sha256)
-> pull -> verify -> run, and the ways each step refuses bad input.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import zoo_core
import zoo_core.plugins
from zoo_core.integrity import sha256_file
from zoo_core.registry import parse_registry_file

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _card_metadata(path):
    from huggingface_hub.repocard import metadata_load

    return metadata_load(path)  # how the Hub reads a model card's YAML


def test_export_writes_a_hub_repo_with_the_verified_bytes(toy, zoo, tmp_path):
    out = tmp_path / "hub" / "toy-gen"
    code, stdout, err = zoo("export", "toy-gen", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert (out / "model.safetensors").read_bytes() == toy["toy-gen"].read_bytes()  # unchanged, not re-saved
    assert json.loads((out / "config.json").read_text()) == {"channels": 1, "latent_dim": 8, "num_classes": 0,
                                                              "size": 8}
    meta = _card_metadata(out / "README.md")
    assert meta["library_name"] == "zoo" and meta["license"] == "mit"
    assert {"zoo", "generator", "toy-mlp"} <= set(meta["tags"])
    assert meta["metrics"] == ["mean_abs_pixel"]
    assert "model-index" not in meta  # results need a Hub data set to be reported on
    assert sha256_file(out / "model.safetensors") in (out / "README.md").read_text()
    assert "hf upload" in stdout
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    with_data = tmp_path / "hub" / "toy-gen-data"
    code, _, err = zoo("export", "toy-gen", str(with_data), "--dataset", "zalando-datasets/fashion_mnist")
    assert code == 0, err
    from huggingface_hub import ModelCard

    (result,) = ModelCard((with_data / "README.md").read_text()).data.eval_results  # as the Hub parses it
    assert (result.dataset_type, result.metric_type, result.metric_value) == (
        "zalando-datasets/fashion_mnist", "mean_abs_pixel", 0.5)


def test_export_takes_hub_dataset_ids_and_tags(toy, zoo, tmp_path):
    code, _, err = zoo("export", "toy-ae", str(tmp_path / "ae"), "--dataset", "me/shapes", "--tag", "tiny")
    assert code == 0, err
    meta = _card_metadata(tmp_path / "ae" / "README.md")
    assert meta["datasets"] == ["me/shapes"] and "tiny" in meta["tags"]
    code, _, err = zoo("export", "toy-ae", str(tmp_path / "ae2"), "--dataset", "not an id")
    assert code == 2 and "--dataset" in err


def test_export_refuses_what_it_cannot_export(toy, zoo, tmp_path):
    code, _, err = zoo("export", "toy-parents", str(tmp_path / "p"))
    assert code == 1 and err.count("\n") == 1 and "causal-analyzer" in err
    out = tmp_path / "g"
    assert zoo("export", "toy-gen", str(out))[0] == 0
    code, _, err = zoo("export", "toy-gen", str(out))
    assert code == 1 and "--force" in err and err.count("\n") == 1
    assert zoo("export", "toy-gen", str(out), "--force")[0] == 0
    code, _, err = zoo("export", "toy-gen")
    assert code == 2 and "DIR" in err
    # a weights file that does not fit the architecture is refused before anything is written
    code, _, err = zoo("export", "toy-gen", str(tmp_path / "bad"), "--weights", str(toy["toy-ae"]))
    assert code == 1 and "toy-mlp" in err and not (tmp_path / "bad").exists()


def _training_folder(tmp_path, toy, card: str | None):
    run = tmp_path / "runs" / "my-toy"
    run.mkdir(parents=True)
    (run / "model.safetensors").write_bytes(toy["toy-gen"].read_bytes())
    (run / "config.json").write_text(json.dumps({"latent_dim": 8, "channels": 1, "size": 8, "num_classes": 0}))
    (run / "training.json").write_text("{}")
    (run / "checkpoint.safetensors").write_bytes(b"not exported")
    if card is not None:
        (run / "README.md").write_text(card)
    return run


def test_export_from_a_training_folder_keeps_its_card(toy, zoo, tmp_path):
    card = "---\nlicense: apache-2.0\nlibrary_name: zoo\ntags:\n  - zoo\n---\n\n# my toy\n"
    run = _training_folder(tmp_path, toy, card)
    out = tmp_path / "repo"
    code, _, err = zoo("export", "--from", str(run), str(out), "--architecture", "toy-mlp")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert (out / "README.md").read_text() == card
    assert (out / "model.safetensors").read_bytes() == (run / "model.safetensors").read_bytes()


def test_export_from_a_training_folder_without_a_card_writes_one(toy, zoo, tmp_path):
    run = _training_folder(tmp_path, toy, "# notes, no metadata\n")
    code, _, err = zoo("export", "--from", str(run), str(tmp_path / "repo"), "--license", "mit")
    assert code == 0, err
    meta = _card_metadata(tmp_path / "repo" / "README.md")
    assert meta["library_name"] == "zoo" and meta["license"] == "mit"


def test_export_from_a_training_folder_card_names_the_architecture_and_its_registry_add_works(toy, zoo, tmp_path):
    run = _training_folder(tmp_path, toy, None)
    out = tmp_path / "repo"
    code, stdout, err = zoo("export", "--from", str(run), str(out), "--architecture", "toy-mlp")
    assert code == 0, err
    meta = _card_metadata(out / "README.md")
    assert "" not in meta["tags"] and {"generator", "toy-mlp"} <= set(meta["tags"])
    # the card's and the hint's 'zoo registry add' lines run as printed: my-toy is new to zoo
    card_line = next(line for line in (out / "README.md").read_text().splitlines() if "zoo registry add" in line)
    hint = stdout.split("then  ", 1)[1].split()
    for i, args in enumerate((card_line.split("#")[0].split(), hint)):
        args = [COMMIT if a == "COMMIT" else "you/my-toy" if a.startswith("OWNER/") else a for a in args]
        args = [str(out / "model.safetensors") if a == "model.safetensors" else a for a in args]
        registry = tmp_path / f"registry-{i}.toml"
        code, _, err = zoo(*[a for a in args[1:] if a != "--registry" and a != "my-registry.toml"],
                           "--registry", str(registry))
        assert code == 0, err
        assert [(e.name, e.architecture) for e in parse_registry_file(registry)] == [("my-toy", "toy-mlp")]


def test_export_from_checks_the_architecture(toy, zoo, tmp_path):
    run = _training_folder(tmp_path, toy, None)
    code, _, err = zoo("export", "--from", str(run), str(tmp_path / "repo"), "--architecture", "toy-conv-ae")
    assert code == 1 and "toy-conv-ae" in err and err.count("\n") == 1
    (run / "model.safetensors").unlink()
    code, _, err = zoo("export", "--from", str(run), str(tmp_path / "repo"))
    assert code == 1 and "model.safetensors" in err and "--from" in err


def test_publish_loop_export_serve_pin_pull_verify_run(toy, zoo, hub, tmp_path, monkeypatch):
    out = tmp_path / "hub" / "toy-gen"
    assert zoo("export", "toy-gen", str(out))[0] == 0
    # what `hf upload me/toy-gen hub/toy-gen .` does: one commit holding the folder's files
    commit = hub.publish("me/toy-gen", {p.name: p.read_bytes() for p in out.iterdir()})
    registry = tmp_path / "my-registry.toml"
    code, stdout, err = zoo("registry", "add", "toy-gen-hub", "--repo-id", "me/toy-gen", "--revision", commit,
                            "--file", str(out / "model.safetensors"), "--registry", str(registry),
                            "--architecture", "toy-mlp", "--license", "mit")
    assert code == 0, err
    assert "added models.toy-gen-hub" in stdout
    (entry,) = parse_registry_file(registry)
    assert entry.weights.repo_id == "me/toy-gen" and entry.weights.revision == commit
    assert entry.weights.sha256 == sha256_file(out / "model.safetensors")
    assert entry.weights.size == (out / "model.safetensors").stat().st_size
    assert entry.weights.bundled is None and dict(entry.config)["latent_dim"] == 8  # config.json beside --file

    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    zoo_core.plugins.reset()
    code, stdout, err = zoo("pull", "toy-gen-hub")
    assert code == 0, err
    assert "downloaded" in stdout
    assert any(commit in path for _, path in hub.requests)
    code, stdout, err = zoo("verify", "toy-gen-hub")
    assert code == 0 and "cached ok" in stdout, err
    code, stdout, err = zoo("run", "toy-gen-hub", "--num", "2", "--out", str(tmp_path / "g.png"), "--json")
    assert code == 0, err
    run = json.loads(stdout)["run"]
    assert run["weights"] == "cache" and run["revision"] == commit and run["sha256"] == entry.weights.sha256
    # the same seed gives the same images as the bundled original: the very same bytes travelled
    original, pulled = zoo_core.load("toy-gen", device="cpu"), zoo_core.load("toy-gen-hub", device="cpu")
    assert (original.sample(2, seed=5) == pulled.sample(2, seed=5)).all()


def test_pins_catch_a_hub_file_that_differs(toy, zoo, hub, tmp_path, monkeypatch):
    out = tmp_path / "repo"
    assert zoo("export", "toy-gen", str(out))[0] == 0
    commit = hub.publish("me/toy-gen", {p.name: p.read_bytes() for p in out.iterdir()})
    registry = tmp_path / "r.toml"
    assert zoo("registry", "add", "toy-gen", "--repo-id", "me/toy-gen", "--revision", commit,
               "--file", str(out / "model.safetensors"), "--registry", str(registry))[0] == 0
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    zoo_core.plugins.reset()
    hub.set_fault("me/toy-gen", "model.safetensors", "corrupt")
    code, _, err = zoo("pull", "toy-gen")
    assert code == 1 and "sha256" in err


def test_registry_add_copies_a_known_entry_and_keeps_the_file_s_other_content(toy, zoo, tmp_path):
    registry = tmp_path / "r.toml"
    registry.write_text("# my models, by hand\n[models.mine]\narchitecture = \"toy-mlp\"\ntask = \"generator\"\n"
                        "description = \"hand-written\"\n[models.mine.weights]\nfilename = \"a.safetensors\"\n"
                        f"size = 1\nsha256 = \"{'0' * 64}\"\nrepo_id = \"me/a\"\nrevision = \"{COMMIT}\"\n")
    code, _, err = zoo("registry", "add", "toy-cgen", "--repo-id", "me/cgen", "--revision", COMMIT,
                       "--file", str(toy["toy-cgen"]), "--registry", str(registry))
    assert code == 0, err
    text = registry.read_text()
    assert text.startswith("# my models, by hand\n")
    entries = {e.name: e for e in parse_registry_file(registry)}
    assert set(entries) == {"mine", "toy-cgen"}
    cgen = entries["toy-cgen"]
    assert cgen.architecture == "toy-cmlp" and cgen.classes == ("zero", "one", "two")
    assert cgen.metrics["mean_abs_pixel"].how == "zoo eval toy-cgen" and cgen.license == "mit"
    assert dict(cgen.config) == {"num_classes": 3}  # no config.json beside the file: the known entry's
    assert cgen.weights.filename == "toy-cgen.safetensors"

    code, _, err = zoo("registry", "add", "toy-cgen", "--repo-id", "me/cgen", "--revision", "f" * 40,
                       "--file", str(toy["toy-cgen"]), "--registry", str(registry))
    assert code == 1 and "pass --force to overwrite it" in err and registry.read_text() == text
    for flag, revision in (("--force", "f" * 40), ("--replace", "e" * 40)):  # --replace is an alias
        code, stdout, err = zoo("registry", "add", "toy-cgen", "--repo-id", "me/cgen", "--revision", revision,
                                "--file", str(toy["toy-cgen"]), "--registry", str(registry), flag)
        assert code == 0 and "replaced" in stdout, err
        entries = {e.name: e for e in parse_registry_file(registry)}
        assert entries["toy-cgen"].weights.revision == revision and "mine" in entries


@pytest.mark.parametrize("explicit", [False, True], ids=["from ZOO_REGISTRY", "--registry naming ZOO_REGISTRY"])
def test_registry_add_creates_the_file_zoo_registry_names(toy, zoo, tmp_path, monkeypatch, explicit):
    registry = tmp_path / "env.toml"  # does not exist yet: zoo starts anyway (a warning), and add creates it
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    code, _, err = zoo("registry", "add", "toy-gen", "--repo-id", "me/gen", "--revision", COMMIT,
                       "--file", str(toy["toy-gen"]), *(["--registry", str(registry)] if explicit else []))
    assert code == 0, err
    assert [e.name for e in parse_registry_file(registry)] == ["toy-gen"]
    zoo_core.plugins.reset()
    code, out, err = zoo("info", "toy-gen", "--json")
    assert json.loads(out)["weights"]["repo_id"] == "me/gen" and "overrides model 'toy-gen'" in err


def test_registry_add_pins_a_bundled_file_without_a_hub(toy, zoo, tmp_path):
    import shutil

    package = tmp_path / "zoo_mine"
    (package / "weights").mkdir(parents=True)
    shutil.copy(toy["toy-gen"], package / "weights" / "gen.safetensors")
    registry = package / "models.toml"
    code, out, err = zoo("registry", "add", "mine-gen", "--architecture", "toy-mlp",
                         "--file", str(package / "weights" / "gen.safetensors"), "--registry", str(registry))
    assert code == 0, err
    assert "bundled weights/gen.safetensors" in out
    (entry,) = parse_registry_file(registry)
    assert entry.weights.bundled == (package / "weights" / "gen.safetensors").resolve()
    assert entry.weights.repo_id is None and entry.weights.sha256 == sha256_file(toy["toy-gen"])
    code, _, err = zoo("registry", "add", "mine-gen", "--architecture", "toy-mlp", "--file", str(toy["toy-gen"]),
                       "--registry", str(tmp_path / "elsewhere" / "models.toml"))
    assert code == 2 and "must lie in the registry file's folder" in err and err.count("\n") == 1
    code, _, err = zoo("registry", "add", "mine-gen", "--architecture", "toy-mlp", "--repo-id", "me/x",
                       "--file", str(package / "weights" / "gen.safetensors"), "--registry", str(registry), "--force")
    assert code == 2 and "--repo-id and --revision go together" in err


@pytest.mark.parametrize("args, message", [
    (["--revision", "main"], "--revision 'main': give the full 40-hex commit"),
    (["--revision", COMMIT.upper()], "--revision"),
    (["--repo-id", "nope"], "--repo-id 'nope'"),
    (["--file", "missing.safetensors"], "--file missing.safetensors: no such file"),
    (["--registry", ""], "no registry file: pass --registry PATH or set ZOO_REGISTRY"),
    (["--name", "brand-new"], "--architecture: zoo knows no model 'brand-new'"),
    (["--architecture", "no-such-arch"], "--architecture 'no-such-arch': no installed plugin provides it"),
    (["--architecture", "toy-parents"], "causal-analyzer"),
])
def test_registry_add_errors_are_one_line(toy, zoo, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    values = {"--name": "toy-gen", "--repo-id": "me/gen", "--revision": COMMIT, "--file": str(toy["toy-gen"]),
              "--registry": str(tmp_path / "r.toml")}
    values.update(dict(zip(args[::2], args[1::2])))
    argv = ["registry", "add", values.pop("--name")]
    for flag, value in values.items():
        if value:
            argv += [flag, value]
    code, _, err = zoo(*argv)
    assert code == 2 and err.startswith("zoo: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "r.toml").exists()


def test_registry_add_refuses_weights_that_do_not_load_into_the_architecture(toy, zoo, tmp_path):
    registry = tmp_path / "r.toml"
    code, _, err = zoo("registry", "add", "wrong", "--architecture", "toy-conv-ae", "--repo-id", "me/gen",
                       "--revision", COMMIT, "--file", str(toy["toy-gen"]), "--registry", str(registry))
    assert code == 1 and "toy-conv-ae" in err and "does not load" in err and err.count("\n") == 1, err
    assert not registry.exists()  # an entry that 'zoo run' would reject is never written


def test_registry_add_refuses_a_file_that_is_not_safetensors(toy, zoo, tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x80\x02not safetensors at all")
    code, _, err = zoo("registry", "add", "toy-gen", "--repo-id", "me/gen", "--revision", COMMIT,
                       "--file", str(bad), "--registry", str(tmp_path / "r.toml"))
    assert code == 1 and err.count("\n") == 1 and not (tmp_path / "r.toml").exists()


def test_new_commands_do_not_import_torch_until_used():
    code = ("import sys, zoo_core.cli.export_cmd, zoo_core.cli.registry_cmds, zoo_core.cli.scaffold_cmd, "
            "zoo_core.scaffold; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_help_lists_the_new_commands(zoo):
    code, out, _ = zoo("--help")
    assert code == 0
    for command in ("new-plugin", "export", "registry"):
        assert command in out


def test_registry_add_through_a_link_writes_the_link_s_target(toy, zoo, tmp_path):
    """Issue 21.10: 'zoo registry add ... --registry link.toml' replaced the link with a file."""
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "models.toml"
    target.write_text("# mine\n")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    code, _, err = zoo("registry", "add", "toy-gen", "--repo-id", "me/gen", "--revision", COMMIT,
                       "--file", str(toy["toy-gen"]), "--registry", str(link))
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert [e.name for e in parse_registry_file(target)] == ["toy-gen"] and target.read_text().startswith("# mine")


def test_registry_add_force_with_architecture_keeps_the_entry_s_config(toy, zoo, tmp_path):
    """Issue 21.10: '--force' with '--architecture' dropped the existing entry's config."""
    registry = tmp_path / "r.toml"
    registry.write_text("[models.mine]\narchitecture = \"toy-cmlp\"\ntask = \"generator\"\n"
                        "description = \"three classes\"\n[models.mine.config]\nnum_classes = 3\n"
                        "[models.mine.weights]\nfilename = \"a.safetensors\"\n"
                        f"size = 1\nsha256 = \"{'0' * 64}\"\nrepo_id = \"me/a\"\nrevision = \"{COMMIT}\"\n")
    code, _, err = zoo("registry", "add", "mine", "--repo-id", "me/cgen", "--revision", "f" * 40, "--force",
                       "--architecture", "toy-cmlp", "--file", str(toy["toy-cgen"]), "--registry", str(registry))
    assert code == 0, err
    (mine,) = parse_registry_file(registry)
    assert dict(mine.config) == {"num_classes": 3} and mine.description == "three classes"
    assert mine.weights.revision == "f" * 40
