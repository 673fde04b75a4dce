"""A pytest plugin for the nbval run of tests/test_colab.py (``-p record_outputs``): writes, per notebook,
every cell's outputs as nbval received them, its wall time and whether it failed, to the JSON file named
by ``$SRGAN_NBVAL_RECORD``, so that the test can read what the chapters printed under Colab's
conditions (raw MyST markup, the runtime cell's report) from the same run that nbval checked."""
import json
import os
import time
from pathlib import Path

import pytest

_RECORD: dict[str, list[dict]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    start = time.perf_counter()
    outcome = yield
    outputs = getattr(item, "test_outputs", None) or []
    _RECORD.setdefault(Path(str(item.fspath)).name, []).append({
        "cell": getattr(item, "cell_num", None),
        "seconds": time.perf_counter() - start,
        "failed": outcome.excinfo is not None,
        "outputs": [dict(o) for o in outputs],
    })


def pytest_sessionfinish(session):
    target = os.environ.get("SRGAN_NBVAL_RECORD")
    if target:
        Path(target).write_text(json.dumps(_RECORD, default=str))
