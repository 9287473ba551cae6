"""Write registry entries for zoo-gan's trained models from a release.sh output folder.

    python write_registry.py RUNS            # RUNS/models.toml pointing at RUNS/*/model.safetensors
    python write_registry.py RUNS --package  # copy weights into zoo_gan/weights, write zoo_gan/models.toml

Sizes and sha256 are computed from the files; metrics come from each run's eval.json
(written by `zoo eval NAME --json`), the recipe from its model card (or RUN/NAME/recipe.txt,
for a release made in several steps), and the epochs and wall time from its training.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo_core.releases import bundle_weights, release_entry, run_metrics, training_recipe, write_fragment

PACKAGE = Path(__file__).resolve().parent.parent / "zoo_gan"
FASHION = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
MODELS = {
    "fashion-classifier": ("fashion-classifier", "encoder",
                           "Fashion-MNIST CNN; its 128 penultimate features measure generated images"),
    "dcgan-fashion": ("dcgan", "generator", "DCGAN trained on Fashion-MNIST (32x32 greyscale, padded from 28)"),
    "cdcgan-fashion": ("cdcgan", "generator",
                       "class-conditional DCGAN trained on Fashion-MNIST; --label picks the item"),
}
SAMPLES_VS_TEST = ("zoo eval {name}: 10,000 samples (seed 0) vs the 10,000 test images, in the feature space of "
                   "zoo's fashion-classifier (not Inception FID)")
HOW = {
    "test_accuracy": "zoo eval fashion-classifier: accuracy on the 10,000 Fashion-MNIST test images",
    "fd": SAMPLES_VS_TEST,
    "kid": SAMPLES_VS_TEST + "; mean over 100 subsets of 1,000",
    "kid_std": SAMPLES_VS_TEST + "; standard deviation over the 100 KID subsets",
    "fd_floor": "zoo eval {name}: 10,000 training images (seed 0) vs the 10,000 test images: the best a model "
                "can expect",
    "kid_floor": "zoo eval {name}: KID of 10,000 training images vs the 10,000 test images",
    "fd_blurred_test": "zoo eval {name}: test images blurred (Gaussian, sigma 1 px) vs the same test images; "
                       "a sanity check that the metric punishes blur",
    "fd_noised_test": "zoo eval {name}: test images plus Gaussian noise (sigma 0.2) vs the same test images; "
                      "a sanity check that the metric punishes noise",
    "class_accuracy": "zoo eval {name}: the classifier's accuracy on 1,000 samples of each requested class, "
                      "averaged over the 10 classes",
}


def how(key: str, name: str) -> str:
    """How metric ``key`` of ``name`` was measured (the eval.json key)."""
    if key.startswith("class_accuracy_"):
        label = int(key.rsplit("_", 1)[1])
        return (f"zoo eval {name}: the classifier's accuracy on 1,000 samples requested as class {label} "
                f"({FASHION[label]})")
    return HOW[key].format(name=name)


def entry(name: str, run: Path, bundled: str) -> dict:
    architecture, task, description = MODELS[name]
    return release_entry(
        run, architecture=architecture, task=task, description=description, plugin="zoo-gan", bundled=bundled,
        dataset="Fashion-MNIST (Xiao et al. 2017), 60k train / 10k test, MIT licence",
        recipe=(run / "recipe.txt").read_text().strip() if (run / "recipe.txt").exists() else training_recipe(run),
        classes=FASHION if architecture == "cdcgan" else (),
        metrics=run_metrics(run, lambda key, setup: how(key, name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--package", action="store_true", help="copy the weights into the zoo_gan package")
    parser.add_argument("--keep-others", action="store_true",
                        help="keep the target's entries for models RUNS does not hold (re-releasing one model)")
    args = parser.parse_args()
    entries = {}
    for name in MODELS:
        run = args.runs / name
        if not (run / "model.safetensors").exists():
            print(f"skipping {name}: no {run}/model.safetensors")
            continue
        bundled = bundle_weights(run, PACKAGE, name) if args.package else f"{name}/model.safetensors"
        entries[name] = entry(name, run, bundled)
    target = PACKAGE / "models.toml" if args.package else args.runs / "models.toml"
    write_fragment(target, entries, keep_others=args.keep_others,
                   header="zoo-gan's models, written by recipes/write_registry.py from a recipes/release.sh run.")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
