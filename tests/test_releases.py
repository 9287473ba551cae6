"""zoo_core.releases, and zoo-gan's and zoo-vae's write_registry.py built on it: from training
output folders to a validated registry fragment pinning the weights."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from zoo_core.registry import parse_registry_file
from zoo_core.releases import release_entry, run_metrics, training_recipe, write_fragment

REPO = Path(__file__).resolve().parent.parent


def _run_folder(folder: Path, *, resumed: bool = False, metrics: dict | None = None, setup: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights of " + folder.name.encode())
    (folder / "config.json").write_text(json.dumps({"width": 8, "latent_dim": 4}))
    (folder / "training.json").write_text(json.dumps({"epochs": 12, "best_epoch": 9, "seconds": 90.0,
                                                      "images_per_second": 1234.4, "stopped_early": True}))
    command = f"zoo train x --out {folder}" + (" --resume" if resumed else "")
    (folder / "README.md").write_text(f"---\nlicense: mit\n---\n# x\n\n## Recipe\n\n```bash\n{command}\n```\n")
    if metrics is not None:
        (folder / "eval.json").write_text(json.dumps({"metrics": metrics, "setup": setup or {}}))
    return folder


def test_a_release_entry_pins_the_file_and_records_the_recipe(tmp_path):
    run = _run_folder(tmp_path / "m", resumed=True, metrics={"fd": 1.5}, setup={"samples": 10})
    recipe = training_recipe(run, where="2 CPU cores")
    assert recipe.startswith(f"zoo train x --out {run}  (") and "--resume  (" not in recipe
    assert "continued with --resume, stopped early after 12 epochs, best epoch 9, 1.5 min" in recipe
    assert recipe.endswith("1234 images/s on 2 CPU cores)")
    metrics = run_metrics(run, lambda key, setup: f"{key} over {setup['samples']}", {"fd": "nats"})
    assert metrics == {"fd": {"value": 1.5, "how": "fd over 10", "unit": "nats"}}
    table = release_entry(run, architecture="dcgan", task="generator", description="d", plugin="zoo-gan",
                          bundled="m/model.safetensors", recipe=recipe, metrics=metrics, classes=["a", "b"])
    target = write_fragment(tmp_path / "models.toml", {"m-model": table}, header="made by a test")
    assert target.read_text().startswith("# made by a test\n")
    (entry,) = parse_registry_file(target)
    data = (run / "model.safetensors").read_bytes()
    assert entry.weights.sha256 == hashlib.sha256(data).hexdigest() and entry.weights.size == len(data)
    assert entry.weights.bundled == (run / "model.safetensors").resolve() and entry.classes == ("a", "b")
    assert dict(entry.config) == {"width": 8, "latent_dim": 4} and entry.metrics["fd"].unit == "nats"


def test_the_plugins_release_scripts_write_fragments_zoo_reads(tmp_path):
    runs = tmp_path / "runs"
    _run_folder(runs / "dcgan-fashion", metrics={"fd": 1.58, "class_accuracy_7": 1.0})
    _run_folder(runs / "conv-vae-fashion", metrics={"neg_elbo": 236.1, "fd": 14.9}, setup={"k": 100, "samples": 10000})
    for plugin in ("zoo-gan", "zoo-vae"):
        script = REPO / "plugins" / plugin / "recipes" / "write_registry.py"
        done = subprocess.run([sys.executable, str(script), str(runs)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        entries = {e.name: e for e in parse_registry_file(runs / "models.toml")}
        if plugin == "zoo-gan":
            assert set(entries) == {"dcgan-fashion"}  # the runs that exist; the others are skipped
            assert "sneaker" in entries["dcgan-fashion"].metrics["class_accuracy_7"].how
        else:
            vae = entries["conv-vae-fashion"]
            assert vae.metrics["neg_elbo"].unit == "nats" and "10,000 prior samples" in vae.metrics["fd"].how
            assert vae.recipe.endswith("on 2 shared CPU cores)")


def test_a_partial_release_keeps_the_other_entries(tmp_path):
    first = _run_folder(tmp_path / "a")
    second = _run_folder(tmp_path / "b")
    target = tmp_path / "models.toml"
    common = dict(architecture="dcgan", task="generator", description="d", plugin="zoo-gan", recipe="r")
    write_fragment(target, {"model-a": release_entry(first, bundled="a/model.safetensors", **common),
                            "model-b": release_entry(second, bundled="b/model.safetensors", **common)}, header="h")
    (second / "model.safetensors").write_bytes(b"retrained")
    write_fragment(target, {"model-b": release_entry(second, bundled="b/model.safetensors", **common)}, header="h",
                   keep_others=True)
    entries = {e.name: e for e in parse_registry_file(target)}
    assert list(entries) == ["model-a", "model-b"]
    assert entries["model-b"].weights.sha256 == hashlib.sha256(b"retrained").hexdigest()
    assert entries["model-a"].weights.sha256 == hashlib.sha256((first / "model.safetensors").read_bytes()).hexdigest()


def test_export_checkpoint_releases_the_last_epoch_and_says_so(tmp_path):
    # zoo-gan's recipe for a constraint the monitor does not know: the checkpoint's weights
    # replace the best-by-monitor ones, and training.json names the released epoch
    import torch
    from safetensors.torch import load_file, save_file

    run = tmp_path / "cdc"
    run.mkdir()
    best = {"w": torch.zeros(2), "b": torch.zeros(1)}
    last = {"w": torch.ones(2), "b": torch.full((1,), 2.0)}
    save_file(best, str(run / "model.safetensors"))
    history = [{"epoch": 1, "fd": 3.0, "acc": 0.9, "seconds": 1.0}, {"epoch": 2, "fd": 4.0, "acc": 0.96, "seconds": 1.0}]
    trainer = {"epoch": 2, "best_epoch": 1, "best": {"fd": 3.0, "acc": 0.9}, "history": history}
    save_file({f"module.gan.{k}": v for k, v in last.items()} | {"opt.state": torch.zeros(3)},
              str(run / "checkpoint.safetensors"), metadata={"trainer": json.dumps(trainer), "optimizers": "{}"})
    (run / "training.json").write_text(json.dumps({"epochs": 2, "best_epoch": 1, "best": {"fd": 3.0, "acc": 0.9},
                                                   "history": history, "seconds": 2.0}))
    script = REPO / "plugins" / "zoo-gan" / "recipes" / "export_checkpoint.py"
    result = subprocess.run([sys.executable, str(script), str(run)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    released = load_file(str(run / "model.safetensors"))
    assert set(released) == set(last) and all(torch.equal(released[k], last[k]) for k in last)
    training = json.loads((run / "training.json").read_text())
    assert training["best_epoch"] == 2 and training["best"] == {"fd": 4.0, "acc": 0.96}
    assert training["released_from_checkpoint"] is True and training["best_by_monitor_epoch"] == 1
