#!/usr/bin/env bash
# Reproduce zoo-vae's bundled conv VAE and its registry metrics: train on the CPU until the
# held-out negative ELBO stops improving, then evaluate with `zoo eval` (needs zoo-gan for the
# fashion-classifier feature space of the sample Fréchet distance).
#
#   plugins/zoo-vae/recipes/release.sh OUT_DIR [extra options for `zoo train`]
#
# Then `python plugins/zoo-vae/recipes/write_registry.py OUT_DIR --package` copies the weights
# into the plugin and writes its models.toml with size, sha256, recipe and metrics.
set -euo pipefail
out=${1:?usage: release.sh OUT_DIR [train options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
zoo() { python3 -m zoo_core "$@"; }

zoo train conv-vae --out "$out/conv-vae-fashion" --device cpu --quiet "$@"

python3 "$here/write_registry.py" "$out"
ZOO_REGISTRY="$out/models.toml" zoo eval conv-vae-fashion --device cpu --json > "$out/conv-vae-fashion/eval.json"
cat "$out/conv-vae-fashion/eval.json"
