"""Write registry entries for zoo-causalgen's trained models from training output folders.

    python write_registry.py RUNS            # RUNS/models.toml pointing at RUNS/*/model.safetensors
    python write_registry.py RUNS --package  # copy weights into zoo_causalgen/weights, write its models.toml

Sizes and sha256 are computed from the files; metrics come from each run's eval.json (written
by `zoo eval NAME --json`), the recipe from its model card, the epochs and time from
training.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo_core.releases import bundle_weights, release_entry, run_metrics, training_recipe, write_fragment

PACKAGE = Path(__file__).resolve().parent.parent / "zoo_causalgen"
MODELS = {
    "causal-pendulum": "the pendulum scene's SCM (pendulum and light angles cause the shadow's length and "
                       "position) with a decoder and encoder learned from 64x64 renders",
}
UNITS = {"render_psnr": "dB", "counterfactual_psnr": "dB", "no_abduction_psnr": "dB", "factual_psnr": "dB"}


def how(key: str, setup: dict) -> str:
    num = setup.get("num", "?")
    base = f"zoo eval NAME --num {num}: {num} held-out units of the scene (test stream)"
    if key == "render_psnr":
        return base + "; median PSNR of the model's image of the true factors against the exact render"
    if key.startswith("read_mae_"):
        return base + f"; mean absolute error of {key[9:]} read back from the exact render"
    if key == "counterfactual_psnr":
        return base + "; median PSNR of the counterfactual under do(light_angle = v), v from its prior, " \
                      "against the exact counterfactual render"
    if key == "no_abduction_psnr":
        return base + "; the same for the exact renderer with the noise set to 0 (no abduction)"
    if key == "factual_psnr":
        return base + "; the same for the unchanged input image"
    if key.startswith("counterfactual_mae_"):
        return base + f"; mean absolute error of the counterfactual's {key[19:]} against the exact one"
    if key.startswith("no_abduction_mae_"):
        return base + f"; the same for {key[17:]} without abduction (noise set to 0)"
    return base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--package", action="store_true")
    args = parser.parse_args()
    entries = {}
    for name, description in MODELS.items():
        run = args.runs / name
        if not (run / "model.safetensors").exists():
            print(f"skipping {name}: no {run}/model.safetensors")
            continue
        bundled = bundle_weights(run, PACKAGE, name) if args.package else f"{name}/model.safetensors"
        entries[name] = release_entry(
            run, architecture="scene-causal-generator", task="causal-generator", description=description,
            plugin="zoo-causalgen", bundled=bundled, dataset="renders of zoo_causalgen.scenes.pendulum (exact, seeded)",
            recipe=training_recipe(run, where="2 shared CPU cores"),
            metrics=run_metrics(run, lambda key, setup: how(key, setup).replace("NAME", name), UNITS))
    target = PACKAGE / "models.toml" if args.package else args.runs / "models.toml"
    write_fragment(target, entries, header="zoo-causalgen's models, written by recipes/write_registry.py.")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
