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
    out = d.note("first line\n\nsecond *line*", label="GPU")
    assert out == "> **GPU.** first line\n>\n> second *line*" and shown == [out]


def test_show_source_displays_the_library_code(monkeypatch):
    shown = []
    monkeypatch.setattr(d, "_display_markdown", shown.append)
    out = d.show_source(d.markdown_table)
    assert out.startswith("`srgan_lib.teaching.display.markdown_table`:\n\n```python\ndef markdown_table(")
    assert out.endswith("```") and shown == [out]


def test_live_widgets_is_off_during_the_book_build(monkeypatch):
    monkeypatch.setenv(d.BUILD_ENV, "1")
    assert d.live_widgets() is None
    monkeypatch.delenv(d.BUILD_ENV)
    pytest.importorskip("ipywidgets")
    assert d.live_widgets() is not None
