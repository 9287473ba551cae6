#!/usr/bin/env bash
# Reproduce zoo-gan's shipped weights and their metrics: the feature classifier, then the
# unconditional and the class-conditional DCGAN, each trained until its held-out metric
# stops improving, then evaluated with `zoo eval`.
#
#   plugins/zoo-gan/recipes/release.sh OUT_DIR [extra options for every `zoo train`]
#
# Then `python plugins/zoo-gan/recipes/write_registry.py OUT_DIR --package` copies the
# weights into the plugin and writes its models.toml with sizes, sha256 and metrics.
set -euo pipefail
out=${1:?usage: release.sh OUT_DIR [train options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
zoo() { python3 -m zoo_core "$@"; }

zoo train fashion-classifier --out "$out/fashion-classifier" --epochs 20 --patience 3 --quiet "$@"
zoo train dcgan --out "$out/dcgan-fashion" --classifier "$out/fashion-classifier" --epochs 60 --patience 6 \
    --quiet "$@"
# The conditional GAN starts from the unconditional one (varied images first, classes second),
# trains 7 epochs with the auxiliary classifier's loss at weight 1, then one at weight 2; the
# last epoch is released (export_checkpoint.py): it keeps >= 95% of samples in their class,
# which the class_fd monitor alone traded away (it would keep epoch 6, at 94%).
cdc=(--out "$out/cdcgan-fashion" --classifier "$out/fashion-classifier" --init-from "$out/dcgan-fashion"
     --patience 4 --eval-samples 5000 --quiet "$@")
zoo train cdcgan "${cdc[@]}" --epochs 7 --ac-weight 1.0
zoo train cdcgan "${cdc[@]}" --resume --epochs 8 --ac-weight 2.0
python3 "$here/export_checkpoint.py" "$out/cdcgan-fashion"

# Evaluate through a registry that points at the fresh outputs.
python3 "$here/write_registry.py" "$out"
for name in fashion-classifier dcgan-fashion cdcgan-fashion; do
    ZOO_REGISTRY="$out/models.toml" zoo eval "$name" --classifier "$out/fashion-classifier" --json \
        > "$out/$name/eval.json"
    cat "$out/$name/eval.json"
done
