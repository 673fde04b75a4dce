"""srgan_lib.teaching.crops: the table of the test images the book's figures crop."""
import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import srgan_lib
from srgan_lib.errors import InputNotFoundError, UserError
from srgan_lib.teaching import crops

BOOK = Path(__file__).resolve().parents[1] / "book"


def test_no_image_is_cropped_by_more_than_three_figures():
    counts = crops.figures_per_image()
    over = {f"{s}/{n}": k for (s, n), k in counts.items() if k > crops.MAX_FIGURES}
    assert crops.MAX_FIGURES == 3
    assert not over, f"images cropped by more than {crops.MAX_FIGURES} figures: {over}"


def test_the_count_catches_an_overused_image():
    table = dict(crops.FIGURES)
    table.update({f"9.{k}": (("Set14", "baboon"),) for k in range(4)})
    assert crops.figures_per_image(table)[("Set14", "baboon")] > crops.MAX_FIGURES
    # an image shown twice in one figure counts once
    assert crops.figures_per_image({"1": (("a", "x"), ("a", "x"))})[("a", "x")] == 1


def test_every_listed_image_exists_in_its_set():
    manifests = json.loads((Path(srgan_lib.__file__).parent / "data" /
                            "manifests.json").read_text())
    for figure, pairs in crops.FIGURES.items():
        assert pairs, figure
        for set_name, name in pairs:
            files = {Path(f).stem for f in manifests[set_name]}
            assert name in files, f"figure {figure}: {set_name} has no image {name!r}"


def test_every_listed_figure_is_a_figure_of_the_book():
    captions = set()
    for nb in BOOK.glob("*.ipynb"):
        for cell in json.loads(nb.read_text())["cells"]:
            m = re.match(r"\*\*(?:Table \S+ and )?Figure (\d+(?:\.\d+)?)\.\*\*",
                         "".join(cell["source"]))
            if cell["cell_type"] == "markdown" and m:
                captions.add(m.group(1) if nb.stem != "srgan_in_one_page" else "onepage")
    assert set(crops.FIGURES) <= captions, set(crops.FIGURES) - captions


def test_load_reads_only_the_listed_images(tmp_path, monkeypatch):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(tmp_path))
    (tmp_path / "Set14" / "HR").mkdir(parents=True)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (30, 21, 3), dtype=np.uint8)
    for name in ("baboon", "comic", "zebra"):
        Image.fromarray(pixels).save(tmp_path / "Set14" / "HR" / f"{name}.png")
    loaded = crops.load("6.2")
    assert [n for n, _ in loaded] == ["baboon", "comic"]
    np.testing.assert_array_equal(loaded[0][1], pixels[:28, :20])  # modcropped to 4
    with pytest.raises(InputNotFoundError):
        crops.load("2.5")  # Set5 and BSD100 are not cached here
    with pytest.raises(UserError):
        crops.images_of("0.0")
    assert crops.names_of("6.2") == ["baboon", "comic"]


def test_load_from_the_benchmark_sets(data_dir):
    for figure in crops.FIGURES:
        loaded = crops.load(figure, cache_dir=data_dir)
        assert [n for n, _ in loaded] == crops.names_of(figure)
        assert all(hr.ndim == 3 and hr.shape[2] == 3 and hr.dtype == np.uint8
                   for _, hr in loaded)


# ------------------------------------------------------------------ the book reads the table

def _strip_figures() -> set[str]:
    """The figures whose crops a training run's sample strips pick: the module docstring names
    them in its paragraph about sample strips."""
    paragraph = next(p for p in crops.__doc__.split("\n\n") if "sample strip" in p)
    return set(re.findall(r"\b\d+\.\d+\b", paragraph))


#: literals in the book's code that name a benchmark image but choose no crop: (notebook, name)
NOT_CROPS = {
    ("02_srresnet.ipynb", "head"): "the head of SRResNet (a part of the network), not Set5's head",
    ("04_discriminator.ipynb", "head"): "the discriminator's head, not Set5's head",
    ("06_evaluation.ipynb", "bridge"): "Set14's gray image, evaluated whole (Table 6.3)",
    ("06_evaluation.ipynb", "butterfly"): "the spot check of whole images (Table 6.6)",
}


def _notebook_of(figure: str) -> Path:
    if figure == "onepage":
        return BOOK / "srgan_in_one_page.ipynb"
    found = sorted(BOOK.glob(f"{int(figure.split('.')[0]):02d}_*.ipynb"))
    assert len(found) == 1, f"figure {figure}: expected one chapter notebook, found {found}"
    return found[0]


def _code_cells(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def _reads_through_table(cells: list[dict], figure: str) -> bool:
    """Whether a code cell calls ``load``, ``images_of`` or ``names_of`` of ``figure``."""
    call = re.compile(r"\b(?:load|images_of|names_of)\(\s*(['\"])" + re.escape(figure) + r"\1")
    return any(call.search("".join(c["source"])) for c in cells)


def _benchmark_names() -> set[str]:
    manifests = json.loads((Path(srgan_lib.__file__).parent / "data" /
                            "manifests.json").read_text())
    return {Path(f).stem for s in ("Set5", "Set14", "BSD100") for f in manifests[s]}


def _hard_coded_names(cells: list[dict], names: set[str]) -> list[tuple[str, str]]:
    """``(cell id, name)`` of every string literal equal to a benchmark image's name in the
    code cells, except those of the CI's checks (tag remove-cell), which crop nothing."""
    found = []
    for cell in cells:
        if "remove-cell" in cell.get("metadata", {}).get("tags", []):
            continue
        source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append((cell.get("id"), node.value))
    return found


def test_the_strip_figures_are_named_in_the_docstring():
    strips = _strip_figures()
    assert strips and strips <= set(crops.FIGURES), strips


def _read_as(figure: str, cells: list[dict]) -> str | None:
    """The key under which the chapter reads ``figure``'s crop: its own, or that of an earlier
    figure of the same chapter with the same images (a figure that shows the crop of an earlier one
    again, as chapter 3's Figures 3.3 and 3.4 show the reference crop of Figure 3.2, is listed
    under its own number so that the count per image is right)."""
    if _reads_through_table(cells, figure):
        return figure
    same = [f for f in crops.FIGURES if f != figure and f.split(".")[0] == figure.split(".")[0]
            and crops.FIGURES[f] == crops.FIGURES[figure] and f < figure]
    return next((f for f in same if _reads_through_table(cells, f)), None)


@pytest.mark.parametrize("figure", [f for f in crops.FIGURES if f not in _strip_figures()])
def test_the_book_reads_each_figures_images_through_the_table(figure):
    notebook = _notebook_of(figure)
    assert _read_as(figure, _code_cells(notebook)), (
        f"{notebook.name} has no code cell that reads figure {figure}'s images through "
        f"srgan_lib.teaching.crops (load, images_of or names_of of {figure!r}, or of an earlier "
        "figure of the chapter with the same images)")


def test_no_code_cell_hard_codes_a_benchmark_image():
    names = _benchmark_names()
    found = {(nb.name, cid, name) for nb in sorted(BOOK.glob("*.ipynb"))
             for cid, name in _hard_coded_names(_code_cells(nb), names)
             if (nb.name, name) not in NOT_CROPS}
    assert not found, ("code cells that name a benchmark image instead of reading it from "
                       f"srgan_lib.teaching.crops: {sorted(found)}")


def test_the_book_checks_can_fail():
    cells = [{"cell_type": "code", "id": "a", "metadata": {},
              "source": ['hr = dict(test_sets["Set14"])["baboon"]\n', "x = 'img_009'"]},
             {"cell_type": "code", "id": "b", "metadata": {"tags": ["remove-cell"]},
              "source": ['assert REF == "monarch"']},
             {"cell_type": "code", "id": "c", "metadata": {},
              "source": ['%matplotlib inline\n', 'crops = book_crops.load("6.2")']}]
    names = _benchmark_names()
    assert sorted(_hard_coded_names(cells, names)) == [("a", "baboon"), ("a", "img_009")]
    assert _reads_through_table(cells, "6.2")
    assert not _reads_through_table(cells, "6.3") and not _reads_through_table(cells, "6.")
    assert _reads_through_table([{"source": ["book_crops.names_of( '7.2')"]}], "7.2")
    # a figure that repeats an earlier figure's crop counts as read through that figure's key
    read_32 = [{"source": ['ref = book_crops.load("3.2")']}]
    assert crops.FIGURES["3.3"] == crops.FIGURES["3.2"]
    assert _read_as("3.3", read_32) == "3.2" and _read_as("3.5", read_32) is None
    assert _read_as("3.2", [{"source": ['x = book_crops.load("3.3")']}]) is None
