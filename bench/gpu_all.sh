#!/usr/bin/env bash
# zoo's one GPU session (replaces gpu_check.sh, gpu_gan.sh and gpu_vae.sh): at most 5 minutes on
# one CUDA device, run from the repo root. Every step has its own time limit, so one that hangs
# costs only its share. Carry the test-only reference wheels in .whl (spandrel 0.4.2, aura-sr
# 0.0.4, einops: pip download --no-deps, as the device tool's README says).
#
#   bash bench/gpu_all.sh 2>&1 | tee $OUT/gpu.log
#
# What it measures, each against a reference in the same run:
#   1. the CUDA tests: loading straight onto the GPU in fp16, the same latents on any device,
#      device 'auto', zoo run on cuda, the upscalers' parity on cuda (skipped without the wheels)
#   2. Real-ESRGAN and AuraSR-v2 images/s at 256 -> 1024 in fp32/fp16/bf16 vs spandrel / aura-sr
#   3. TAESD and the KL VAE: fp16/bf16 decode throughput and whether the outputs stay finite
#      (random weights: the SD VAEs' known fp16 overflow shows only with real weights; zoo's KL
#      decoder runs its up blocks in fp32 when the model is fp16, as diffusers' pipelines do, and
#      is timed against diffusers' plain fp16 decode)
#   4. peak GPU memory loading a 512 MiB float32 file as float16 (zoo vs load_file vs construct)
#   5. DCGAN training images/s: zoo's fit vs a plain loop; sampling (eager, folded, CUDA graph)
# One GPU cannot test the multi-GPU paths (NCCL all-reduce, SyncBatchNorm across ranks,
# several ranks upscaling a folder on several GPUs); their CPU/gloo versions are tested in CI.
set -uo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_DISABLE_XET=1 HF_HUB_OFFLINE=1
start=$SECONDS
step() { echo; echo "== $1 (t=$((SECONDS - start)) s)"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && \
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
python3 -m pip install -q --no-deps --no-build-isolation -e . -e plugins/zoo-gan -e plugins/zoo-vae || exit 1

step "1. CUDA tests"
timeout 100 python3 -m pytest -q -p no:cacheprovider -m "not slow" -rs tests/test_loading.py tests/test_cli.py \
    tests/test_api.py tests/test_run_api.py plugins/zoo-gan/tests/test_upscalers.py 2>&1 | tail -12

step "2. upscalers vs references, 256 -> 1024"
timeout 70 python3 bench/bench_upscale.py throughput --device cuda --models esrgan --size 256 --repeats 5 \
    --dtypes float32,float16,bfloat16
timeout 60 python3 bench/bench_upscale.py throughput --device cuda --models aurasr --batch 16 --repeats 5 \
    --dtypes float32,float16,bfloat16   # 16 tiles of 64 px: one 256 px image

step "3. VAEs: fp16/bf16 decode, finiteness"
for dtype in float16 bfloat16; do
    timeout 40 python3 bench/bench_vae.py throughput --device cuda --dtype $dtype --models taesd,kl \
        --sizes 512 --batch 1 --repeats 5
done

step "4. loading a 512 MiB float32 file as float16 on the GPU"
timeout 40 python3 bench/bench_load_memory.py --device cuda

step "5. DCGAN training and sampling"
timeout 45 python3 bench/bench_gan.py --device cuda --batches 30 --steps 60

echo; echo "done in $((SECONDS - start)) s"
