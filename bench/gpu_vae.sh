#!/usr/bin/env bash
# One GPU session for zoo-vae (not run yet: the session that wrote it had no GPU).
# fp16/bf16/fp32 encode+decode throughput of TAESD and the KL VAE at 512² and 1024² (versus
# diffusers where it is installed; the GPU machine is offline, so otherwise zoo alone), then
# peak GPU memory of tiled versus untiled decode: TAESD at 2048², KL at 1024².
# Weights are random at the real configs (speed and memory do not depend on them).
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_DISABLE_XET=1 HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -m pip install -q --no-deps --no-build-isolation -e . -e plugins/zoo-vae || exit 1
python3 -c "import diffusers; print('diffusers', diffusers.__version__)" 2>/dev/null || echo "diffusers: not installed"
for dtype in float32 float16 bfloat16; do
    timeout 120 python3 bench/bench_vae.py throughput --device cuda --dtype $dtype --models taesd,kl \
        --sizes 512,1024 --batch 1 --repeats 10
done
timeout 120 python3 bench/bench_vae.py memory --device cuda --dtype float16 --models taesd --sizes 2048 --tile 512
timeout 120 python3 bench/bench_vae.py memory --device cuda --dtype float16 --models kl --sizes 1024 --tile 512
timeout 60 python3 bench/bench_vae.py train --device cuda --images 51200 --repeats 3
# Tiled vs untiled quality needs the real weights: only if they are in the HF cache carried along.
for name in sdxl-vae sd-vae-ft-mse taesd; do
    timeout 60 python3 bench/bench_vae.py seams $name --device cuda --size 1024 --tile 512 2>&1 | tail -1
done
