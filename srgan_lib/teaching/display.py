"""Showing things in a chapter so that they look the same on Colab, in Jupyter and on the built site.

The book's pages are notebooks.  Colab renders plain Jupyter markdown; the site (Jupyter Book) renders
MyST.  Everything a cell displays is therefore plain markdown -- GitHub tables, blockquotes, fenced code
-- which both render, and never MyST-only markup (roles, directives, glue).

* :func:`markdown_table` / :func:`show_table`: a table, displayed once (never printed and rendered).  The
  ``show_*`` functions and :func:`note` display and return None, so that a cell ending in one of them
  does not also echo the markdown as a string;
* :func:`note`: a highlighted remark (a blockquote with a bold label) -- the portable admonition;
* :func:`show_source`: the source of a library object, so the model code a learner came for is on the
  page while the library stays its single source;
* :func:`show_figure`: display a matplotlib figure once and close it;
* :func:`live_widgets`: ``ipywidgets`` in a live kernel, ``None`` while the book build executes the
  notebook (the chapter then draws the widget's static fallback);
* :func:`figure_widget`: a matplotlib figure that redraws when controls change, as an ``ipywidgets.Image``
  (no ``Output`` widget, which can hold up a kernel that runs headless), and :func:`tabs`, titled tabs
  that work under ipywidgets 7 (Colab) and 8.
"""
from __future__ import annotations

import inspect
import os
import textwrap

__all__ = ["say", "markdown_table", "show_table", "note", "show_source", "source_of", "show_figure", "live_widgets",
           "figure_png", "figure_widget", "tabs", "BUILD_ENV"]

#: set to "1" by the book build (book/_ext/srgan_book_ext.py) while it executes the notebooks
BUILD_ENV = "SRGAN_BOOK_BUILD"


def _display_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(header, rows, align=None) -> str:
    """A GitHub-flavoured markdown table: ``header`` is a list of column titles, ``rows`` lists of cells
    (converted with ``str``), ``align`` a string of ``l``/``r``/``c`` per column (default: left)."""
    header = [_cell(h) for h in header]
    rows = [[_cell(v) for v in row] for row in rows]
    if any(len(r) != len(header) for r in rows):
        raise ValueError(f"markdown_table: every row needs {len(header)} cells")
    align = align or "l" * len(header)
    if len(align) != len(header) or set(align) - set("lrc"):
        raise ValueError(f"markdown_table: align must have one of l/r/c per column, got {align!r}")
    rule = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule[a] for a in align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def say(text: str) -> None:
    """Display a sentence (markdown) whose numbers a cell computed: how the chapters put computed
    values into their prose."""
    _display_markdown(text)


def show_table(header, rows, align=None, caption: str | None = None) -> None:
    """Display :func:`markdown_table`, with an italic caption line above it."""
    text = markdown_table(header, rows, align)
    if caption:
        text = f"*{caption}*\n\n{text}"
    _display_markdown(text)


def note(text: str, label: str = "Note") -> None:
    """Display ``text`` (markdown) as a blockquote headed by a bold ``label``."""
    body = textwrap.dedent(text).strip().splitlines() or [""]
    body[0] = f"**{label}.** {body[0]}"
    _display_markdown("\n".join("> " + line if line.strip() else ">" for line in body))


def source_of(obj) -> str:
    """The source code of a function, class or method, dedented."""
    return textwrap.dedent(inspect.getsource(obj)).rstrip() + "\n"


def show_source(obj, title: str | None = None) -> None:
    """Display the source of ``obj`` as a fenced Python block, headed by where it lives."""
    module = inspect.getmodule(obj)
    where = title or f"`{module.__name__}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}`"
    _display_markdown(f"{where}:\n\n```python\n{source_of(obj)}```")


def show_figure(fig) -> None:
    """Display a matplotlib figure once and close it (so the inline backend does not show it again)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)


def live_widgets():
    """The ``ipywidgets`` module when a person can use widgets here, else None.

    None while the book build executes the notebook (``$SRGAN_BOOK_BUILD`` is ``"1"``: the page is
    static, so the chapter draws the widget's static fallback instead) or when ipywidgets is missing.
    """
    if os.environ.get(BUILD_ENV) == "1":
        return None
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


def figure_png(fig, dpi: int = 100) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def figure_widget(draw, controls: dict):
    """An ``ipywidgets.Image`` showing ``draw(**values)`` (a matplotlib figure) for the current values of
    ``controls`` (``{argument name: widget}``), redrawn whenever one of them changes.

    The figure travels as a PNG in the widget's state.  Unlike ``ipywidgets.interactive_output``, no
    ``Output`` widget captures display messages, so executing the cell without a front end (nbconvert,
    Jupyter Book, CI) cannot hold the kernel's client up waiting for them; and it looks the same under
    ipywidgets 7 and 8.
    """
    import ipywidgets as w

    image = w.Image(format="png")

    def redraw(*_):
        image.value = figure_png(draw(**{name: c.value for name, c in controls.items()}))

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return image


def tabs(children, titles):
    """An ``ipywidgets.Tab`` of ``children`` titled ``titles``, under ipywidgets 7 and 8 alike (8 has a
    ``titles`` trait, 7 only ``set_title``, which 8 keeps)."""
    import ipywidgets as w

    tab = w.Tab(children=list(children))
    for i, title in enumerate(titles):
        tab.set_title(i, str(title))
    return tab

