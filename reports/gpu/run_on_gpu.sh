#!/usr/bin/env bash
# The GPU measurement, run once on a leased machine with one NVIDIA GPU, PyTorch and JAX but no
# TensorFlow and no network.  Needs beside the tree:
#   .whl/                 keras and the two dependencies that machine lacks (namex, optree), cp312 wheels
#   .data/fashion-mnist/  the four Fashion-MNIST IDX files (full MNIST cannot be downloaded there)
# and in the environment OUT (a folder for the results) and BENCH_COMMIT (the commit measured:
# pass it from a checkout, e.g. BENCH_COMMIT=$(git rev-parse HEAD), since that copy has no .git).
#
# The full profile runs on the JAX backend, then on the PyTorch backend; accuracy first, then speed,
# each phase under a deadline (BENCH_DEADLINE) so that whatever was measured is written out.
# The lease is 15 minutes in all, so resnet trains 5 epochs instead of the recipe's 20 and the
# first step is probed once: both are recorded as overrides in the results.
set -u
if [ -z "${SKIP_WHEELS:-}" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
export BENCH_FASHION_MNIST_DIR="$PWD/.data/fashion-mnist"
if [ -z "${BENCH_OVERRIDES:-}" ]; then
    export BENCH_OVERRIDES='{"epochs": {"cnn": 3, "resnet": 5}, "first_step_rounds": 1}'
fi
PROFILE="${PROFILE:-full}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/device.csv" 2>&1
start=$(date +%s)

phase() {  # phase BACKEND NAME SECONDS SELECTION
    echo "== $1 $2 (budget $3 s, at $(($(date +%s) - start)) s)"
    KERAS_BACKEND=$1 BENCH_DEADLINE=$(($(date +%s) + $3)) \
        python3 -m bench run --profile "$PROFILE" --out "$OUT/results-$1-$2.json" -k "$4" 2>&1 \
        | grep -E "PASSED|FAILED|SKIPPED|ERROR|error|passed|failed"
}

phase jax accuracy "${JAX_ACCURACY_S:-190}" accuracy
phase jax speed "${JAX_SPEED_S:-110}" "not accuracy"
phase torch accuracy "${TORCH_ACCURACY_S:-110}" accuracy
phase torch speed "${TORCH_SPEED_S:-80}" "not accuracy"
echo "total $(($(date +%s) - start)) s"
