"""Write registry entries for zoo-gan's trained models from a release.sh output folder.

    python write_registry.py RUNS            # RUNS/models.toml pointing at RUNS/*/model.safetensors
    python write_registry.py RUNS --package  # copy weights into zoo_gan/weights, write zoo_gan/models.toml

Sizes and sha256 are computed from the files; metrics come from each run's eval.json
(written by `zoo eval NAME --json`), the recipe from its model card, and the epochs and
wall time from its training.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
from pathlib import Path

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
    if key.startswith("class_accuracy_"):
        label = int(key.rsplit("_", 1)[1])
        return (f"zoo eval {name}: the classifier's accuracy on 1,000 samples requested as class {label} "
                f"({FASHION[label]})")
    return HOW[key].format(name=name)


def toml_value(value: object) -> str:
    return json.dumps(value) if not isinstance(value, float) else repr(value)


def entry(name: str, run: Path, bundled: str) -> str:
    architecture, task, description = MODELS[name]
    weights = run / "model.safetensors"
    data = weights.read_bytes()
    config = json.loads((run / "config.json").read_text())
    training = json.loads((run / "training.json").read_text())
    card = (run / "README.md").read_text()
    match = re.search(r"```bash\n(.*?)\n```", card, re.S)
    command = match.group(1).strip() if match else "see README"
    recipe = (f"{command}  (stopped after {training['epochs']} epochs, best epoch {training['best_epoch']}, "
              f"{training['seconds'] / 60:.1f} min of training at {training['images_per_second']:.0f} images/s)")
    lines = [
        f"[models.{name}]",
        f'architecture = "{architecture}"',
        f'task = "{task}"',
        f"description = {toml_value(description)}",
        'plugin = "zoo-gan"',
        'license = "apache-2.0"',
        'dataset = "Fashion-MNIST (Xiao et al. 2017), 60k train / 10k test, MIT licence"',
        f"recipe = {toml_value(recipe)}",
        "config = { " + ", ".join(f"{k} = {toml_value(v)}" for k, v in config.items()) + " }",
    ]
    if architecture == "cdcgan":
        lines.append("classes = " + json.dumps(FASHION))
    lines += [
        "",
        f"[models.{name}.weights]",
        'filename = "model.safetensors"',
        f"size = {len(data)}",
        f'sha256 = "{hashlib.sha256(data).hexdigest()}"',
        f'bundled = "{bundled}"',
    ]
    evaluation = run / "eval.json"
    if evaluation.exists():
        metrics = json.loads(evaluation.read_text())["metrics"]
        for key, value in metrics.items():
            lines += ["", f"[models.{name}.metrics.{key}]", f"value = {value!r}", f"how = {toml_value(how(key, name))}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--package", action="store_true", help="copy the weights into the zoo_gan package")
    args = parser.parse_args()
    header = "# zoo-gan's models, written by recipes/write_registry.py from a recipes/release.sh run.\n"
    blocks = []
    for name in MODELS:
        run = args.runs / name
        if not (run / "model.safetensors").exists():
            print(f"skipping {name}: no {run}/model.safetensors")
            continue
        if args.package:
            (PACKAGE / "weights").mkdir(exist_ok=True)
            shutil.copyfile(run / "model.safetensors", PACKAGE / "weights" / f"{name}.safetensors")
            blocks.append(entry(name, run, f"weights/{name}.safetensors"))
        else:
            blocks.append(entry(name, run, f"{name}/model.safetensors"))
    target = PACKAGE / "models.toml" if args.package else args.runs / "models.toml"
    target.write_text(header + "\n" + "\n".join(blocks))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
