"""The book's notebooks: committed without outputs, links agree with _config.yml, and they run.

* ``test_notebooks_committed_clean`` (fast, always): scripts/check_notebooks.py finds no output, no
  execution count, no Colab badge / install URL that disagrees with ``repository.url`` of _config.yml,
  and every chapter has its parameters cell, Colab install cell, summary and exercises.
* ``test_badge_check_catches_a_wrong_url`` (fast): the link check fails when the URL in _config.yml changes.
* The chapters are executed by the book build and by nbval in tests/test_colab.py, not here.  The cells
  tagged ``nbval-check-output`` have pinned outputs (tests/nbval/expected_outputs.json): here, that every
  tagged cell is pinned, that the reference copies nbval runs hold them, and that the last book build
  printed them.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import BOOK_NOTEBOOKS, CHAPTERS, load_script, toc_pages

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = BOOK_NOTEBOOKS


def _checker():
    return load_script("check_notebooks")


def test_the_toc_lists_every_page_and_the_seven_chapters():
    """_toc.yml is the one list of pages (the tests read it): every source under book/ is in it, and
    its numbered part is chapters 1 to 7 in order."""
    listed = {p.relative_to(ROOT) for p in toc_pages()}
    sources = {p.relative_to(ROOT) for p in (ROOT / "book").glob("*") if p.suffix in (".ipynb", ".md")}
    assert sources == listed, f"pages not in _toc.yml: {sorted(sources - listed)}"
    assert [p.name[:3] for p in CHAPTERS] == [f"0{i}_" for i in range(1, 8)], [p.name for p in CHAPTERS]
    assert all(p.suffix == ".ipynb" for p in CHAPTERS)


def test_notebooks_committed_clean():
    chk = _checker()
    url, branch = chk.read_config(ROOT)
    problems = chk.check_outputs(ROOT) + chk.check_links(ROOT, url, branch) + chk.check_structure(ROOT)
    assert not problems, "\n".join(problems)


def test_badge_check_catches_a_wrong_url(tmp_path):
    chk = _checker()
    (tmp_path / "book").mkdir()
    shutil.copy(NOTEBOOKS[0], tmp_path / "book" / NOTEBOOKS[0].name)
    url, branch = chk.read_config(ROOT)
    assert chk.check_links(tmp_path, url, branch) == []
    problems = chk.check_links(tmp_path, "https://github.com/someone-else/fork", branch)
    assert len(problems) == 2 and "Colab badge" in problems[0] and "install cell" in problems[1]
    # --fix rewrites both from _config.yml
    cfg = (ROOT / "_config.yml").read_text().replace(url, "https://github.com/someone-else/fork")
    (tmp_path / "_config.yml").write_text(cfg)
    assert chk.main(["--root", str(tmp_path), "--fix"]) == 0
    nb = json.loads((tmp_path / "book" / NOTEBOOKS[0].name).read_text())
    assert "someone-else/fork/blob/" in "".join(nb["cells"][0]["source"])


def test_every_tagged_cell_has_a_pinned_output():
    """The cells tagged ``nbval-check-output`` and tests/nbval/expected_outputs.json name the same cells,
    and every pinned cell has some output to compare."""
    refs = load_script("nbval_references")
    tagged = {(p.name, c["id"]) for p in NOTEBOOKS for c in refs.tagged_cells(json.loads(p.read_text()))}
    pinned = {(n, i) for n, cells in refs.read_expected().items() for i in cells}
    assert tagged == pinned, f"tagged, not pinned: {sorted(tagged - pinned)}; pinned, not tagged: {sorted(pinned - tagged)}"
    assert all(refs.read_expected()[n][i] for n, i in pinned)
    assert len(tagged) >= 10 and {n for n, _ in tagged} >= {p.name for p in CHAPTERS}


def test_references_put_the_pinned_outputs_where_nbval_compares_them(tmp_path):
    refs = load_script("nbval_references")
    (copy,) = refs.write_references(tmp_path, [ROOT / "book" / "02_srresnet.ipynb"])
    cells = {c["id"]: c for c in json.loads(copy.read_text())["cells"]}
    pinned = refs.read_expected()["02_srresnet.ipynb"]
    for cell_id, outputs in pinned.items():
        assert cells[cell_id]["outputs"] == outputs and cells[cell_id]["execution_count"] == 1
    others = [c for i, c in cells.items() if i not in pinned and c["cell_type"] == "code"]
    assert others and all(c["execution_count"] is None and not c["outputs"] for c in others)
    # the sanitizer nbval is given removes wall-clock times, and nothing else in the pinned text
    out = [{"output_type": "stream", "name": "stdout", "text": "16 patches in 1 batch, 3.7 s\nMSE 0.01283\n"}]
    assert refs.sanitized(out)[0]["text"] == "16 patches in 1 batch, <seconds> s\nMSE 0.01283\n"


def test_the_built_pages_print_the_pinned_outputs():
    """The book build executed every chapter once; its tagged cells printed what is pinned (what nbval
    then checks again under Colab's conditions, tests/test_colab.py)."""
    refs = load_script("nbval_references")
    if not refs.EXECUTED.is_dir():
        pytest.skip("the book is not built (make book)")
    problems = refs.differences(refs.EXECUTED, NOTEBOOKS)
    assert not problems, "\n".join(problems) + "\n(re-pin with: python scripts/nbval_references.py --update)"
