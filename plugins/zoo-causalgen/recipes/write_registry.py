"""Write registry entries for zoo-causalgen's trained models from training output folders.

    python write_registry.py RUNS            # RUNS/models.toml pointing at RUNS/*/model.safetensors
    python write_registry.py RUNS --package  # copy weights into zoo_causalgen/weights, write its models.toml

Sizes and sha256 are computed from the files; metrics come from each run's eval.json (written
by `zoo eval NAME --json`), the recipe from its model card, the epochs and time from
training.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zoo_core.releases import bundle_weights, release_entry, run_metrics, training_recipe, write_fragment

PACKAGE = Path(__file__).resolve().parent.parent / "zoo_causalgen"
MODELS = {
    "causal-pendulum": ("scene-causal-generator", "causal-generator",
                        "the pendulum scene's SCM (pendulum and light angles cause the shadow's length and "
                        "position) with a decoder and encoder learned from 64x64 renders"),
    "causal-fashion": ("scene-causal-generator", "causal-generator",
                       "a Fashion-MNIST garment (the image noise, 16 learned dimensions) scaled and dimmed by an "
                       "SCM (class -> scale -> brightness), 32x32; do(scale) makes this very garment larger"),
    "pendulum-oracle": ("factor-regressor", "encoder",
                        "reads the pendulum scene's four factors from a 64x64 image (latents: the factors scaled "
                        "to [-1, 1]); trained on exact renders, the judge zoo eval causal-pendulum uses"),
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
        return base + "; median PSNR of the counterfactual under do(light_angle = v) (fashion: do(scale = v)), " \
                      "v from its support, against the exact counterfactual render"
    if key == "no_abduction_psnr":
        return base + "; the same for the exact renderer with the noise set to 0 (no abduction)"
    if key == "factual_psnr":
        return base + "; the same for the unchanged input image"
    if key.startswith("counterfactual_mae_"):
        return base + f"; mean absolute error of the counterfactual's {key[19:]} against the exact one"
    if key.startswith("no_abduction_mae_"):
        return base + f"; the same for {key[17:]} without abduction (noise set to 0)"
    judge = "zoo eval NAME --num {num}: read back from generated images by pendulum-oracle".format(num=num)
    if key.startswith("oracle_r2_") and key.endswith("_in_window"):
        return base + f"; R^2 of pendulum-oracle's read-out of {key[10:-10]} from the exact held-out renders " \
                      "whose shadow lies wholly inside the window"
    if key.startswith("oracle_r2_"):
        return base + f"; R^2 of pendulum-oracle's read-out of {key[10:]} from the exact held-out renders"
    if key.startswith("do_mae_"):
        return judge + f"; under do({key[7:]} = v), 5 values x 200 images: mean absolute error of the read-out from v"
    if key.startswith("mechanism_residual_"):
        stat, child = key[19:].split("_", 1)
        return judge + f"; under do() of either angle, {child} minus its mechanism of the read angles, over " \
                       f"sigma ({stat}; a standard normal when the mechanism holds)"
    if key.startswith("nondescendant_shift_"):
        return judge + f"; under do() of a shadow factor, the largest shift of {key[20:]}'s mean from its " \
                       "observational mean, in its standard deviations (200 images per value)"
    if key.startswith("composition_psnr_"):
        return base + f"; the null intervention do(light_angle = its abducted value) applied {key[17:]} time(s) " \
                      "to 200 exact renders: median PSNR against the input"
    if key == "reversibility_psnr":
        return base + "; do(light_angle = v') then back to the true value, 200 exact renders: median PSNR vs the input"
    if key.endswith("_exact"):
        return "the exact mean of light_angle " + ("given shadow_length = 12 (numerical integral)" if
                                                   key.startswith("given") else "under do(shadow_length = 12): its prior mean")
    if key == "read_class_accuracy":
        return base + "; fraction of garments whose class the encoder reads back (rounded) correctly"
    if key == "class_kept":
        return base + "; fraction of do(scale = v) counterfactuals zoo-gan's fashion-classifier puts in the " \
                      "garment's own class"
    if key == "class_kept_exact":
        return base + "; the same for the exact counterfactual renders (the classifier's own ceiling)"
    if key == "sample_fd":
        return f"zoo eval NAME --num {num}: {num} samples vs {num} exact renders of test garments, Frechet " \
               "distance in fashion-classifier's feature space (not Inception FID)"
    if key == "sample_fd_floor":
        return f"zoo eval NAME --num {num}: {num} exact renders of training garments vs the {num} test renders, " \
               "the same distance: the best a model can expect"
    if key.startswith("discovery_"):
        test = "Fisher-z" if key.endswith("fisherz") else "the G-test on 6 quantile bins per column"
        what = {"same_graph": "1 if PC finds the same CPDAG on 5,000 factor rows read back (by pendulum-oracle) from "
                              "generated images as on 5,000 true rows of the scene, else 0",
                "edges_model": "edges PC finds on the 5,000 rows read back from generated images",
                "edges_truth": "edges PC finds on 5,000 true rows of the scene"}
        kind = next(k for k in what if key.startswith(f"discovery_{k}"))
        return f"zoo eval NAME (same run): {what[kind]}; zoo-docalculus's PC with {test}, alpha 0.05"
    if key in ("given_light_mean", "do_light_mean"):
        how_ = "given shadow_length = 12" if key.startswith("given") else "under do(shadow_length = 12)"
        return judge + f"; mean light_angle of 1,000 images {how_}"
    return base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--package", action="store_true")
    args = parser.parse_args()
    entries = {}
    for name, (architecture, task, description) in MODELS.items():
        run = args.runs / name
        if not (run / "model.safetensors").exists():
            print(f"skipping {name}: no {run}/model.safetensors")
            continue
        bundled = bundle_weights(run, PACKAGE, name) if args.package else f"{name}/model.safetensors"
        if task == "encoder":  # the oracle: its held-out R^2 from training
            best = json.loads((run / "training.json").read_text())["best"]
            metrics = {k[4:]: {"value": v, "how": "held-out R^2 on 1,000 exact renders from another seed (zoo train "
                                                  "factor-regressor's validation set), factors in their own units"}
                       for k, v in best.items() if k.startswith("val_r2_")}
        else:
            metrics = run_metrics(run, lambda key, setup: how(key, setup).replace("NAME", name), UNITS)
        entries[name] = release_entry(
            run, architecture=architecture, task=task, description=description,
            plugin="zoo-causalgen", bundled=bundled,
            dataset=("Fashion-MNIST garments (Xiao et al. 2017, MIT) rendered by zoo_causalgen.scenes.fashion"
                     if "fashion" in name else "renders of zoo_causalgen.scenes.pendulum (exact, seeded)"),
            recipe=training_recipe(run, where="2 shared CPU cores"), metrics=metrics)
    target = PACKAGE / "models.toml" if args.package else args.runs / "models.toml"
    write_fragment(target, entries, header="zoo-causalgen's models, written by recipes/write_registry.py.")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
