"""Write the registry entry for zoo-vae's trained conv VAE from a release.sh output folder.

    python write_registry.py RUNS            # RUNS/models.toml pointing at RUNS/conv-vae-fashion/model.safetensors
    python write_registry.py RUNS --package  # copy the weights into zoo_vae/weights, write zoo_vae/models.toml

Size and sha256 are computed from the file; metrics come from the run's eval.json (written by
`zoo eval conv-vae-fashion --json`), the recipe from its model card, epochs and wall time from
its training.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo_core.releases import bundle_weights, release_entry, run_metrics, training_recipe, write_fragment

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


def entry(run: Path, bundled: str) -> dict:
    def how(key: str, setup: dict) -> str:
        return HOW[key].format(name=NAME, k=setup["k"], samples=f"{setup['samples']:,}")

    return release_entry(
        run, architecture="conv-vae", task="autoencoder", description=DESCRIPTION, plugin="zoo-vae", bundled=bundled,
        dataset="Fashion-MNIST (Xiao et al. 2017), 55k train / 5k held out from train / 10k test, MIT licence",
        recipe=training_recipe(run, where="2 shared CPU cores"), tags=["vae", "fashion-mnist"],
        metrics=run_metrics(run, how, UNITS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--package", action="store_true", help="copy the weights into the zoo_vae package")
    args = parser.parse_args()
    run = args.runs / NAME
    bundled = bundle_weights(run, PACKAGE, NAME) if args.package else f"{NAME}/model.safetensors"
    target = PACKAGE / "models.toml" if args.package else args.runs / "models.toml"
    write_fragment(target, {NAME: entry(run, bundled)},
                   header="zoo-vae's bundled models, written by recipes/write_registry.py from a recipes/release.sh run.")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
