"""srgan_lib.teaching.display: portable markdown for Colab and the site."""
from __future__ import annotations

import pytest

from srgan_lib.teaching import display as d


def test_markdown_table_escapes_and_aligns():
    t = d.markdown_table(["model", "PSNR"], [["a|b", 30.5], ["c", 28]], align="lr")
    assert t.splitlines() == ["| model | PSNR |", "|---|---:|", "| a\\|b | 30.5 |", "| c | 28 |"]
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        d.markdown_table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="align"):
        d.markdown_table(["a"], [[1]], align="x")


def test_note_is_a_blockquote_with_a_label(monkeypatch):
    shown = []
    monkeypatch.setattr(d, "_display_markdown", shown.append)
    assert d.note("first line\n\nsecond *line*", label="GPU") is None  # a cell ending in it echoes nothing
    assert shown == ["> **GPU.** first line\n>\n> second *line*"]


def test_show_source_displays_the_library_code(monkeypatch):
    shown = []
    monkeypatch.setattr(d, "_display_markdown", shown.append)
    assert d.show_source(d.markdown_table) is None
    (out,) = shown
    assert out.startswith("`srgan_lib.teaching.display.markdown_table`:\n\n```python\ndef markdown_table(")
    assert out.endswith("```")


def test_show_table_displays_once_and_returns_nothing(monkeypatch):
    shown = []
    monkeypatch.setattr(d, "_display_markdown", shown.append)
    assert d.show_table(["a"], [[1]], caption="Table 1.") is None
    assert shown == ["*Table 1.*\n\n| a |\n|---|\n| 1 |"]


def test_live_widgets_is_off_during_the_book_build(monkeypatch):
    monkeypatch.setenv(d.BUILD_ENV, "1")
    assert d.live_widgets() is None
    monkeypatch.delenv(d.BUILD_ENV)
    pytest.importorskip("ipywidgets")
    assert d.live_widgets() is not None


def test_figure_widget_redraws_a_png_when_a_control_changes():
    w = pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    calls = []

    def draw(n):
        calls.append(n)
        fig, ax = plt.subplots(figsize=(1 + n, 1))
        ax.plot(range(n + 1))
        return fig

    n = w.IntSlider(value=1, min=1, max=3)
    open_before = plt.get_fignums()  # other tests may leave figures open
    image = d.figure_widget(draw, {"n": n})
    first = bytes(image.value)
    assert isinstance(image, w.Image) and first.startswith(b"\x89PNG") and calls == [1]
    n.value = 3
    assert calls == [1, 3] and bytes(image.value) != first and bytes(image.value).startswith(b"\x89PNG")
    assert plt.get_fignums() == open_before  # every drawn figure was closed


def test_tabs_are_titled_under_ipywidgets_7_and_8():
    w = pytest.importorskip("ipywidgets")
    tab = d.tabs([w.Label("a"), w.Label("b")], ["Set5", "Set14"])
    assert [tab.get_title(i) for i in range(2)] == ["Set5", "Set14"]
