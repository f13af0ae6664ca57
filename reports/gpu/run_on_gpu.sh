#!/usr/bin/env bash
# The GPU measurement, as run once on a leased machine with one NVIDIA GPU, PyTorch and JAX
# but no TensorFlow and no network.  Needs beside the tree:
#   .whl/   keras and the two dependencies that machine lacks (namex, optree), cp312 wheels
#   .data/fashion-mnist/   the four Fashion-MNIST IDX files (full MNIST cannot be downloaded there)
# and, in the environment, OUT (a folder for results) and BENCH_COMMIT (the commit measured).
# The full profile runs on the JAX backend, then on the PyTorch backend, each under a deadline
# so that whatever was measured is written out.  The lease is short, so resnet trains 4 epochs
# (not the recipe's 20) and the first step is probed once: both are recorded as overrides.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
export BENCH_FASHION_MNIST_DIR="$PWD/.data/fashion-mnist"
export BENCH_OVERRIDES='{"epochs": {"cnn": 3, "resnet": 4}, "first_step_rounds": 1}'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/device.csv"
start=$(date +%s)
KERAS_BACKEND=jax BENCH_DEADLINE=$((start + ${JAX_SECONDS:-270})) \
    python3 -m bench run --profile full --out "$OUT/results-jax.json" 2>&1 | tee "$OUT/jax.log" | grep -E "PASS|FAIL|SKIP|ERROR|error"
KERAS_BACKEND=torch BENCH_DEADLINE=$(($(date +%s) + ${TORCH_SECONDS:-200})) \
    python3 -m bench run --profile full --out "$OUT/results-torch.json" 2>&1 | tee "$OUT/torch.log" | grep -E "PASS|FAIL|SKIP|ERROR|error"
echo "total $(($(date +%s) - start)) s"
