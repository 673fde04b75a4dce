#!/usr/bin/env bash
# The test suite: everything on the TensorFlow backend, then the backend-dependent tests again on JAX.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
source scripts/env.sh
echo "SRGAN_DATA_DIR=${SRGAN_DATA_DIR:-<unset: data tests skip>}"
echo "SRGAN_VGG19_WEIGHTS=${SRGAN_VGG19_WEIGHTS:-<unset: VGG tests skip>}"
echo "== KERAS_BACKEND=jax: backend-dependent tests =="
KERAS_BACKEND=jax "$PY" -m pytest -q --durations=10 -m backend "$@"
echo "== KERAS_BACKEND=tensorflow: all tests =="
KERAS_BACKEND=tensorflow "$PY" -m pytest -q --durations=15 "$@"
