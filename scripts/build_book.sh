#!/usr/bin/env bash
# Build the Jupyter Book site into _build/html, offline, executing every notebook (`make book`).
#   SRGAN_MODE   smoke (default: seconds per chapter on a CPU) | demo | full
#   PY           the Python of the virtual environment (the Makefile passes it)
# Warnings are errors (-W), all of them are reported (--keep-going), references are checked (-n), and an
# exception in any notebook cell fails the build (_config.yml: execute.allow_errors: false).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
source scripts/env.sh
# env.sh sets MPLBACKEND=Agg for the tests; notebook kernels need the inline backend for figures.
export MPLBACKEND="module://matplotlib_inline.backend_inline"
export SRGAN_MODE="${SRGAN_MODE:-smoke}"
export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}"
# Keep the notebooks' thread pools small: CI has 2 cores.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" TF_NUM_INTEROP_THREADS="${TF_NUM_INTEROP_THREADS:-1}" TF_NUM_INTRAOP_THREADS="${TF_NUM_INTRAOP_THREADS:-2}"
echo "SRGAN_MODE=$SRGAN_MODE KERAS_BACKEND=$KERAS_BACKEND"
echo "SRGAN_DATA_DIR=${SRGAN_DATA_DIR:-<unset: chapters fall back to the scikit-image sample images>}"
echo "SRGAN_VGG19_WEIGHTS=${SRGAN_VGG19_WEIGHTS:-<unset: VGG chapters need a network for ImageNet weights>}"

# 1. Notebooks are committed without outputs, and their Colab links agree with _config.yml.
"$PY" scripts/check_notebooks.py

# 2. Offline MathJax (optional): the site uses a local MathJax 3 when one is found (see book/_ext).
MJ_CACHE="$HOME/.cache/srgan-lib/mathjax"
if [ -z "${SRGAN_MATHJAX_DIR:-}" ] && [ ! -f "$MJ_CACHE/node_modules/mathjax/es5/tex-mml-chtml.js" ] && command -v npm >/dev/null; then
  mkdir -p "$MJ_CACHE"
  (cd "$MJ_CACHE" && timeout 120 npm install --no-audit --no-fund --silent mathjax@3.2.2 >/dev/null 2>&1) \
    || echo "note: no local MathJax (npm install failed); the site loads MathJax from its CDN"
fi

# 3. Build.
start=$(date +%s)
"$(dirname "$PY")/jupyter-book" build . --all --builder html -W -n --keep-going "$@"
echo "book built in $(( $(date +%s) - start )) s: $(pwd)/_build/html/index.html"
