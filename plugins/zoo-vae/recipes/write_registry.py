"""Write the registry entry for zoo-vae's trained conv VAE from a release.sh output folder.

    python write_registry.py RUNS            # RUNS/models.toml pointing at RUNS/conv-vae-fashion/model.safetensors
    python write_registry.py RUNS --package  # copy the weights into zoo_vae/weights, write zoo_vae/models.toml

Size and sha256 are computed from the file; metrics come from the run's eval.json (written by
`zoo eval conv-vae-fashion --json`), the recipe from its model card, epochs and wall time from
its training.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "zoo_vae"
NAME = "conv-vae-fashion"
DESCRIPTION = "conv VAE trained on Fashion-MNIST (28x28 greyscale, 32-d latent, Bernoulli decoder on grey levels)"
LIKELIHOOD = ("under a Bernoulli likelihood on grey levels in [0, 1] (pixel-wise cross-entropy with the grey level "
              "as target; not a normalised likelihood for non-binary pixels, so comparable only with numbers "
              "measured the same way, not with MNIST or binarised-MNIST results)")
TEST = "on the 10,000 Fashion-MNIST test images"
HOW = {
    "neg_elbo": "zoo eval {name}: -ELBO in nats per image " + TEST + ", one posterior sample per image (seed 0), "
                + LIKELIHOOD,
    "neg_elbo_bpd": "zoo eval {name}: -ELBO in bits per dimension (nats / (784 ln 2)) " + TEST,
    "reconstruction_nats": "zoo eval {name}: -E_q[log p(x|z)], the ELBO's reconstruction term, nats per image " + TEST,
    "kl_nats": "zoo eval {name}: KL(q(z|x) || N(0, I)), the ELBO's KL term (closed form), nats per image " + TEST,
    "iwae_nll": "zoo eval {name}: importance-weighted bound on -log p(x) (Burda et al. 2016) with k = {k} samples "
                "per image, nats per image " + TEST + ", " + LIKELIHOOD,
    "iwae_nll_bpd": "zoo eval {name}: the IWAE bound (k = {k}) in bits per dimension " + TEST,
    "recon_psnr_db": "zoo eval {name}: mean per-image PSNR (dB, peak-to-peak 2 on [-1, 1]) of decode(posterior "
                     "mean) against the image, " + TEST,
    "fd": "zoo eval {name}: Fréchet distance between {samples} prior samples (seed 0) and the 10,000 test images, "
          "in the feature space of zoo-gan's fashion-classifier (images padded 28->32; not Inception FID)",
    "fd_floor": "zoo eval {name}: 10,000 training images vs the 10,000 test images in the same feature space: "
                "the best a model can expect",
}
UNITS = {"neg_elbo": "nats", "reconstruction_nats": "nats", "kl_nats": "nats", "iwae_nll": "nats",
         "neg_elbo_bpd": "bits/dim", "iwae_nll_bpd": "bits/dim", "recon_psnr_db": "dB"}


def toml_value(value: object) -> str:
    return json.dumps(value) if not isinstance(value, float) else repr(value)


def entry(run: Path, bundled: str) -> str:
    weights = run / "model.safetensors"
    data = weights.read_bytes()
    config = json.loads((run / "config.json").read_text())
    training = json.loads((run / "training.json").read_text())
    card = (run / "README.md").read_text()
    match = re.search(r"```bash\n(.*?)\n```", card, re.S)
    command = match.group(1).strip() if match else "see README"
    stop = "stopped early" if training["stopped_early"] else "reached --epochs"
    if " --resume" in command:  # fit resumes with the same batches and RNG state as an uninterrupted run
        command = command.replace(" --resume", "")
        stop = "interrupted and continued with --resume, " + stop
    recipe = (f"{command}  ({stop} after {training['epochs']} epochs, best epoch {training['best_epoch']}, "
              f"{training['seconds'] / 60:.1f} min of training at {training['images_per_second']:.0f} images/s on "
              f"2 shared CPU cores)")
    lines = [
        f"[models.{NAME}]",
        'architecture = "conv-vae"',
        'task = "autoencoder"',
        f"description = {toml_value(DESCRIPTION)}",
        'plugin = "zoo-vae"',
        'license = "apache-2.0"',
        'dataset = "Fashion-MNIST (Xiao et al. 2017), 55k train / 5k held out from train / 10k test, MIT licence"',
        f"recipe = {toml_value(recipe)}",
        "config = { " + ", ".join(f"{k} = {toml_value(v)}" for k, v in config.items()) + " }",
        'tags = ["vae", "fashion-mnist"]',
        "",
        f"[models.{NAME}.weights]",
        'filename = "model.safetensors"',
        f"size = {len(data)}",
        f'sha256 = "{hashlib.sha256(data).hexdigest()}"',
        f'bundled = "{bundled}"',
    ]
    evaluation = run / "eval.json"
    if evaluation.exists():
        report = json.loads(evaluation.read_text())
        setup = report["setup"]
        for key, value in report["metrics"].items():
            how = HOW[key].format(name=NAME, k=setup["k"], samples=f"{setup['samples']:,}")
            lines += ["", f"[models.{NAME}.metrics.{key}]", f"value = {value!r}", f"how = {toml_value(how)}"]
            if key in UNITS:
                lines.append(f'unit = "{UNITS[key]}"')
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--package", action="store_true", help="copy the weights into the zoo_vae package")
    args = parser.parse_args()
    run = args.runs / NAME
    header = "# zoo-vae's bundled models, written by recipes/write_registry.py from a recipes/release.sh run.\n"
    if args.package:
        (PACKAGE / "weights").mkdir(exist_ok=True)
        shutil.copyfile(run / "model.safetensors", PACKAGE / "weights" / f"{NAME}.safetensors")
        block, target = entry(run, f"weights/{NAME}.safetensors"), PACKAGE / "models.toml"
    else:
        block, target = entry(run, f"{NAME}/model.safetensors"), args.runs / "models.toml"
    target.write_text(header + "\n" + block)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
