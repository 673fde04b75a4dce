"""Execute notebooks the way a Colab reader does, and report what their outputs show.

    python tests/colab/run_notebooks.py OUT.json NOTEBOOK.ipynb ...

Run by tests/test_colab.py in a subprocess whose environment makes the kernel Colab-like (the library
from an installed wheel, the working directory outside the checkout, no myst_nb).  Every notebook is run
top to bottom with nbclient; OUT.json gets, per notebook, the error (if any), the seconds it took, the
longest wait between one cell's end and the next cell's start (a kernel client held up by a widget shows
there, not as an error), and the text of every output, so that the test can look for raw MyST markup and
for the location the runtime cell reports for srgan_lib.
"""
import json
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def output_texts(nb) -> list[str]:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(out.get("text", ""))
            for mime in ("text/plain", "text/markdown", "text/html"):
                data = out.get("data", {}).get(mime)
                if data:
                    texts.append(data if isinstance(data, str) else "".join(data))
    return texts


def longest_wait(nb) -> tuple[float, int | None]:
    """(seconds, index of the cell that waited) of the longest gap between a code cell's end (kernel idle)
    and the next code cell's start, from nbclient's timing metadata."""
    worst, where, idle = 0.0, None, None
    for i, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" not in timing:
            continue
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        if idle is not None and (start - idle).total_seconds() > worst:
            worst, where = (start - idle).total_seconds(), i
        idle = datetime.fromisoformat(timing["iopub.status.idle"].replace("Z", "+00:00"))
    return worst, where


def main(out_json: str, *paths: str) -> int:
    report = {}
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        t0 = time.perf_counter()
        error = None
        try:
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(Path(p).parent)}}).execute()
        except CellExecutionError as exc:
            error = str(exc)[-4000:]
        wait, cell = longest_wait(nb)
        report[Path(p).name] = {"error": error, "seconds": time.perf_counter() - t0, "longest_wait": wait,
                                "waiting_cell": cell, "outputs": output_texts(nb)}
    Path(out_json).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
