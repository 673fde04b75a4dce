#!/usr/bin/env bash
# `make lab`: JupyterLab on book/ in the project's environment, with the offline data variables set
# (scripts/env.sh) and matplotlib's notebook backend (env.sh selects Agg for the scripts and tests).
# SRGAN_LAB_DIR: another folder to serve (default book/); further arguments go to JupyterLab.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
source scripts/env.sh
unset MPLBACKEND
if [ "$(id -u)" = 0 ]; then set -- --allow-root "$@"; fi  # containers and CI run as root
exec "$PY" -m jupyterlab --notebook-dir="${SRGAN_LAB_DIR:-book}" "$@"
