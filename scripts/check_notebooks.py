#!/usr/bin/env python3
"""Check the book's notebooks before they are committed or built.

    python scripts/check_notebooks.py            # exit 1 and list the problems
    python scripts/check_notebooks.py --fix      # strip outputs and rewrite the repository links
    python scripts/check_notebooks.py --words    # prose words per chapter

Checks every ``book/*.ipynb``:

* committed without outputs: no outputs, no execution counts (the book build and CI execute them);
* the Colab badge of the first cell and the ``SRGAN_REPO = "..."`` line of the Colab install cell point
  at ``repository.url`` / ``repository.branch`` of ``_config.yml`` (the ONE place the URL is set; the
  launch buttons and the repository button of the site read it directly);
* the chapter skeleton (docs/BOOK_STYLE.md): a ``parameters``-tagged cell with ``MODE`` as a Colab form field
  resolved by ``runtime.resolve_mode`` (``SRGAN_MODE`` wins), a Colab-only install cell, the runtime cell (versions, mode)
  and the GPU instruction, "Summary", "Exercises" and "Further reading" sections, solutions hidden in
  ``<details>`` blocks, at least one executed coding solution (a Colab form cell, hidden on the site);
* everything renders on Colab as on the site: no MyST-only markup in markdown cells (roles such as
  ``{cite}``/``{numref}``/``{doc}``, directives in ``:::{...}`` or ```` ```{...} ```` fences, glue),
  no ``myst_nb`` in code cells, code lines within 88 columns;
* prose: at least :data:`MIN_WORDS` words of prose per chapter (markdown text without code and math).

``--fix`` strips outputs/execution counts and rewrites the badge and the install URL from _config.yml.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_RE = re.compile(r"\(https://colab\.research\.google\.com/github/([^)\s]+)\)")
REPO_RE = re.compile(r'^SRGAN_REPO = "([^"]*)"', re.M)
MAX_CODE_COLUMNS = 88
#: the repository URL the project started with; the book build warns while _config.yml still has it
PLACEHOLDER_URL = "https://github.com/srgan-book/srgan-book"
#: prose words a chapter must have (the closing chapter, 07_*, needs fewer)
MIN_WORDS = {"default": 2000, "07": 1500, "srgan_in_one_page": 1200}  # keyed by prefix or stem
#: MyST-only markup that Colab (plain Jupyter markdown) would show as raw text
MYST_ONLY = [
    (re.compile(r"\{(cite|cite:p|cite:t|numref|ref|doc|eq|glue|glue:text|glue:md|glue:figure|math|term|"
                r"download|abbr|sub|sup)\}`"), "a MyST role"),
    (re.compile(r"^\s*:{3,}\s*\{", re.M), "a MyST colon-fence directive"),
    (re.compile(r"^\s*`{3,}\s*\{", re.M), "a MyST directive"),
    (re.compile(r"^\s*\([\w-]+\)=\s*$", re.M), "a MyST target"),
    (re.compile(r"\{\{\s*\w+\s*\}\}"), "a MyST substitution"),
]


def read_config(root: Path = ROOT) -> tuple[str, str]:
    """(repository.url, repository.branch) of _config.yml (a tiny parser: no yaml dependency needed)."""
    text = (root / "_config.yml").read_text(encoding="utf-8")
    m = re.search(r"^repository:\s*\n((?:[ \t]+.*\n?)+)", text, re.M)
    if not m:
        raise SystemExit("_config.yml has no repository: section")
    block = m.group(1)
    url = re.search(r"^\s+url:\s*(\S+)", block, re.M)
    branch = re.search(r"^\s+branch:\s*(\S+)", block, re.M)
    return url.group(1).strip("'\"").rstrip("/"), (branch.group(1).strip("'\"") if branch else "main")


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "book").glob("*.ipynb"))


def colab_url(repo_url: str, branch: str, rel_path: str) -> str:
    slug = repo_url.split("github.com/", 1)[-1].rstrip("/")
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{rel_path}"


def badge_markdown(repo_url: str, branch: str, rel_path: str) -> str:
    return f"[![Open In Colab]({BADGE_IMG})]({colab_url(repo_url, branch, rel_path)})"


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _cells(nb_path: Path) -> list[dict]:
    return json.loads(nb_path.read_text(encoding="utf-8")).get("cells", [])


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def check_links(root: Path, repo_url: str, branch: str = "main") -> list[str]:
    """Problems with the badge / install URL of every notebook (empty list: all agree with _config.yml)."""
    repo_url = repo_url.rstrip("/")
    problems = []
    for nb_path in notebooks(root):
        rel = nb_path.relative_to(root).as_posix()
        cells = _cells(nb_path)
        want = colab_url(repo_url, branch, rel)
        first = _src(cells[0]) if cells else ""
        found = ["https://colab.research.google.com/github/" + m for m in BADGE_RE.findall(first)]
        if not found:
            problems.append(f"{rel}: the first cell has no Colab badge (want {want})")
        elif any(f != want for f in found):
            problems.append(f"{rel}: Colab badge points at {found[0]}, _config.yml says {want}")
        repos = [m for c in cells if c.get("cell_type") == "code" for m in REPO_RE.findall(_src(c))]
        if not repos:
            problems.append(f"{rel}: no Colab install cell (a line SRGAN_REPO = \"{repo_url}\")")
        elif any(r.rstrip("/") != repo_url for r in repos):
            problems.append(f"{rel}: install cell uses {repos[0]}, _config.yml says {repo_url}")
    return problems


def check_outputs(root: Path = ROOT) -> list[str]:
    problems = []
    for nb_path in notebooks(root):
        rel = nb_path.relative_to(root).as_posix()
        for i, c in enumerate(_cells(nb_path)):
            if c.get("cell_type") != "code":
                continue
            if c.get("outputs"):
                problems.append(f"{rel}: cell {i} has outputs (commit notebooks without outputs; --fix strips them)")
            if c.get("execution_count") is not None:
                problems.append(f"{rel}: cell {i} has an execution count (--fix clears it)")
    return problems


def prose_words(markdown: str) -> int:
    """Words of prose in markdown: code blocks, inline code, math, HTML tags and link targets removed."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " x ", text)  # an inline formula reads as one word
    text = re.sub(r"`[^`\n]*`", " x ", text)
    text = re.sub(r"<[^>\n]+>", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"^\s*\|?[-:| ]+\|\s*$", " ", text, flags=re.M)  # table rules
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", text))


def chapter_words(nb_path: Path) -> int:
    return sum(prose_words(_src(c)) for c in _cells(nb_path) if c.get("cell_type") == "markdown")


def _min_words(nb_path: Path) -> int:
    return MIN_WORDS.get(nb_path.stem, MIN_WORDS.get(nb_path.name[:2], MIN_WORDS["default"]))


def check_structure(root: Path = ROOT) -> list[str]:
    problems = []
    for nb_path in notebooks(root):
        rel = nb_path.relative_to(root).as_posix()
        cells = _cells(nb_path)
        code = [c for c in cells if c.get("cell_type") == "code"]
        md_cells = [c for c in cells if c.get("cell_type") == "markdown"]
        md = "\n".join(_src(c) for c in md_cells)
        params = [c for c in cells if "parameters" in _tags(c)]
        if not params or 'MODE = "auto"' not in _src(params[0]) or "# @param" not in _src(params[0]):
            problems.append(f"{rel}: no parameters-tagged cell with MODE as a Colab form field "
                            "(MODE = \"auto\"  # @param [...])")
        if not any('"google.colab" in sys.modules' in _src(c) for c in code):
            problems.append(f"{rel}: no Colab-only install cell (if \"google.colab\" in sys.modules: ...)")
        if not any("runtime.resolve_mode(MODE)" in _src(c) and "runtime.format_description(mode=MODE)" in _src(c)
                   for c in code):
            problems.append(f"{rel}: no runtime cell with MODE = runtime.resolve_mode(MODE) and "
                            "print(runtime.format_description(mode=MODE))")
        if "Change runtime type" not in md:
            problems.append(f"{rel}: no GPU instruction (Runtime > Change runtime type > GPU) in the text")
        for heading in ("## Summary", "## Exercises", "## Further reading"):
            if heading not in md:
                problems.append(f"{rel}: no '{heading}' section")
        if "<details>" not in md:
            problems.append(f"{rel}: exercise solutions are not hidden in <details> blocks")
        if md.count("<details>") != md.count("</details>"):
            problems.append(f"{rel}: unbalanced <details> ... </details>")
        solutions = [c for c in code if _src(c).lstrip().startswith("# @title Solution")]
        if not solutions:
            problems.append(f"{rel}: no executed coding solution (a code cell starting '# @title Solution')")
        for c in solutions:
            if c.get("metadata", {}).get("cellView") != "form" or "hide-cell" not in _tags(c):
                problems.append(f"{rel}: solution cell {cells.index(c)} must be hidden on Colab "
                                "(metadata cellView: form) and on the site (tag hide-cell)")
        for i, c in enumerate(cells):
            src = _src(c)
            if c.get("cell_type") == "markdown":
                for pattern, what in MYST_ONLY:
                    m = pattern.search(src)
                    if m:
                        problems.append(f"{rel}: markdown cell {i} uses {what} ({m.group(0).strip()!r}), "
                                        "which Colab shows as raw text")
            elif c.get("cell_type") == "code":
                if re.search(r"^\s*(from|import)\s+myst_nb\b", src, re.M):
                    problems.append(f"{rel}: code cell {i} imports myst_nb (Colab has none)")
                for n, line in enumerate(src.splitlines(), 1):
                    if len(line) > MAX_CODE_COLUMNS:
                        problems.append(f"{rel}: code cell {i} line {n} is {len(line)} columns "
                                        f"(at most {MAX_CODE_COLUMNS})")
        words = chapter_words(nb_path)
        if words < _min_words(nb_path):
            problems.append(f"{rel}: {words} words of prose (at least {_min_words(nb_path)})")
    return problems


def fix(root: Path, repo_url: str, branch: str) -> None:
    for nb_path in notebooks(root):
        rel = nb_path.relative_to(root).as_posix()
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for c in nb.get("cells", []):
            if c.get("cell_type") == "code":
                c["outputs"], c["execution_count"] = [], None
                src = _src(c)
                src = REPO_RE.sub(f'SRGAN_REPO = "{repo_url}"', src)
                c["source"] = src.splitlines(keepends=True)
        if nb.get("cells"):
            first = _src(nb["cells"][0])
            new = re.sub(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)", badge_markdown(repo_url, branch, rel), first)
            nb["cells"][0]["source"] = new.splitlines(keepends=True)
        nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fix", action="store_true", help="strip outputs and rewrite the links from _config.yml")
    ap.add_argument("--words", action="store_true", help="print the prose words of every chapter")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    url, branch = read_config(args.root)
    if args.words:
        for nb_path in notebooks(args.root):
            print(f"{chapter_words(nb_path):6d}  {nb_path.name}")
        return 0
    if args.fix:
        fix(args.root, url, branch)
    problems = check_outputs(args.root) + check_links(args.root, url, branch) + check_structure(args.root)
    for p in problems:
        print(p, file=sys.stderr)
    n = len(notebooks(args.root))
    if problems:
        print(f"check_notebooks: {len(problems)} problem(s) in {n} notebook(s)", file=sys.stderr)
        return 1
    print(f"check_notebooks: {n} notebook(s) OK (no outputs; links match {url} @ {branch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
