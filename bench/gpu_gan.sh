#!/usr/bin/env bash
# One GPU session for zoo-gan: train the release models with the commands of
# plugins/zoo-gan/recipes/release.sh (a feature classifier already in .data/runs is reused),
# evaluate them, pack the model repos into $OUT, then time sampling and training.
# Expects Fashion-MNIST's IDX files in .data/fashion-mnist (carried to the machine).
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_DISABLE_XET=1 ZOO_FASHION_MNIST_DIR=$PWD/.data/fashion-mnist
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -m pip install -q --no-deps --no-build-isolation -e . -e plugins/zoo-gan || exit 1
runs=/tmp/runs
mkdir -p $runs && cp -r .data/runs/* $runs/ 2>/dev/null
zoo() { python3 -m zoo_core "$@"; }
[ -f $runs/fashion-classifier/training.json ] || \
    zoo train fashion-classifier --out $runs/fashion-classifier --epochs 20 --patience 3 --quiet --device cuda
timeout "${CDCGAN_SECONDS:-170}" python3 -m zoo_core train cdcgan --out $runs/cdcgan-fashion \
    --classifier $runs/fashion-classifier --epochs 60 --patience 6 --quiet --device cuda
echo "cdcgan exit $?"
timeout "${DCGAN_SECONDS:-190}" python3 -m zoo_core train dcgan --out $runs/dcgan-fashion \
    --classifier $runs/fashion-classifier --epochs 60 --patience 6 --quiet --device cuda
echo "dcgan exit $?"
python3 plugins/zoo-gan/recipes/write_registry.py $runs
for name in dcgan-fashion cdcgan-fashion; do
    ZOO_REGISTRY=$runs/models.toml zoo eval $name --classifier $runs/fashion-classifier --json > $runs/$name/eval.json
    tar -C $runs -cf "$OUT/$name.tar" --exclude checkpoint.safetensors "$name"
done
grep -h '"fd"\|class_accuracy"' $runs/*/eval.json
timeout 45 python3 bench/bench_gan.py --device cuda --batches 30 --steps 60
