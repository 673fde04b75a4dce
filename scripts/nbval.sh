#!/usr/bin/env bash
# `make nbval`: every chapter run by nbval in the project's environment (smoke mode), with the outputs of
# the cells tagged nbval-check-output compared with their pinned values (tests/nbval/expected_outputs.json).
# CI runs the same check in a kernel with Colab's package versions (tests/test_colab.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"  # absolute: the run happens in another folder
source scripts/env.sh
export SRGAN_MODE="${SRGAN_MODE:-smoke}" MPLBACKEND="module://matplotlib_inline.backend_inline"
refs="_build/nbval"
rm -rf "$refs"
"$PY" scripts/nbval_references.py --out "$refs" >/dev/null
cd "$refs"
printf '[pytest]\n' > pytest.ini  # not the checkout's test configuration
"$PY" -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
  --nbval-sanitize-with ../../tests/nbval/sanitize.cfg "$@" ./*.ipynb
