#!/usr/bin/env bash
# The GPU checks, as one script for a machine with a CUDA device (run from the repo root):
# the CUDA tests, then the load benchmark on the GPU and on that machine's CPU.
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_DISABLE_XET=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, huggingface_hub, safetensors; print('torch', torch.__version__, 'hf', huggingface_hub.__version__, 'safetensors', safetensors.__version__)"
python3 -m pip install -q --no-deps --no-build-isolation -e . || exit 1
python3 -m pytest -q -p no:cacheprovider tests/test_loading.py tests/test_cli.py tests/test_api.py tests/test_weights.py -rs 2>&1 | tail -15
python3 bench/bench_load.py --device cuda --runs 7
python3 bench/bench_load.py --device cpu --runs 5
