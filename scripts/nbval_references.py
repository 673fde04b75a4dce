"""The chapter outputs that must not drift, pinned for nbval.

The chapters are committed without outputs, so plain ``pytest --nbval-lax book/`` can only check that every
cell runs (and the chapters' hidden assert cells).  The cells tagged ``nbval-check-output`` print what
must not drift from one commit to the next: parameter counts, the bicubic and shipped-model PSNR/SSIM on
Set5, a loss value on a fixed batch, the dataset facts the protocol relies on.  Their expected outputs
(text only: stdout, text/plain, text/markdown) live in ``tests/nbval/expected_outputs.json``.

    python scripts/nbval_references.py --out DIR        # reference copies of the chapters for nbval
    pytest --nbval-lax --nbval-sanitize-with tests/nbval/sanitize.cfg DIR/*.ipynb
    python scripts/nbval_references.py --update         # re-pin from the last `make book`

``--out`` writes each chapter with the pinned outputs put into its tagged cells, which is what nbval
compares a fresh run against.  ``--update`` reads the notebooks the book build executed
(``_build/jupyter_execute/book``); review the diff of the JSON before committing it.  ``--check``
compares that build's outputs with the pinned ones, without running anything.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAG = "nbval-check-output"
EXPECTED = ROOT / "tests" / "nbval" / "expected_outputs.json"
SANITIZE = ROOT / "tests" / "nbval" / "sanitize.cfg"
EXECUTED = ROOT / "_build" / "jupyter_execute" / "book"
TEXT_MIMES = ("text/plain", "text/markdown")


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def tagged_cells(nb: dict) -> list[dict]:
    """The code cells of a notebook (as JSON) that carry the ``nbval-check-output`` tag."""
    return [c for c in nb["cells"]
            if c["cell_type"] == "code" and TAG in c.get("metadata", {}).get("tags", [])]


def text_outputs(outputs: list[dict]) -> list[dict]:
    """The outputs nbval compares, as nbformat dicts: stdout (one stream), and the text of rich outputs.
    stderr is left out (library warnings differ between package versions); images are left out (nbval
    does not compare them either)."""
    stdout = "".join(_text(o["text"]) for o in outputs
                     if o["output_type"] == "stream" and o.get("name") == "stdout")
    kept = [{"output_type": "stream", "name": "stdout", "text": stdout}] if stdout else []
    for o in outputs:
        if o["output_type"] in ("display_data", "execute_result"):
            data = {m: _text(o["data"][m]) for m in TEXT_MIMES if m in o.get("data", {})}
            if data:
                kept.append({"output_type": "display_data", "data": data, "metadata": {}})
    return kept


def sanitize_patterns() -> list[tuple[str, str]]:
    """(regex, replacement) pairs of tests/nbval/sanitize.cfg, read the way nbval reads them."""
    return re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZE.read_text(), flags=re.M)


def sanitized(outputs: list[dict]) -> list[dict]:
    patterns = sanitize_patterns()
    out = copy.deepcopy(outputs)
    for o in out:
        fields = [("text", o)] if "text" in o else [(m, o["data"]) for m in o.get("data", {})]
        for key, holder in fields:
            for regex, replace in patterns:
                holder[key] = re.sub(regex, replace, holder[key])
    return out


def read_expected() -> dict[str, dict[str, list[dict]]]:
    return json.loads(EXPECTED.read_text())


def write_references(out_dir: Path, notebooks: list[Path]) -> list[Path]:
    """Copies of ``notebooks`` in ``out_dir`` whose tagged cells hold the pinned outputs (and an execution
    count, without which nbval compares nothing); every other cell stays as committed."""
    expected = read_expected()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = json.loads(path.read_text())
        pinned = expected.get(path.name, {})
        for cell in tagged_cells(nb):
            if cell["id"] not in pinned:
                raise SystemExit(f"{path.name}: cell {cell['id']} is tagged {TAG} but has no pinned output "
                                 f"in {EXPECTED.relative_to(ROOT)}; run {Path(__file__).name} --update")
            cell["outputs"], cell["execution_count"] = copy.deepcopy(pinned[cell["id"]]), 1
        target = out_dir / path.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    return written


def executed_outputs(executed_dir: Path, notebooks: list[Path]) -> dict[str, dict[str, list[dict]]]:
    """{notebook: {cell id: text outputs}} of the tagged cells in the notebooks a build executed."""
    found = {}
    for path in notebooks:
        done = executed_dir / path.name
        if not done.is_file():
            raise SystemExit(f"{done} is missing: build the book first (make book)")
        tagged = [c["id"] for c in tagged_cells(json.loads(path.read_text()))]  # the tags of the source
        by_id = {c.get("id"): c for c in json.loads(done.read_text())["cells"]}
        missing = [i for i in tagged if i not in by_id]
        if missing:
            raise SystemExit(f"{done} has no cell {', '.join(missing)}: build the book again (make book)")
        cells = {i: sanitized(text_outputs(by_id[i].get("outputs", []))) for i in tagged}
        if cells:
            found[path.name] = cells
    return found


def differences(executed_dir: Path, notebooks: list[Path]) -> list[str]:
    """How the tagged cells' outputs of an executed build differ from the pinned ones (sanitized)."""
    expected, got = read_expected(), executed_outputs(executed_dir, notebooks)
    problems = []
    for name in sorted(set(expected) | set(got)):
        for cell in sorted(set(expected.get(name, {})) | set(got.get(name, {}))):
            want = sanitized(expected.get(name, {}).get(cell, []))
            have = sanitized(got.get(name, {}).get(cell, []))
            if want != have:
                problems.append(f"{name} cell {cell}: pinned {json.dumps(want)[:600]}\n"
                                f"    built  {json.dumps(have)[:600]}")
    return problems


def book_notebooks() -> list[Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import BOOK_NOTEBOOKS  # _toc.yml's notebooks

    return list(BOOK_NOTEBOOKS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", type=Path, help="write reference copies of the chapters into this folder")
    what.add_argument("--update", action="store_true", help="pin the tagged cells' outputs of the last build")
    what.add_argument("--check", action="store_true", help="compare the last build's outputs with the pinned")
    parser.add_argument("--executed", type=Path, default=EXECUTED, help="the build's executed notebooks")
    args = parser.parse_args(argv)
    notebooks = book_notebooks()
    if args.out:
        for p in write_references(args.out, notebooks):
            print(p)
    elif args.update:
        got = executed_outputs(args.executed, notebooks)
        empty = [f"{n} cell {c}" for n, cells in got.items() for c, outs in cells.items() if not outs]
        if empty:
            raise SystemExit(f"tagged cells without output (nothing to pin): {', '.join(empty)}")
        EXPECTED.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
        print(f"{EXPECTED.relative_to(ROOT)}: {sum(map(len, got.values()))} cells in {len(got)} notebooks")
    else:
        problems = differences(args.executed, notebooks)
        print("\n".join(problems) or "the build's outputs equal the pinned outputs")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
